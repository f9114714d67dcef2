// A synthetic "next release" of dist/, made without a second Trunk build: what a code change
// changes, redone the way the build does it (Trunk's hashed names, scripts/precache.mjs's
// precache list, version and compressed copies).
//
// - The wasm gets a custom section appended (valid wasm, different bytes) and a new hashed name,
//   and so does the JS glue (Trunk names both after one hash; the glue's content is unchanged, as
//   it is when no binding changes).
// - index.html names the new files and carries the new wasm's SRI (sha384) in its preload.
// - sw.js gets the new precache list and content version (sha256 over every file's path and
//   bytes, as scripts/precache.mjs computes it).
// - The .br (quality 11, window 24) and .gz (level 9) copies of every changed file are rewritten.
// - Every file gets a new modification time, as a real build writes every file of dist/ anew:
//   the server's Last-Modified of unchanged, unhashed files (icons, manifest) changes too.
import { createHash, randomBytes } from 'node:crypto';
import { cpSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const COMPRESSED = /\.(br|gz)$/;

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

const leb128 = (n) => {
  const out = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n) byte |= 0x80;
    out.push(byte);
  } while (n);
  return Buffer.from(out);
};

/** `wasm` with a custom section `name` holding `payload` appended. */
export function withCustomSection(wasm, name, payload) {
  const nameBytes = Buffer.from(name);
  const content = Buffer.concat([leb128(nameBytes.length), nameBytes, payload]);
  return Buffer.concat([wasm, Buffer.from([0]), leb128(content.length), content]);
}

function compressCopies(path, time) {
  const data = readFileSync(path);
  writeFileSync(`${path}.br`, brotliCompressSync(data, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
      [constants.BROTLI_PARAM_LGWIN]: constants.BROTLI_MAX_WINDOW_BITS,
      [constants.BROTLI_PARAM_SIZE_HINT]: data.length,
    },
  }));
  writeFileSync(`${path}.gz`, gzipSync(data, { level: 9 }));
  for (const p of [path, `${path}.br`, `${path}.gz`]) utimesSync(p, time, time);
}

/**
 * Copies `dist` to `out` as the next release. Returns { description, oldName, newName, changed }
 * (the paths whose content changed or that are new).
 */
export function makeRelease(dist, out) {
  rmSync(out, { recursive: true, force: true });
  cpSync(dist, out, { recursive: true });
  const wasmName = readdirSync(out).find((n) => /^zhicha-[0-9a-f]{16}_bg\.wasm$/.test(n));
  if (!wasmName) throw new Error(`no zhicha-<hash>_bg.wasm in ${dist}`);
  const oldHash = wasmName.slice('zhicha-'.length, 'zhicha-'.length + 16);
  const payload = Buffer.from(`zhicha bench release ${new Date().toISOString()} ${randomBytes(8).toString('hex')}`);
  const wasm = withCustomSection(readFileSync(join(out, wasmName)), 'zhicha-bench-release', payload);
  const newHash = createHash('sha256').update(wasm).digest('hex').slice(0, 16);
  const time = new Date();
  // The new wasm and the glue under the new hash; the old names are gone, as after a build.
  for (const suffix of ['_bg.wasm', '_bg.wasm.br', '_bg.wasm.gz', '.js', '.js.br', '.js.gz']) {
    rmSync(join(out, `zhicha-${newHash}${suffix}`), { force: true });
    renameSync(join(out, `zhicha-${oldHash}${suffix}`), join(out, `zhicha-${newHash}${suffix}`));
  }
  const newWasm = join(out, `zhicha-${newHash}_bg.wasm`);
  writeFileSync(newWasm, wasm);
  compressCopies(newWasm, time);
  // index.html: the new names and the new wasm's integrity.
  const indexPath = join(out, 'index.html');
  const oldSri = `sha384-${createHash('sha384').update(readFileSync(join(dist, wasmName))).digest('base64')}`;
  const newSri = `sha384-${createHash('sha384').update(wasm).digest('base64')}`;
  let index = readFileSync(indexPath, 'utf8');
  if (!index.includes(oldSri)) throw new Error('index.html does not carry the wasm SRI this script expects');
  index = index.replaceAll(oldHash, newHash).replace(oldSri, newSri);
  writeFileSync(indexPath, index);
  compressCopies(indexPath, time);
  // sw.js: the precache list and version as scripts/precache.mjs writes them.
  const files = walk(out)
    .map((path) => '/' + relative(out, path).split(sep).join('/'))
    .filter((url) => url !== '/sw.js' && !COMPRESSED.test(url))
    .sort();
  const hash = createHash('sha256');
  for (const url of files) {
    hash.update(url);
    hash.update(readFileSync(join(out, url)));
  }
  const version = hash.digest('hex').slice(0, 16);
  const precache = ['/', ...files.filter((url) => url !== '/index.html')];
  const swPath = join(out, 'sw.js');
  const sw = readFileSync(swPath, 'utf8');
  const updated = sw
    .replace(/^const VERSION = .*;$/m, `const VERSION = ${JSON.stringify(version)};`)
    .replace(/^const PRECACHE = .*;$/m, `const PRECACHE = ${JSON.stringify(precache)};`);
  if (updated === sw) throw new Error('sw.js: VERSION/PRECACHE lines not found');
  writeFileSync(swPath, updated);
  compressCopies(swPath, time);
  // Every file written anew by the build.
  for (const path of walk(out)) utimesSync(path, time, time);
  const wasmBytes = statSync(newWasm).size;
  return {
    oldHash,
    newHash,
    version,
    changed: ['/', '/sw.js', `/zhicha-${newHash}_bg.wasm`, `/zhicha-${newHash}.js`],
    description: `synthetic release: dist/ copied; the wasm got a ${payload.length + 22}-byte custom section ` +
      `"zhicha-bench-release" appended (${wasmBytes} bytes) and, with the unchanged JS glue, the new hashed name ` +
      `zhicha-${newHash} (was ${oldHash}); index.html names them and carries the new wasm's sha384; sw.js has the ` +
      `new precache list and version ${version} (scripts/precache.mjs's algorithm); .br/.gz copies of the changed ` +
      `files rewritten at precache.mjs's levels; every file given a new mtime as a real build writes all of dist/`,
  };
}
