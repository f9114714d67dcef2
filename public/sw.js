// 直查 service worker: the app shell is precached so the app starts with no network at all.
// VERSION and PRECACHE are filled in after every build by scripts/precache.mjs (Trunk post_build).
const VERSION = '__ZHICHA_VERSION__';
const PRECACHE = __ZHICHA_PRECACHE__;
const CACHE = `zhicha-shell-${VERSION}`;
// Trunk's hashed files (`name-<16 hex>.ext`, `name-<16 hex>_bg.wasm`) never change under their name.
const HASHED = /-[0-9a-f]{16}(_bg)?\.[a-z0-9]+$/;

// What the page has just downloaded is in the browser's HTTP cache, compressed as it was sent:
// a hashed file is taken from there (the server marks it immutable), any other file is
// revalidated (a 304 when unchanged). Nothing the first visit loaded is downloaded twice.
const precacheRequest = (path) => new Request(path, { cache: HASHED.test(path) ? 'default' : 'no-cache' });

self.addEventListener('install', (event) => {
  // No skipWaiting here: the app decides when to switch, never while unsynced data exists.
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(PRECACHE.map(precacheRequest))));
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith('zhicha-shell-') && name !== CACHE) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

self.addEventListener('message', (event) => {
  if (event.data === 'zhicha:skip-waiting') self.skipWaiting();
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  // The API is never cached here: the app keeps its data in IndexedDB.
  if (url.pathname.startsWith('/api/') || url.pathname === '/healthz') return;
  if (request.mode === 'navigate') {
    // Every app route is the same shell (index.html, cached as '/'); the router inside picks the page.
    event.respondWith(caches.open(CACHE).then(async (cache) =>
      (await cache.match('/')) ?? fetch(request)));
    return;
  }
  event.respondWith(caches.open(CACHE).then(async (cache) =>
    (await cache.match(request, { ignoreSearch: true })) ?? fetch(request)));
});
