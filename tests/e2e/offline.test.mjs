// The installed app works with the server down: service worker, stored data, updates, installability.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import {
  DIST, Server, launchBrowser, launchProfile, phonePage, until, waitForServiceWorker, waitForText,
} from './harness.mjs';

const ROOT = resolve(import.meta.dirname, '..', '..');
let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

/** Loads the app and waits until the service worker controls the page. */
async function installedPage(server) {
  const { context, page } = await phonePage(browser);
  await page.goto(server.url + '/');
  await page.locator('.app-bar__title').waitFor();
  await waitForServiceWorker(page);
  return { context, page };
}

/** Writes records the way the app stores them (plain objects keyed by id) into its database. */
async function putRecords(page, store, records) {
  await page.evaluate(async ({ store, records }) => {
    const db = await new Promise((ok, fail) => {
      const open = indexedDB.open('zhicha');
      open.onsuccess = () => ok(open.result);
      open.onerror = () => fail(open.error);
    });
    await new Promise((ok, fail) => {
      const tx = db.transaction(store, 'readwrite');
      for (const r of records) tx.objectStore(store).put(r);
      tx.oncomplete = ok;
      tx.onerror = () => fail(tx.error);
    });
    db.close();
  }, { store, records });
}

async function clearStore(page, store) {
  await page.evaluate(async (store) => {
    const db = await new Promise((ok) => { const o = indexedDB.open('zhicha'); o.onsuccess = () => ok(o.result); });
    await new Promise((ok) => { const tx = db.transaction(store, 'readwrite'); tx.objectStore(store).clear(); tx.oncomplete = ok; });
    db.close();
  }, store);
}

const shellCaches = (page) => page.evaluate(async () => (await caches.keys()).filter((k) => k.startsWith('zhicha-shell-')));

test('with the server stopped the app starts from the service worker and shows stored data', async () => {
  const server = await Server.start();
  try {
    const { context, page } = await installedPage(server);
    const org = '0192f000-0000-7000-8000-000000000001';
    const enterprise = { id: '0192f000-0000-7000-8000-0000000000e1', org_id: org, name: '达拉特旗某露天煤矿' };
    await putRecords(page, 'enterprises', [enterprise]);
    await putRecords(page, 'inspections', [{
      id: '0192f000-0000-7000-8000-0000000000a1', org_id: org, enterprise_id: enterprise.id,
      kind: 'unannounced', created_by: '0192f000-0000-7000-8000-0000000000b1',
      started_at: '2026-11-23T02:30:00Z',
    }]);

    await server.stop();
    await page.reload();
    await waitForText(page, '达拉特旗某露天煤矿', 15_000);
    assert.match(await page.locator('.inspection__meta').textContent(), /四不两直/);

    // A deep link to an app route, opened with no server at all.
    await page.goto(server.url + '/storage');
    await waitForText(page, '本机存储与同步状态', 15_000);
    assert.deepEqual(page.errors.filter((e) => !e.includes('Failed to load resource')), []);
    await context.close();
  } finally {
    await server.dispose();
  }
});

test('logout is refused while unsynced data is on the device', async () => {
  const server = await Server.start();
  try {
    const { context, page } = await installedPage(server);
    await putRecords(page, 'outbox', [{ seq: 1, mutation: { mutation_id: 'm-1' }, created_at: '2026-11-23T02:30:00Z' }]);
    await page.goto(server.url + '/storage');
    await waitForText(page, '未同步：1 条记录');
    await page.getByRole('button', { name: '退出登录' }).click();
    await waitForText(page, '请先同步，再退出登录');
    await context.close();
  } finally {
    await server.dispose();
  }
});

test('the manifest and service worker meet Chromium installability criteria', async () => {
  const server = await Server.start();
  // Installability is judged for a normal profile; incognito contexts are never installable.
  const context = await launchProfile();
  try {
    const page = context.pages()[0] ?? await context.newPage();
    await page.goto(server.url + '/');
    await page.evaluate(() => navigator.serviceWorker.ready);
    const cdp = await context.newCDPSession(page);
    const { installabilityErrors } = await cdp.send('Page.getInstallabilityErrors');
    assert.deepEqual(installabilityErrors, []);
    const { url, data, errors } = await cdp.send('Page.getAppManifest');
    assert.ok(url.endsWith('/manifest.webmanifest'), url);
    assert.deepEqual(errors, []);
    const manifest = JSON.parse(data);
    assert.equal(manifest.name, '直查 · 安全生产现场检查');
    assert.equal(manifest.short_name, '直查');
    assert.equal(manifest.display, 'standalone');
    assert.equal(manifest.lang, 'zh-CN');
    assert.ok(manifest.icons.some((i) => i.purpose === 'maskable' && i.sizes === '512x512'));
  } finally {
    await context.dispose();
    await server.dispose();
  }
});

/** Turns a copy of dist/ into "the next build": a changed stylesheet under a new hashed name. */
function rebuild(dist) {
  // Every file is written beside its name and renamed over it, as a deployment should: the
  // browser's own update check may be reading the old one at this very moment.
  const whole = (path, data) => {
    writeFileSync(`${path}.tmp`, data);
    renameSync(`${path}.tmp`, path);
  };
  const css = readdirSync(dist).find((f) => /^main-[0-9a-f]{16}\.css$/.test(f));
  const next = 'main-' + 'f'.repeat(16) + '.css';
  whole(join(dist, next), readFileSync(join(dist, css), 'utf8') + '\n.next-build{}\n');
  rmSync(join(dist, css));
  const index = join(dist, 'index.html');
  whole(index, readFileSync(index, 'utf8').replaceAll(css, next));
  whole(join(dist, 'sw.js'), readFileSync(join(ROOT, 'public', 'sw.js')));
  execFileSync('node', [join(ROOT, 'scripts', 'precache.mjs')], { env: { ...process.env, TRUNK_STAGING_DIR: dist } });
  return next;
}

test('a rebuilt app is offered as an update, never forced over unsynced data, and replaces the old cache', async () => {
  const dist = mkdtempSync(join(tmpdir(), 'zhicha-dist-'));
  cpSync(DIST, dist, { recursive: true });
  const live = await Server.start([], { ZHICHA_DIST: dist });
  try {
    const { context, page } = await installedPage(live);
    const before = await shellCaches(page);
    assert.equal(before.length, 1);

    await putRecords(page, 'outbox', [{ seq: 1, mutation: { mutation_id: 'm-1' }, created_at: '2026-11-23T02:30:00Z' }]);
    await page.reload();
    await waitForText(page, '本机存储');
    // Publish the new build only now, while the page is open and controlled: a build found
    // during the reload itself could activate before any page holds the old version.
    const nextCss = rebuild(dist);
    // The reload made the browser check for a new service worker too, and an update() that joins
    // a check still under way gets that check's answer: the old sw.js. Ask until the new version
    // is found, as the app's own periodic check would.
    const found = () => page.evaluate(async () => {
      const registration = await navigator.serviceWorker.getRegistration();
      if (!registration.installing && !registration.waiting) await registration.update();
      return Boolean(registration.installing || registration.waiting);
    });
    try {
      await until('the new version found', found, 30_000);
    } catch (error) {
      // Say what the browser holds and what the server sends, then reopen the page once (a
      // navigation makes the browser check for a new worker itself) and look again.
      const seen = await page.evaluate(async () => {
        const registration = await navigator.serviceWorker.getRegistration();
        const script = await (await fetch('/sw.js', { cache: 'no-store' })).text();
        return {
          controlled: Boolean(navigator.serviceWorker.controller),
          active: registration?.active?.state ?? null,
          activeUrl: registration?.active?.scriptURL ?? null,
          served: script.match(/VERSION = ("[0-9a-f]+")/)?.[1] ?? script.slice(0, 120),
          caches: await caches.keys(),
        };
      }).catch((e) => String(e));
      console.log(`# no new version after 30 s (${error.message}): ${JSON.stringify(seen)}; reopening the page`);
      await page.reload();
      await waitForText(page, '本机存储');
      await until('the new version found after reopening', found, 60_000);
    }
    await waitForText(page, '直查有新版本可用', 30_000);
    await waitForText(page, '有未同步的数据，同步完成后再更新');
    assert.equal(await page.getByRole('button', { name: '立即更新' }).count(), 0);

    // Once nothing is unsynced, the update can be taken; the old cache goes with it.
    await clearStore(page, 'outbox');
    await page.reload();
    await page.getByRole('button', { name: '立即更新' }).click();
    try {
      await page.waitForFunction((css) => [...document.querySelectorAll('link[rel=stylesheet]')].some((l) => l.href.endsWith(css)), nextCss, { timeout: 45_000 });
    } catch (error) {
      // Say where the switch stopped: the banner's message, the workers' states, the stylesheet.
      const seen = await page.evaluate(async () => {
        const registration = await navigator.serviceWorker.getRegistration();
        return {
          banner: document.querySelector('.banner--update')?.textContent ?? null,
          controlled: Boolean(navigator.serviceWorker.controller),
          active: registration?.active?.state ?? null,
          waiting: registration?.waiting?.state ?? null,
          installing: registration?.installing?.state ?? null,
          stylesheets: [...document.querySelectorAll('link[rel=stylesheet]')].map((l) => l.href),
        };
      }).catch((e) => String(e));
      throw new Error(`the update did not bring the new build (${error.message}): ${JSON.stringify(seen)}`);
    }
    await page.waitForFunction((old) => caches.keys().then((k) => !k.includes(old)), before[0], { timeout: 20_000 });
    const after = await shellCaches(page);
    assert.equal(after.length, 1);
    assert.notEqual(after[0], before[0]);
    await context.close();
  } finally {
    await live.dispose();
    rmSync(dist, { recursive: true, force: true });
  }
});
