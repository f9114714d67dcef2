// Trunk post_build hook: finishes a build in $TRUNK_STAGING_DIR.
// 1. Writes the precache list and a content version into the staged sw.js. Every built file is
//    listed under its hashed name; the version changes whenever any byte does.
// 2. Writes a brotli (.br) and a gzip (.gz) copy next to every compressible file, which the server
//    sends to browsers that accept them (tower-http ServeDir, precompressed). Done here rather than
//    by a separate tool so that every build (and every re-run of this script on a changed folder)
//    leaves no stale compressed copy behind; node's zlib needs nothing installed.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, renameSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

// A file is written beside its name and then renamed over it, so a server reading it meanwhile
// sends the old copy or the new one, never a torn mix (a phone's update check could cache that).
// `times`: the modification time to give it before it takes the name.
function writeWhole(path, data, times) {
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, data);
  if (times) utimesSync(temp, times.atimeMs / 1000, times.mtimeMs / 1000);
  renameSync(temp, path);
}

const staging = process.env.TRUNK_STAGING_DIR;
if (!staging) throw new Error('TRUNK_STAGING_DIR is not set: run through trunk build');

const COMPRESSED = /\.(br|gz)$/;
const COMPRESSIBLE = /\.(html|js|mjs|wasm|css|svg|json|webmanifest|txt|map)$/;

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

const files = walk(staging)
  .map((path) => '/' + relative(staging, path).split(sep).join('/'))
  .filter((url) => url !== '/sw.js' && !COMPRESSED.test(url))
  .sort();
const hash = createHash('sha256');
for (const url of files) {
  hash.update(url);
  hash.update(readFileSync(join(staging, url)));
}
const version = hash.digest('hex').slice(0, 16);
// index.html is cached under '/', the address the browser loaded it from: the service worker's
// install then revalidates the page's own copy (a 304) instead of downloading it again.
const precache = ['/', ...files.filter((url) => url !== '/index.html')];
const swPath = join(staging, 'sw.js');
const sw = readFileSync(swPath, 'utf8')
  .replace("'__ZHICHA_VERSION__'", JSON.stringify(version))
  .replace('__ZHICHA_PRECACHE__', JSON.stringify(precache));
writeWhole(swPath, sw);
console.log(`sw.js: ${precache.length} files precached, version ${version}`);

if (process.env.TRUNK_PROFILE === 'debug') process.exit(0); // trunk serve sends files as they are

// A compressed copy carries its source's modification time: the server's Last-Modified is then
// the same whichever copy it sends, and an unchanged source is not compressed again.
const sameTime = (a, b) => Math.abs(a.mtimeMs - b.mtimeMs) < 1;
let written = 0;
for (const url of [...files, '/sw.js'].filter((u) => COMPRESSIBLE.test(u))) {
  const path = join(staging, url);
  const source = statSync(path);
  const copies = [
    [`${path}.br`, (data) => brotliCompressSync(data, {
      params: {
        [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
        [constants.BROTLI_PARAM_LGWIN]: constants.BROTLI_MAX_WINDOW_BITS,
        [constants.BROTLI_PARAM_SIZE_HINT]: source.size,
      },
    })],
    [`${path}.gz`, (data) => gzipSync(data, { level: 9 })],
  ];
  let data;
  for (const [target, compress] of copies) {
    let existing;
    try { existing = statSync(target); } catch { existing = null; }
    if (existing && sameTime(existing, source)) continue;
    data ??= readFileSync(path);
    writeWhole(target, compress(data), source);
    written += 1;
  }
}
console.log(`precompressed: ${written} brotli and gzip copies written`);
