// An update: the bytes a phone holding the previous release receives from the server when a new
// release is deployed, until the new service worker is installed (its precache complete).
//
// A fresh headless Chromium visits the app once (the service worker installs and precaches), the
// server is killed and started again on the same port and data over a new release of dist/, and
// the phone opens the app again (a reload: the app registers its worker and asks for an update at
// start, `src/pwa.rs`; the browser also checks sw.js on navigation). Counted: every response to the
// page and to the service workers (old and new) from the moment the new server serves until the
// new worker is `installed` (waiting), as bench/first-visit.mjs counts them (CDP auto-attach to
// every target, Network.loadingFinished's encodedDataLength, headers included; a page request the
// worker answered is not counted). The browser reaches the server through a byte-counting proxy
// (bench/lib/meter.mjs), whose count of the same span is given in the note as a cross-check (it
// also sees what no DevTools target reports, such as the browser's own sw.js update check).
//
// A real second build is too slow here: the new release is synthetic (bench/lib/release.mjs says
// what it changes: the wasm, its hashed name and the glue's, index.html, sw.js, their compressed
// copies, every mtime).
//
// Usage: node --experimental-websocket update.mjs RESULTS.jsonl   (env: ZHICHA_SERVER_BIN, ZHICHA_DIST)
//   DEBUG=1  list every request
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect, freePort, instrument, remove, sleep, snapshot, startChromium, startServer, until } from './lib/cdp.mjs';
import { startMeter, route } from './lib/meter.mjs';
import { makeRelease } from './lib/release.mjs';
import { record } from './lib/stats.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const results = process.argv[2];
const DIST = resolve(process.env.ZHICHA_DIST ?? join(here, '..', 'dist'));
const scratch = process.env.BENCH_SCRATCH ?? tmpdir();
const debug = (...a) => { if (process.env.DEBUG) console.error(...a); };

const data = mkdtempSync(join(scratch, 'zhicha-update-data-'));
// The previous release is a copy of dist/ taken now (a rebuild of dist/ by someone else during
// the run changes nothing here); the next one is made from that copy.
const previous = snapshot(DIST, scratch);
const next = mkdtempSync(join(scratch, 'zhicha-update-dist-'));
const release = makeRelease(previous, next);
console.error(`  ${release.description}`);

const meter = await startMeter();
let server = await startServer({ port: await freePort(), data, dist: previous });
meter.setTarget(Number(new URL(server.url).port));
const browser = await startChromium();
const cdp = await connect(browser.endpoint);
try {
  const tab = await instrument(cdp);
  await tab.navigate(`${meter.url}/`);
  // The first visit is over when the worker is active and controls the page, and the network has
  // been quiet for two seconds.
  await tab.evaluate(`navigator.serviceWorker.ready.then(async () => {
    if (!navigator.serviceWorker.controller) await new Promise((r) => navigator.serviceWorker.addEventListener('controllerchange', r, { once: true }));
    return true;
  })`);
  while (Date.now() - tab.lastActivity() < 2_000) await sleep(200);
  const before = await tab.evaluate(`caches.keys()`);
  debug('caches after the first visit', before);

  // The new release is deployed: the server goes down and comes back over the new dist/.
  await server.stop();
  meter.setTarget(null);
  server = await startServer({ port: Number(new URL(server.url).port), data, dist: next });
  tab.requests.clear();
  meter.reset();
  meter.setTarget(Number(new URL(server.url).port));
  const from = Date.now();
  await tab.reload();
  // Installed: a new worker waits (the app shows its update offer; it never activates by itself).
  await until('the new service worker installed', () => tab.evaluate(
    `navigator.serviceWorker.getRegistration().then((r) => !!r?.waiting)`, 10_000), 180_000, 100);
  const installedAt = Date.now();
  // Events of responses that finished just before the state change may still be in flight.
  await sleep(500);
  const seconds = ((installedAt - from) / 1000).toFixed(1);

  const counted = [...tab.requests.values()].filter((r) => r.done && r.done <= installedAt + 500 && !r.viaWorker && !r.url.startsWith('data:'));
  const late = [...tab.requests.values()].filter((r) => r.done && r.done > installedAt + 500 && !r.viaWorker);
  const total = counted.reduce((sum, r) => sum + r.bytes, 0);
  const path = (u) => { try { return new URL(u).pathname; } catch { return u; } };
  const lines = counted.sort((a, b) => b.bytes - a.bytes)
    .map((r) => `${r.who} ${r.method} ${path(r.url)} ${r.status}${r.encoding ? ` ${r.encoding}` : ''} ${(r.bytes / 1024).toFixed(1)}`);
  for (const line of lines) console.error(`    ${line}`);
  const wire = meter.exchanges.filter((e) => e.done && e.done <= installedAt + 500);
  const wireDown = wire.reduce((s, e) => s + e.downHeader + e.downBody, 0);
  const wireLines = wire.map((e) => `${e.method} ${route(e.path)} ${e.status} ${((e.downHeader + e.downBody) / 1024).toFixed(1)}`);
  debug('on the wire:', wireLines.join('\n'));
  const changed = counted.filter((r) => release.changed.includes(path(r.url)) && r.bytes > (r.headerBytes ?? 0));
  const unchanged = counted.filter((r) => !release.changed.includes(path(r.url)) && r.bytes > (r.headerBytes ?? 0));
  const kb = (list) => (list.reduce((s, r) => s + r.bytes, 0) / 1024).toFixed(1);
  record(results, {
    id: 'update-bytes/zhicha',
    value: Math.round(total / 1024),
    unit: 'KB',
    note: `bytes received (CDP encodedDataLength, headers included, page and service-worker targets) by a phone holding the ` +
      `previous release, from the new server's start until the new service worker was installed (${seconds} s on loopback; ` +
      `the app reopened = a reload, which registers the worker and checks for an update): ${counted.length} responses; ` +
      `bodies of the changed files ${kb(changed)} KB (${changed.map((r) => path(r.url)).join(', ') || 'none'}), of unchanged files ` +
      `${kb(unchanged)} KB (${unchanged.map((r) => path(r.url)).join(', ') || 'none'}). On the wire (byte-counting proxy, ` +
      `server→browser, same span): ${(wireDown / 1024).toFixed(1)} KB in ${wire.length} responses` +
      `${late.length ? `; after the install ${late.length} more responses (not counted)` : ''}. ` +
      `Largest: ${lines.slice(0, 4).join('; ')} KB. One run (the figure is deterministic). ${release.description}`,
  });
} finally {
  cdp.close();
  await browser.stop();
  await server.stop();
  await meter.close();
  remove(data);
  remove(previous);
  remove(next);
}
