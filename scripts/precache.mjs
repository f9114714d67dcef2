// Trunk post_build hook: writes the precache list and a content version into the staged sw.js.
// Every built file is listed under its hashed name; the version changes whenever any byte does.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

const staging = process.env.TRUNK_STAGING_DIR;
if (!staging) throw new Error('TRUNK_STAGING_DIR is not set: run through trunk build');

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

const files = walk(staging)
  .map((path) => '/' + relative(staging, path).split(sep).join('/'))
  .filter((url) => url !== '/sw.js')
  .sort();
const hash = createHash('sha256');
for (const url of files) {
  hash.update(url);
  hash.update(readFileSync(join(staging, url)));
}
const version = hash.digest('hex').slice(0, 16);
const swPath = join(staging, 'sw.js');
const sw = readFileSync(swPath, 'utf8')
  .replace("'__ZHICHA_VERSION__'", JSON.stringify(version))
  .replace('__ZHICHA_PRECACHE__', JSON.stringify(['/', ...files]));
writeFileSync(swPath, sw);
console.log(`sw.js: ${files.length} files precached, version ${version}`);
