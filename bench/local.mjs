// Local writes and the photo pipeline of the peers in headless Chromium: PouchDB bulkDocs,
// raw IndexedDB, browser-image-compression. Usage: node local.mjs RESULTS.jsonl [RUNS]
import { build } from 'esbuild';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serveStatic } from './lib/static.mjs';
import { launchChromium, median, record } from './lib/stats.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const results = process.argv[2];
const runs = Number(process.argv[3] ?? 5);
const FINDINGS = 1000;
const PHOTOS = 100;
const PHOTO_BYTES = 270 * 1024;
const PIPELINE_RUNS = 10;

await build({
  entryPoints: [`${here}/pages/local.js`],
  bundle: true,
  format: 'esm',
  minify: true,
  outfile: `${here}/build/local.js`,
  logLevel: 'warning',
});
const site = await serveStatic(here);
const browser = await launchChromium();
try {
  const page = await (await browser.newContext()).newPage();
  page.on('pageerror', (e) => console.error('page error:', e));
  await page.goto(`${site.url}/pages/local.html`);
  await page.waitForFunction(() => window.benchReady === true);

  for (const peer of ['pouchdb', 'raw-idb']) {
    const f = [];
    const p = [];
    for (let i = 0; i < runs; i++) {
      f.push(await page.evaluate(([peer, n]) => window.benchFindings(peer, n), [peer, FINDINGS]));
      p.push(await page.evaluate(([peer, n, b]) => window.benchPhotos(peer, n, b), [peer, PHOTOS, PHOTO_BYTES]));
    }
    const note = `median of ${runs}`;
    record(results, { id: `findings-write/${peer}`, value: median(f.map((r) => r.write)), unit: 'ms', note });
    record(results, { id: `findings-read/${peer}`, value: median(f.map((r) => r.read)), unit: 'ms', note });
    record(results, { id: `photos-write/${peer}`, value: median(p.map((r) => r.write)), unit: 'ms', note });
    record(results, { id: `photos-read/${peer}`, value: median(p.map((r) => r.read)), unit: 'ms', note });
  }
  {
    const f = [];
    for (let i = 0; i < runs; i++) {
      f.push(await page.evaluate(([peer, n]) => window.benchFindings(peer, n), ['raw-idb-outbox', FINDINGS]));
    }
    record(results, {
      id: 'findings-write/raw-idb-outbox',
      value: median(f.map((r) => r.write)),
      unit: 'ms',
      note: `median of ${runs}; raw IndexedDB writing the records zhicha writes (finding + outbox record with the finding as payload)`,
    });
  }
  for (const peer of ['browser-image-compression', 'raw-js']) {
    const r = await page.evaluate(([peer, n]) => window.benchPipeline(peer, n), [peer, PIPELINE_RUNS]);
    record(results, {
      id: `pipeline/${peer}`,
      value: median(r.times),
      unit: 'ms',
      note: `median of ${PIPELINE_RUNS}; ${(r.originalBytes / 1e6).toFixed(1)} MB in, ${Math.round(r.storedBytes / 1024)} KB stored`,
    });
  }
} finally {
  await browser.close();
  await site.close();
}
