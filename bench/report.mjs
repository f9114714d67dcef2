// Prints the benchmark table and writes docs/benchmarks.md from the figures of one run.
// Usage: node report.mjs RESULTS.jsonl DOCS.md META.json
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const [resultsFile, docsFile, metaFile] = process.argv.slice(2);
const figures = new Map(
  readFileSync(resultsFile, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)).map((f) => [f.id, f]),
);
const meta = JSON.parse(readFileSync(metaFile, 'utf8'));

// Each row: zhicha's figure, the peer it is set against, the floor (where one exists), whether
// more is better, and the target (a minimum advantage over the peer, or an absolute budget).
const ROWS = [
  { what: 'First visit, bytes received from the server', z: 'first-visit/zhicha', peer: null, peerName: 'page + service-worker precache, as sent (CDP)', budget: 350 },
  { what: 'Update to a new release, bytes received', z: 'update-bytes/zhicha', peer: null, peerName: 'a phone holding the previous release (CDP)' },
  { what: 'First load, gzip -9 of dist/ (proxy)', z: 'first-load/zhicha', peer: 'first-load/odk-web-forms', peerName: 'ODK Web Forms bundle' },
  { what: '1,000 findings stored (bulk)', z: 'findings-write/zhicha', peer: 'findings-write/pouchdb', peerName: 'PouchDB bulkDocs', floor: 'findings-write/raw-idb', target: 2 },
  { what: '1,000 findings read back', z: 'findings-read/zhicha', peer: 'findings-read/pouchdb', peerName: 'PouchDB allDocs', floor: 'findings-read/raw-idb' },
  { what: '100 photos of 270 KB stored (bulk)', z: 'photos-write/zhicha', peer: 'photos-write/pouchdb', peerName: 'PouchDB bulkDocs + attachments', floor: 'photos-write/raw-idb', target: 3 },
  { what: '100 photos read back (bytes)', z: 'photos-read/zhicha', peer: 'photos-read/pouchdb', peerName: 'PouchDB getAttachment', floor: 'photos-read/raw-idb' },
  { what: 'Server ingest, 10,000 findings (SQLite)', z: 'ingest-docs/zhicha-sqlite', peer: 'ingest-docs/pouchdb-server', peerName: 'pouchdb-server _bulk_docs (LevelDB)', floor: 'ingest-docs/sqlite', more: true, target: 3 },
  { what: 'Server ingest, 10,000 findings (PostgreSQL)', z: 'ingest-docs/zhicha-postgres', peer: 'ingest-docs/pouchdb-server', peerName: 'pouchdb-server _bulk_docs (LevelDB)', more: true, target: 3 },
  { what: 'Photo upload, 1,000 × 270 KB (SQLite)', z: 'ingest-photos/zhicha-sqlite', peer: 'ingest-photos/pouchdb-server', peerName: 'pouchdb-server attachment PUT (LevelDB)', floor: 'ingest-photos/disk', more: true, target: 5 },
  { what: 'Photo upload, 1,000 × 270 KB (PostgreSQL)', z: 'ingest-photos/zhicha-postgres', peer: 'ingest-photos/pouchdb-server', peerName: 'pouchdb-server attachment PUT (LevelDB)', floor: 'ingest-photos/disk', more: true, target: 5 },
  { what: 'Start-up, first load online, 4× CPU', z: 'startup-online/zhicha', peer: 'startup-online/odk-web-forms', peerName: 'ODK Web Forms first load' },
  { what: 'Start-up, reload offline, 4× CPU', z: 'startup-offline/zhicha', peer: null, peerName: 'ODK Web Forms: no service worker in the bundle' },
  { what: 'Start-up, reload offline, 6× CPU', z: 'startup-offline-6x/zhicha', peer: null, peerName: 'low-end phone (CDP throttling)', budget: 1000 },
  { what: "A day's sync on 3G: time to 已同步", z: 'day-sync-3g/zhicha', peer: null, peerName: '50 findings, 150 photos, 3 documents; 1.6/0.75 Mbit/s, 150 ms', floor: 'day-sync-3g/floor', floorTarget: 1.2 },
  { what: "A day's sync on 3G: bytes on the wire", z: 'day-sync-3g-bytes/zhicha', peer: null, peerName: 'both directions, as sent (TCP proxy)', floor: 'day-sync-3g-bytes/payload', floorTarget: 1.1 },
  ...['sqlite', 'postgres'].flatMap((db) => {
    const name = db === 'sqlite' ? 'SQLite' : 'PostgreSQL';
    return [
      { what: `Region, 1,000,000 findings (${name}): seeding`, z: `region-seed/${db}`, peer: null, peerName: '10 counties × 5 years, bulk load' },
      { what: `Region (${name}): database size`, z: `region-size/${db}`, peer: null, peerName: 'on disk after loading' },
      { what: `Region (${name}): ledger page p95`, z: `region-ledger-p95/${db}`, peer: null, peerName: 'through the API, mixed filters', budget: 50 },
      { what: `Region (${name}): statistics p95`, z: `region-stats-p95/${db}`, peer: null, peerName: 'through the API', budget: 300 },
      { what: `Region (${name}): xlsx export of 100,000 rows`, z: `region-export/${db}`, peer: null, peerName: 'streamed, whole file received', budget: 10 },
      { what: `Region (${name}): peak memory during the export`, z: `region-export-rss/${db}`, peer: null, peerName: 'server resident set' },
    ];
  }),
  { what: '12 MP JPEG → stored photo', z: 'pipeline/zhicha', peer: 'pipeline/browser-image-compression', peerName: 'browser-image-compression + IndexedDB', floor: 'pipeline/raw-js' },
];

const fmt = (f) => {
  if (!f) return 'not measured';
  const v = f.value;
  const digits = v >= 100 ? 0 : v >= 10 ? 1 : 2;
  return `${v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })} ${f.unit}`;
};

const rows = ROWS.map((row) => {
  const z = figures.get(row.z);
  const peer = row.peer ? figures.get(row.peer) : undefined;
  const floor = row.floor ? figures.get(row.floor) : undefined;
  let ratio = null;
  if (z && peer) ratio = row.more ? z.value / peer.value : peer.value / z.value;
  let verdict = '';
  if (row.budget !== undefined && z) verdict = z.value <= row.budget ? `met (≤ ${row.budget} ${z.unit})` : `MISSED (budget ${row.budget} ${z.unit})`;
  else if (row.floorTarget !== undefined && z) verdict = !floor ? 'not measured' : z.value <= floor.value * row.floorTarget ? `met (≤ ${row.floorTarget}× floor)` : `MISSED (${(z.value / floor.value).toFixed(2)}× floor, target ≤ ${row.floorTarget}×)`;
  else if (row.target !== undefined) verdict = ratio === null ? 'not measured' : ratio >= row.target ? `met (≥ ${row.target}×)` : `MISSED (target ≥ ${row.target}×)`;
  return {
    what: row.what,
    zhicha: fmt(z),
    peerName: row.peerName,
    peer: row.peer ? fmt(peer) : 'n/a',
    ratio: ratio === null ? '—' : `${ratio.toFixed(2)}× ${ratio >= 1 ? 'better' : 'worse'}`,
    floor: row.floor ? fmt(floor) : '—',
    verdict,
  };
});

const header = ['figure', 'zhicha', 'peer', 'peer figure', 'zhicha vs peer', 'floor', 'target'];
const cells = rows.map((r) => [r.what, r.zhicha, r.peerName, r.peer, r.ratio, r.floor, r.verdict]);
const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
const line = (c) => c.map((x, i) => x.padEnd(widths[i])).join('  ');
console.log(line(header));
console.log(widths.map((w) => '-'.repeat(w)).join('  '));
for (const c of cells) console.log(line(c));

const md = (c) => `| ${c.join(' | ')} |`;
const details = [...figures.values()].map((f) => `| \`${f.id}\` | ${fmt(f)} | ${f.note ?? ''} |`);
const notes = readFileSync(join(here, 'NOTES.md'), 'utf8');
writeFileSync(docsFile, `# Benchmarks — 直查 side by side with what users would otherwise pick

Generated by \`scripts/bench\` (${meta.date}); every figure below comes from that one run on one
machine: ${meta.machine}. Peers and zhicha ran in the same run, one after the other; other work
on the machine during the run adds noise (${meta.load ?? 'load not recorded'}), so each figure
is the median of several runs (the count is in the detail table).

${md(header)}
${md(header.map(() => '---'))}
${cells.map(md).join('\n')}

"zhicha vs peer" is how many times faster (or lighter, or higher throughput) zhicha is than the
peer. The floor is the same work done with nothing on top: raw IndexedDB in plain JS, the disk's
sequential write speed, SQLite's own insert rate for the same rows.

## Reproduce

\`\`\`sh
scripts/bench              # installs what is missing, builds, measures, prints the table, rewrites this file
BENCH_RUNS=5 scripts/bench # more runs per figure (default ${meta.runs})
\`\`\`

It needs nothing but a Debian machine that reaches crates.io, npm and Debian's packages: it
sources \`scripts/setup.sh\` (Rust, Trunk, wasm-bindgen, binaryen, Chromium, PostgreSQL), builds the
release PWA and the server binary (\`cargo build --release -p zhicha-server\`), and installs
the peers with \`npm ci --ignore-scripts\` in \`bench/\` (pinned in \`bench/package-lock.json\`).
PostgreSQL is \`ZHICHA_BENCH_PG_URL\` (default \`postgres://postgres@127.0.0.1:5432/test\`; a fresh
database is created and dropped per run); without it the PostgreSQL rows say "not measured".

## Every figure

| id | value | how |
| --- | --- | --- |
${details.join('\n')}

${notes}`);
