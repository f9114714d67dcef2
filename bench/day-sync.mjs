// A day's work synced over emulated 3G: 50 findings with 150 photos and 3 documents, recorded
// offline on the phone, then synced when the network returns.
//
// The real zhicha-server (`serve` with the demo seed) behind a byte-counting TCP proxy
// (bench/lib/meter.mjs): the browser's origin is the proxy, which counts every byte each way as
// sent (request and status lines, headers, bodies) and splits the streams into requests for the
// breakdown. Headless Chromium over a raw DevTools socket, auto-attached to the page and every
// service worker, with the same network conditions set on each (`Network.emulateNetworkConditions`).
//
// 1. Sign in through the app's login screen (inspector1), wait for the service worker and the
//    first sync round.
// 2. Offline (emulated offline, the proxy refuses connections): the day's work is written by
//    tests/e2e/device.mjs `recordOffline` (the app's own records: inspection, findings, photos
//    with their bytes, outbox entries), with the photos given camera-like texture (noise) before
//    the JPEG encode so that they weigh what a downscaled photo weighs (1600×1200 at quality
//    0.8); the 3 documents are issued as the app's `issue_documents` does (a record each in
//    `documents`, the inspection carrying their numbers, its queued save merged). The app is
//    reloaded (offline, from the service worker) and shows the record 待同步.
// 3. Online on 3G (1.6 Mbit/s down, 750 kbit/s up, 150 ms latency): the app's `online` listener
//    starts a round. Timed from going online until the home list shows every own inspection
//    "已同步 · 证据已全部上传" (checked on every DOM change in the page). The outbox and the
//    pending photos in IndexedDB are checked empty afterwards.
//
// Floors: the payload is the photos' bytes (blob sizes in the `photos` store) plus the JSON of the
// queued mutations (UTF-8 length of each outbox entry's `mutation`) upward, plus the receipts'
// JSON downward (acks, pulls and headers are not in the floor); the time floor is the upward
// payload ÷ 93,750 B/s plus the downward payload ÷ 200,000 B/s.
//
// Usage: node --experimental-websocket day-sync.mjs RESULTS.jsonl   (env: ZHICHA_SERVER_BIN, ZHICHA_DIST)
//   DAY_SYNC_SCALE=0.1   a smaller day (findings and photos scaled; 3 documents)
//   DEBUG=1              list every request
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { recordOffline } from '../tests/e2e/device.mjs';
import { connect, freePort, instrument, remove, sleep, snapshot, startChromium, startServer, until, within } from './lib/cdp.mjs';
import { route, startMeter } from './lib/meter.mjs';
import { record } from './lib/stats.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const results = process.argv[2];
const DIST = resolve(process.env.ZHICHA_DIST ?? join(here, '..', 'dist'));
const scratch = process.env.BENCH_SCRATCH ?? tmpdir();
const SCALE = Number(process.env.DAY_SYNC_SCALE ?? 1);
const FINDINGS = Math.max(1, Math.round(50 * SCALE));
const PHOTOS = Math.max(1, Math.round(150 * SCALE));
const DOCUMENTS = 3;
const PHOTO_SIDE = 1600;
/** Per-pixel noise amplitude that makes a 1600×1200 JPEG at 0.8 weigh ≈ 200–250 KB. */
const NOISE = Number(process.env.DAY_SYNC_NOISE ?? 40);
const UP = 750_000 / 8; // 93,750 B/s
const DOWN = 1_600_000 / 8; // 200,000 B/s
const LATENCY = 150;
const THREE_G = { offline: false, latency: LATENCY, downloadThroughput: DOWN, uploadThroughput: UP };
const OFFLINE = { offline: true, latency: 0, downloadThroughput: -1, uploadThroughput: -1 };
const SYNCED = '已同步 · 证据已全部上传';
const debug = (...a) => { if (process.env.DEBUG) console.error(...a); };

const data = mkdtempSync(join(scratch, 'zhicha-day-sync-'));
// Served from a copy taken now: a rebuild of dist/ during the run would otherwise be found by the
// browser's update check and downloaded in the middle of the sync.
const dist = snapshot(DIST, scratch);
const server = await startServer({ port: await freePort(), data, dist, demo: true });
const meter = await startMeter({ target: Number(new URL(server.url).port) });
const browser = await startChromium();
const cdp = await connect(browser.endpoint);

// The network conditions of every target (page and service workers), also set on any that starts later.
let conditions = null;
const emulated = new Set();
const emulate = (session) => (conditions
  ? cdp.send('Network.emulateNetworkConditions', conditions, session).then(() => emulated.add(session))
  : Promise.resolve());
const setConditions = async (next) => {
  conditions = next;
  const live = [...tab.sessions.values()].filter((s) => ['page', 'service_worker', 'worker'].includes(s.type));
  await Promise.all(live.map((s) => within(5_000, emulate(s.sessionId).catch(() => {}))));
  debug(`  conditions ${JSON.stringify(next)} on ${live.map((s) => s.type).join(', ')}`);
};

const tab = await instrument(cdp, async (session) => { await emulate(session); });
/** What recordOffline needs of a Playwright page: evaluate(fn, arg) in the page. */
const page = { evaluate: (fn, arg) => tab.evaluate(`(${fn})(${JSON.stringify(arg)})`, 600_000) };
const text = () => tab.evaluate('document.body ? document.body.innerText : ""', 10_000).then((t) => { debug(`  page text: ${t.slice(0, 120).replace(/\n/g, ' ')}`); return t; });

try {
  // 1. Sign in through the app.
  await tab.navigate(`${meter.url}/login`);
  await until('login screen', () => tab.evaluate(`!!document.querySelector('input[name=username]')`, 10_000));
  await tab.evaluate(`(() => {
    const set = (name, value) => {
      const input = document.querySelector('input[name=' + name + ']');
      input.value = value;
      input.dispatchEvent(new Event('input', { bubbles: true }));
    };
    set('username', 'inspector1');
    set('password', 'zhicha-demo');
    document.querySelector('button[type=submit]').click();
    return true;
  })()`);
  await until('signed in', async () => !(await tab.evaluate('location.pathname')).startsWith('/login') && (await text()).includes('检查记录'), 60_000);
  await tab.evaluate(`navigator.serviceWorker.ready.then(async () => {
    if (!navigator.serviceWorker.controller) await new Promise((r) => navigator.serviceWorker.addEventListener('controllerchange', r, { once: true }));
    return true;
  })`);
  // The first round (bootstrap, pull) is over when the panel says 已同步 and the network is quiet.
  await until('first sync round', async () => (await tab.evaluate(`document.querySelector('[data-testid=sync-state]')?.textContent ?? ''`)) === '已同步', 60_000);
  while (Date.now() - tab.lastActivity() < 1_000) await sleep(200);
  console.error('  signed in, first round done');

  // 2. Offline: the day's work.
  meter.setTarget(null);
  await setConditions(OFFLINE);
  await tab.evaluate(`(() => {
    const encode = OffscreenCanvas.prototype.convertToBlob;
    // Camera-like texture: a downscaled photo of a real scene does not compress like flat colour.
    OffscreenCanvas.prototype.convertToBlob = async function (options) {
      const ctx = this.getContext('2d');
      const image = ctx.getImageData(0, 0, this.width, this.height);
      const px = image.data;
      let seed = (this.width * 7919 + Math.floor(Math.random() * 1e6)) >>> 0;
      for (let i = 0; i < px.length; i += 4) {
        seed = (seed * 1664525 + 1013904223) >>> 0;
        const n = ((seed >>> 24) / 255 - 0.5) * 2 * ${NOISE};
        px[i] += n + 40; px[i + 1] += n + 35; px[i + 2] += n + 30;
      }
      ctx.putImageData(image, 0, 0);
      return encode.call(this, options);
    };
    return true;
  })()`);
  const recordStarted = Date.now();
  const ids = await recordOffline(page, { findings: FINDINGS, photos: PHOTOS, photoSide: PHOTO_SIDE, inspectors: 2 });
  // Three documents issued for the inspection, as `Db::issue_documents` writes them.
  await page.evaluate(async ({ inspectionId, count }) => {
    const req = (r) => new Promise((ok, fail) => { r.onsuccess = () => ok(r.result); r.onerror = () => fail(r.error); });
    const db = await new Promise((ok, fail) => { const r = indexedDB.open('zhicha'); r.onsuccess = () => ok(r.result); r.onerror = () => fail(r.error); });
    const tx = db.transaction(['inspections', 'documents', 'outbox', 'meta'], 'readwrite');
    const inspection = await req(tx.objectStore('inspections').get(inspectionId));
    const now = new Date().toISOString();
    const year = now.slice(0, 4);
    const kinds = [['inspection_record', '检记'], ['rectification_order', '责改'], ['on_site_measures', '现决']].slice(0, count);
    inspection.documents = inspection.documents ?? [];
    kinds.forEach(([kind, word], i) => {
      const document = { kind, number: `达旗应急${word}〔${year}〕A7-${String(i + 1).padStart(4, '0')}号`, issued_at: now };
      tx.objectStore('documents').add({ number: document.number, inspection_id: inspectionId, document, device_sequence: i + 1 });
      inspection.documents.push(document);
    });
    tx.objectStore('inspections').put(inspection);
    // The inspection's save is still queued and unsent: the edit is merged into it (core's plan_edit).
    const queued = await req(tx.objectStore('outbox').getAll());
    const save = queued.filter((e) => e.mutation.entity_id === inspectionId).sort((a, b) => b.seq - a.seq)[0];
    save.mutation.payload = inspection;
    tx.objectStore('outbox').put(save);
    await new Promise((ok, fail) => { tx.oncomplete = ok; tx.onerror = () => fail(tx.error); tx.onabort = () => fail(tx.error); });
    db.close();
    return true;
  }, { inspectionId: ids.inspection, count: DOCUMENTS });
  console.error(`  recorded offline in ${((Date.now() - recordStarted) / 1000).toFixed(1)} s: ${FINDINGS} findings, ${PHOTOS} photos, ${DOCUMENTS} documents`);

  // What the device holds for the server: the floor's payload.
  const held = await page.evaluate(async () => {
    const db = await new Promise((ok) => { const r = indexedDB.open('zhicha'); r.onsuccess = () => ok(r.result); });
    const all = (store) => new Promise((ok) => { const r = db.transaction(store).objectStore(store).getAll(); r.onsuccess = () => ok(r.result); });
    const photos = (await all('photos')).filter((p) => p.pending);
    const outbox = await all('outbox');
    const documents = await all('documents');
    db.close();
    const utf8 = (s) => new TextEncoder().encode(s).length;
    const sizes = photos.map((p) => p.blob.size);
    return {
      photos: photos.length, photoBytes: sizes.reduce((a, b) => a + b, 0), minPhoto: Math.min(...sizes), maxPhoto: Math.max(...sizes),
      mutations: outbox.length, mutationBytes: outbox.reduce((s, e) => s + utf8(JSON.stringify(e.mutation)), 0),
      kinds: outbox.reduce((m, e) => { m[e.mutation.kind] = (m[e.mutation.kind] ?? 0) + 1; return m; }, {}),
      documents: documents.length,
    };
  }, null);
  console.error(`  on the device: ${JSON.stringify(held)}`);

  // The app opened again offline (from the service worker): the record is waiting.
  debug('  reloading offline');
  await tab.reload();
  debug('  reloaded');
  await until('the record listed as waiting', async () => (await text()).includes('待同步'), 60_000)
    .catch(async (e) => { throw new Error(`${e.message}; the page at ${await tab.evaluate('location.href').catch(() => '?')} says: ${(await text().catch(() => '?')).slice(0, 400)}`); });
  // Any failed round (offline) retries on a backoff timer; let the page settle.
  await sleep(1_000);

  // 3. Online on 3G. The clock starts as the network returns; the app's `online` listener starts the round.
  await tab.evaluate(`(() => {
    window.__syncedAt = null;
    // The rows of the inspections recorded today (the demo seed's own older inspections stay as they are).
    const ids = ${JSON.stringify([ids.inspection])};
    const done = () => ids.every((id) => {
      const row = [...document.querySelectorAll('li.inspection')].find((li) => li.querySelector('a[href*="' + id + '"]'));
      return row?.querySelector('[data-testid=record-sync]')?.textContent.trim() === ${JSON.stringify(SYNCED)};
    });
    const observer = new MutationObserver(() => {
      if (!window.__syncedAt && done()) { window.__syncedAt = Date.now(); observer.disconnect(); }
    });
    observer.observe(document, { childList: true, subtree: true, characterData: true });
    return true;
  })()`);
  meter.reset();
  tab.requests.clear();
  meter.setTarget(Number(new URL(server.url).port));
  const start = Date.now();
  await setConditions(THREE_G);
  const emulatedTargets = [...tab.sessions.values()].filter((s) => emulated.has(s.sessionId)).map((s) => s.type);
  // If the `online` event started no round within a second, the inspector taps 立即同步 (counted in the time).
  let tapped = false;
  await sleep(1_000);
  if (meter.exchanges.length === 0 && !(await text()).includes('同步中')) {
    tapped = true;
    await tab.evaluate(`[...document.querySelectorAll('button')].find((b) => b.textContent.includes('立即同步')).click(), true`);
  }
  let shown = Date.now();
  const syncedAt = await until('every inspection 已同步 with evidence complete', async () => {
    if (process.env.DEBUG && Date.now() - shown > 5_000) {
      shown = Date.now();
      const state = await tab.evaluate(`[document.querySelector('[data-testid=sync-state]')?.textContent, ...[...document.querySelectorAll('li.inspection')].map((li) => li.textContent.slice(0, 40))].join(' | ')`, 10_000).catch((e) => e.message);
      debug(`  ${((Date.now() - start) / 1000).toFixed(0)} s: ${meter.exchanges.length} requests, up ${meter.up} B, down ${meter.down} B; ${state}`);
    }
    return tab.evaluate('window.__syncedAt', 10_000);
  }, 1_800_000, 250);
  const seconds = (syncedAt - start) / 1000;
  // Everything that finished by then is counted; later requests (a second round) are listed apart.
  const up = meter.exchanges.filter((e) => e.done && e.done <= syncedAt + 50);
  const late = meter.exchanges.filter((e) => !e.done || e.done > syncedAt + 50);
  const upBytes = meter.exchanges.length ? up.reduce((s, e) => s + e.upHeader + e.upBody, 0) : 0;
  const downBytes = up.reduce((s, e) => s + e.downHeader + e.downBody, 0);
  const left = await page.evaluate(async () => {
    const db = await new Promise((ok) => { const r = indexedDB.open('zhicha'); r.onsuccess = () => ok(r.result); });
    const count = (store) => new Promise((ok) => { const r = db.transaction(store).objectStore(store).getAll(); r.onsuccess = () => ok(r.result); });
    const photos = (await count('photos')).filter((p) => p.pending).length;
    const outbox = (await count('outbox')).length;
    const session = await new Promise((ok) => { const r = db.transaction('meta').objectStore('meta').get('session'); r.onsuccess = () => ok(r.result); });
    db.close();
    return { photos, outbox, token: session.token };
  }, null);
  if (left.photos || left.outbox) throw new Error(`shown synced with ${left.outbox} mutations and ${left.photos} photos still queued`);
  // The receipts' JSON, as the server sends it to this user (uncompressed length).
  const receipt = await fetch(`${server.url}/api/v1/sync/receipt?inspection=${ids.inspection}`, { headers: { authorization: `Bearer ${left.token}` } });
  if (!receipt.ok) throw new Error(`receipt: ${receipt.status}`);
  const receiptBytes = Buffer.byteLength(await receipt.text());

  // Where the bytes and the time go, by kind of request.
  const groups = new Map();
  for (const e of up) {
    const key = `${e.method} ${route(e.path)}${e.method === 'PUT' ? ' (part)' : ''}`;
    const g = groups.get(key) ?? { n: 0, upHeader: 0, upBody: 0, downHeader: 0, downBody: 0, statuses: new Set() };
    g.n++; g.upHeader += e.upHeader; g.upBody += e.upBody; g.downHeader += e.downHeader; g.downBody += e.downBody; g.statuses.add(e.status);
    groups.set(key, g);
  }
  const kb = (b) => (b / 1024).toFixed(1);
  const breakdown = [...groups.entries()].sort((a, b) => (b[1].upBody + b[1].downBody) - (a[1].upBody + a[1].downBody))
    .map(([k, g]) => `${k} ×${g.n} [${[...g.statuses].join('/')}]: up ${kb(g.upHeader)} KB headers + ${kb(g.upBody)} KB body, down ${kb(g.downHeader)} KB headers + ${kb(g.downBody)} KB body`);
  for (const line of breakdown) console.error(`    ${line}`);
  if (process.env.DEBUG) for (const e of up) debug(`    ${e.method} ${route(e.path)} ${e.status} up ${e.upHeader}+${e.upBody} down ${e.downHeader}+${e.downBody} ${e.done - e.at} ms`);
  const headers = up.reduce((s, e) => s + e.upHeader + e.downHeader, 0);
  const upPayload = held.photoBytes + held.mutationBytes;
  const floorSeconds = upPayload / UP + receiptBytes / DOWN;
  const payload = upPayload + receiptBytes;
  const wire = upBytes + downBytes;
  const latencyCost = up.length * LATENCY / 1000;
  const setup = `${FINDINGS} findings, ${held.photos} photos (${kb(held.photoBytes)} KB, ${kb(held.minPhoto)}–${kb(held.maxPhoto)} KB each, ` +
    `${PHOTO_SIDE}×${PHOTO_SIDE * 0.75} JPEG at 0.8 with noise texture), ${held.documents} documents; ${held.mutations} queued mutations ` +
    `(${Object.entries(held.kinds).map(([k, n]) => `${n} ${k}`).join(', ')}; ${kb(held.mutationBytes)} KB of JSON)`;
  const conditionsNote = `emulated 3G (CDP Network.emulateNetworkConditions: ${DOWN * 8 / 1e6} Mbit/s down, ${UP * 8 / 1e3} kbit/s up, ` +
    `${LATENCY} ms latency) on ${emulatedTargets.join(' + ')} targets`;
  const trigger = tapped ? 'the inspector tapping 立即同步 one second after going online (no round had started)' : "the app's online listener";
  console.error(`  synced in ${seconds.toFixed(1)} s; ${up.length} requests (${late.length} after); up ${kb(upBytes)} KB, down ${kb(downBytes)} KB; headers ${kb(headers)} KB`);
  record(results, {
    id: 'day-sync-3g/zhicha',
    value: Number(seconds.toFixed(1)),
    unit: 's',
    note: `one run (the time is dominated by the emulated bandwidth): a day's work recorded offline (${setup}), then ${conditionsNote}; ` +
      `from going online (round started by ${trigger}) until the home list showed the day's inspection "${SYNCED}" (MutationObserver in the page; the demo seed's older inspections are not waited for); ` +
      `outbox and pending photos checked empty after. ${up.length} requests in the span` +
      `${late.length ? ` (${late.length} more after it: ${late.map((e) => `${e.method} ${route(e.path)}`).join(', ')})` : ''}; ` +
      `${LATENCY} ms latency × ${up.length} sequential requests ≈ ${latencyCost.toFixed(1)} s; headers both ways ${kb(headers)} KB ` +
      `≈ ${(up.reduce((s, e) => s + e.upHeader, 0) / UP + up.reduce((s, e) => s + e.downHeader, 0) / DOWN).toFixed(1)} s at the emulated rates. ` +
      `By request: ${breakdown.join('; ')}`,
  });
  record(results, {
    id: 'day-sync-3g/floor',
    value: Number(floorSeconds.toFixed(1)),
    unit: 's',
    note: `the upward payload (${kb(upPayload)} KB: photo blobs ${kb(held.photoBytes)} KB + mutations' JSON ${kb(held.mutationBytes)} KB) ÷ ${UP} B/s ` +
      `+ the receipts' JSON (${receiptBytes} B) ÷ ${DOWN} B/s; no latency, no headers, no acks or pulls`,
  });
  record(results, {
    id: 'day-sync-3g-bytes/zhicha',
    value: Math.round(wire / 1024),
    unit: 'KB',
    note: `bytes on the wire both ways as sent (byte-counting TCP proxy between Chromium and the server: request/status lines, headers, ` +
      `bodies), over the same span as day-sync-3g/zhicha: up ${kb(upBytes)} KB, down ${kb(downBytes)} KB, of which headers ${kb(headers)} KB ` +
      `in ${up.length} requests. ${setup}`,
  });
  record(results, {
    id: 'day-sync-3g-bytes/payload',
    value: Math.round(payload / 1024),
    unit: 'KB',
    note: `what must cross at least, from what the device holds: the pending photos' blob sizes (IndexedDB photos store, ${kb(held.photoBytes)} KB) ` +
      `+ the UTF-8 JSON of each queued outbox entry's mutation (${kb(held.mutationBytes)} KB) upward, + the receipt's JSON the server ` +
      `sends for the inspection (${receiptBytes} B, uncompressed) downward; acks, pulls and all headers left out`,
  });
} finally {
  cdp.close();
  await browser.stop();
  await meter.close();
  await server.stop();
  remove(data);
  remove(dist);
}
