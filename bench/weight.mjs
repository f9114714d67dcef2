// First-load weight: gzip -9 bytes of everything the first load downloads, for zhicha's built PWA
// (dist/) and for the published bundle of ODK Web Forms. Usage: node weight.mjs RESULTS.jsonl DIST
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { record } from './lib/stats.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const [results, dist] = process.argv.slice(2);
const gz = (file) => gzipSync(readFileSync(file), { level: 9 }).length;
const walk = (dir) => readdirSync(dir).flatMap((name) => {
  const path = join(dir, name);
  return statSync(path).isDirectory() ? walk(path) : [path];
});

// zhicha: every file of dist/ (not the .br/.gz copies the server sends in their place). The page
// loads index.html, the JS glue, the wasm, the CSS, the manifest and icons; the service worker
// then precaches the whole shell. What the browser really receives is first-visit.mjs's figure.
const files = walk(dist).filter((file) => !/\.(br|gz)$/.test(file));
let total = 0;
const parts = files.map((file) => {
  const size = gz(file);
  total += size;
  return `${relative(dist, file)} ${(size / 1024).toFixed(1)}`;
});
record(results, {
  id: 'first-load/zhicha',
  value: total / 1024,
  unit: 'KB',
  note: `gzip -9 of all ${files.length} files of dist/: ${parts.join(', ')}`,
});

// ODK Web Forms: the package's entry (dist/index.js), the chunk it imports statically, and Vue
// (its peer dependency; the runtime-only production build). The map chunk (MapBlock-*.js) is a
// dynamic import for geo questions only and is left out, as is the favicon.
const odk = join(here, 'node_modules/@getodk/web-forms/dist');
const odkFiles = readdirSync(odk).filter((f) => f === 'index.js' || /^index-.*\.js$/.test(f)).map((f) => join(odk, f));
odkFiles.push(join(here, 'node_modules/vue/dist/vue.runtime.esm-browser.prod.js'));
let odkTotal = 0;
const odkParts = odkFiles.map((file) => {
  const size = gz(file);
  odkTotal += size;
  return `${relative(join(here, 'node_modules'), file)} ${(size / 1024).toFixed(1)}`;
});
const version = JSON.parse(readFileSync(join(here, 'node_modules/@getodk/web-forms/package.json'))).version;
record(results, {
  id: 'first-load/odk-web-forms',
  value: odkTotal / 1024,
  unit: 'KB',
  note: `@getodk/web-forms ${version}, gzip -9: ${odkParts.join(', ')}`,
});
