// Server ingest: 10,000 findings pushed in batches of 100 and 1,000 photos of ~270 KB, to the
// real zhicha-server binary (SQLite, then PostgreSQL) and to pouchdb-server (LevelDB on disk)
// through _bulk_docs and standalone attachments; plus the disk's own floors.
// Usage: node server.mjs RESULTS.jsonl   (env: ZHICHA_SERVER_BIN, ZHICHA_BENCH_PG_URL, RUNS)
import { spawn, execFileSync } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, record } from './lib/stats.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const results = process.argv[2];
const RUNS = Number(process.env.RUNS ?? 3);
const FINDINGS = 10_000;
const BATCH = 100;
const PHOTOS = 1000;
const PHOTO_BYTES = 270 * 1024;
// For profiling one phase at a time: BENCH_ONLY=docs|photos (zhicha only, with ZHICHA_SERVER_WRAP).
const ONLY = process.env.BENCH_ONLY;
// Temporary data goes next to the repository (the same disk as a deployment's data folder would
// be on this machine), not to a tmpfs.
const scratch = process.env.BENCH_SCRATCH ?? join(here, '..', 'target', 'bench-scratch');

/** `bytes` of noise after a JPEG signature: unique per seed, does not compress. */
function photo(seed) {
  const data = Buffer.allocUnsafe(PHOTO_BYTES);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < PHOTO_BYTES; i++) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    data[i] = x & 0xff;
  }
  data.set([0xff, 0xd8, 0xff, 0xe0]);
  return data;
}

/** PHOTOS distinct photos (distinct seeds, and fresh ones each call, so none is held already). */
function photoSet() {
  const base = 1 + Math.floor(Math.random() * 2 ** 30);
  return Array.from({ length: PHOTOS }, (_, n) => photo(base + n));
}

/** A finding shaped like zhicha's `Finding` JSON (as the PWA sends it). */
function finding(n, inspection, user) {
  return {
    id: randomUUID(),
    inspection_id: inspection.id,
    enterprise_id: inspection.enterprise_id,
    org_id: inspection.org_id,
    item_id: null,
    description: `第${n}处：局部通风机未实现双风机双电源自动切换，现场查看切换试验记录缺失`,
    place: '1201 回风巷',
    level: n % 5 === 0 ? 'major' : 'general',
    legal_basis: '《煤矿重大事故隐患判定标准》第八条（三）',
    basis_unverified: false,
    measure: 'deadline',
    deadline: '2026-12-31',
    photos: [],
    after_photos: [],
    status: 'draft',
    supervised: false,
    created_by: user.id,
    created_at: new Date().toISOString(),
    history: [],
  };
}

function start(cmd, args, env, readyLine) {
  const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${cmd} did not start:\n${out}`)), 60_000);
    const onData = (chunk) => {
      out += chunk;
      const match = out.match(readyLine);
      if (match) {
        clearTimeout(timer);
        child.stdout.off('data', onData);
        child.stderr.off('data', onData);
        child.stdout.resume();
        child.stderr.resume();
        resolve({ child, url: match[1] });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => reject(new Error(`${cmd} exited ${code}:\n${out}`)));
  });
}

async function stop(child) {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

async function json(url, init = {}) {
  const response = await fetch(url, init);
  const body = await response.text();
  if (!response.ok) throw new Error(`${init.method ?? 'GET'} ${url}: ${response.status} ${body.slice(0, 300)}`);
  return JSON.parse(body);
}

// ----- zhicha -----

async function zhicha(backend, databaseUrl) {
  const data = mkdtempSync(join(scratch, 'zhicha-'));
  const env = {
    ZHICHA_ADDR: '127.0.0.1:0',
    ZHICHA_DATA: data,
    ZHICHA_DIST: data,
    ZHICHA_DEMO: '1',
    RUST_LOG: 'warn',
  };
  if (databaseUrl) env.DATABASE_URL = databaseUrl;
  else delete process.env.DATABASE_URL;
  // ZHICHA_SERVER_WRAP runs the server under a profiler, e.g. "perf record -g -o FILE --".
  const wrap = (process.env.ZHICHA_SERVER_WRAP ?? '').split(' ').filter(Boolean);
  const [cmd, ...args] = [...wrap, process.env.ZHICHA_SERVER_BIN, 'serve'];
  const { child, url } = await start(cmd, args, env, /(http:\/\/[0-9.:]+)\//);
  try {
    const deviceId = randomUUID();
    const login = await json(`${url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'inspector1', password: 'zhicha-demo', device_id: deviceId }),
    });
    const auth = { authorization: `Bearer ${login.token}` };
    const user = login.user;
    const bootstrap = await json(`${url}/api/v1/bootstrap`, { headers: auth });
    const enterprise = bootstrap.enterprises[0];
    const pack = bootstrap.packs.find((p) => enterprise.sectors.includes(p.sector)) ?? bootstrap.packs[0];
    const partner = bootstrap.roster.find((u) => u.id !== user.id && u.org_id === user.org_id && u.certificate_no);
    const inspection = {
      id: randomUUID(),
      org_id: user.org_id,
      enterprise_id: enterprise.id,
      kind: 'unannounced',
      packs: [{ id: pack.id, version: pack.version }],
      inspectors: [
        { user_id: user.id, name: user.display_name, certificate_no: user.certificate_no ?? '' },
        { user_id: partner.id, name: partner.display_name, certificate_no: partner.certificate_no },
      ],
      created_by: user.id,
      started_at: new Date().toISOString(),
      places: '主井口',
    };
    let seq = 0;
    const mutation = (kind, entity) => ({
      mutation_id: randomUUID(),
      seq: ++seq,
      kind,
      entity_id: entity.id,
      payload: entity,
    });
    const push = async (mutations) => {
      const reply = await json(`${url}/api/v1/sync/push`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ device_id: deviceId, mutations }),
      });
      const bad = reply.acks.find((a) => a.status !== 'applied');
      if (reply.gap || bad || reply.acks.length !== mutations.length) {
        throw new Error(`push not applied: ${JSON.stringify(reply).slice(0, 400)}`);
      }
    };
    await push([mutation('inspection.save', inspection)]);
    const batches = [];
    for (let b = 0; b < FINDINGS / BATCH; b++) {
      batches.push(Array.from({ length: BATCH }, (_, i) => mutation('finding.save', finding(b * BATCH + i, inspection, user))));
    }
    const t0 = performance.now();
    if (ONLY !== 'photos') for (const batch of batches) await push(batch);
    const pushSecs = (performance.now() - t0) / 1000;
    if (ONLY === 'docs') return { docsPerSec: FINDINGS / pushSecs, mbPerSec: NaN };

    const photos = photoSet();
    const hashes = photos.map((bytes) => createHash('sha256').update(bytes).digest('hex'));
    const t1 = performance.now();
    for (let n = 0; n < PHOTOS; n++) {
      const response = await fetch(`${url}/api/v1/photos/${hashes[n]}`, {
        method: 'PUT',
        headers: { ...auth, 'content-type': 'image/jpeg' },
        body: photos[n],
      });
      await response.arrayBuffer();
      if (response.status !== 201) throw new Error(`photo PUT: ${response.status}`);
    }
    const photoSecs = (performance.now() - t1) / 1000;
    return { docsPerSec: FINDINGS / pushSecs, mbPerSec: (PHOTOS * PHOTO_BYTES) / 1e6 / photoSecs };
  } finally {
    await stop(child);
    rmSync(data, { recursive: true, force: true });
  }
}

// ----- pouchdb-server -----

async function pouchdb() {
  const dir = mkdtempSync(join(scratch, 'pouchdb-'));
  // Log only errors, as zhicha runs with RUST_LOG=warn.
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ log: { level: 'error', file: join(dir, 'log.txt') } }));
  const port = 20000 + Math.floor(Math.random() * 20000);
  const child = spawn(
    process.execPath,
    [join(here, 'node_modules/pouchdb-server/bin/pouchdb-server'), '--port', String(port), '--dir', dir, '--config', join(dir, 'config.json'), '-n'],
    { stdio: 'ignore' },
  );
  const url = `http://127.0.0.1:${port}`;
  try {
    // With -n it prints nothing: wait until it answers.
    let up = false;
    for (let i = 0; i < 600 && !up && child.exitCode === null; i++) {
      up = await fetch(url).then((r) => r.ok, () => false);
      if (!up) await new Promise((r) => setTimeout(r, 100));
    }
    if (!up) throw new Error('pouchdb-server did not start');
    const db = `${url}/bench`;
    await json(db, { method: 'PUT' });
    const inspection = { id: randomUUID(), enterprise_id: randomUUID(), org_id: randomUUID() };
    const user = { id: randomUUID() };
    const batches = [];
    for (let b = 0; b < FINDINGS / BATCH; b++) {
      batches.push(Array.from({ length: BATCH }, (_, i) => {
        const f = finding(b * BATCH + i, inspection, user);
        return { _id: f.id, ...f };
      }));
    }
    const t0 = performance.now();
    for (const docs of batches) {
      const reply = await json(`${db}/_bulk_docs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ docs }),
      });
      if (reply.length !== docs.length || reply.some((r) => r.error)) throw new Error('_bulk_docs failed');
    }
    const pushSecs = (performance.now() - t0) / 1000;

    const photos = photoSet();
    const t1 = performance.now();
    for (let n = 0; n < PHOTOS; n++) {
      // A standalone attachment PUT creates the document that holds it (CouchDB's photo upload).
      const response = await fetch(`${db}/photo-${n}/photo.jpg`, {
        method: 'PUT',
        headers: { 'content-type': 'image/jpeg' },
        body: photos[n],
      });
      await response.arrayBuffer();
      if (response.status !== 201) throw new Error(`attachment PUT: ${response.status}`);
    }
    const photoSecs = (performance.now() - t1) / 1000;
    return { docsPerSec: FINDINGS / pushSecs, mbPerSec: (PHOTOS * PHOTO_BYTES) / 1e6 / photoSecs };
  } finally {
    await stop(child);
    rmSync(dir, { recursive: true, force: true });
  }
}

// ----- floors: the disk itself -----

function ddMbPerSec() {
  const dir = mkdtempSync(join(scratch, 'disk-'));
  try {
    const t0 = performance.now();
    execFileSync('dd', ['if=/dev/zero', `of=${join(dir, 'blob')}`, 'bs=1M', 'count=512', 'conv=fdatasync'], { stdio: 'ignore' });
    return (512 * 1048576) / 1e6 / ((performance.now() - t0) / 1000);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** SQLite's own rate for the same rows: 10,000 JSON rows in transactions of 100 (WAL, FULL). */
function sqliteRowsPerSec() {
  const dir = mkdtempSync(join(scratch, 'sqlite-'));
  try {
    const out = execFileSync('python3', [join(here, 'sqlite_floor.py'), join(dir, 'floor.db'), String(FINDINGS), String(BATCH)]);
    return Number(out.toString().trim());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ----- run -----

execFileSync('mkdir', ['-p', scratch]);
if (ONLY) {
  // Profiling: one zhicha run on SQLite (or on ZHICHA_BENCH_PG_URL's server itself with
  // BENCH_BACKEND=postgres), figures printed, nothing recorded.
  const pgUrl = process.env.BENCH_BACKEND === 'postgres' ? process.env.ZHICHA_BENCH_PG_URL : undefined;
  console.log(await zhicha(pgUrl ? 'postgres' : 'sqlite', pgUrl));
  process.exit(0);
}
const runs = { 'zhicha-sqlite': [], 'zhicha-postgres': [], 'pouchdb-server': [] };
const pg = process.env.ZHICHA_BENCH_PG_URL;
for (let i = 0; i < RUNS; i++) {
  runs['zhicha-sqlite'].push(await zhicha('sqlite'));
  if (pg) {
    const name = `zhicha_bench_${process.pid}_${i}`;
    const admin = (sql) => execFileSync('psql', [pg, '-v', 'ON_ERROR_STOP=1', '-qc', sql]);
    admin(`CREATE DATABASE ${name}`);
    try {
      const url = new URL(pg);
      url.pathname = `/${name}`;
      runs['zhicha-postgres'].push(await zhicha('postgres', url.toString()));
    } finally {
      admin(`DROP DATABASE ${name}`);
    }
  }
  runs['pouchdb-server'].push(await pouchdb());
}
for (const [peer, list] of Object.entries(runs)) {
  if (!list.length) continue;
  const note = `median of ${list.length}`;
  record(results, { id: `ingest-docs/${peer}`, value: median(list.map((r) => r.docsPerSec)), unit: 'docs/s', note });
  record(results, { id: `ingest-photos/${peer}`, value: median(list.map((r) => r.mbPerSec)), unit: 'MB/s', note });
}
record(results, { id: 'ingest-photos/disk', value: ddMbPerSec(), unit: 'MB/s', note: 'dd 512 MiB sequential, fdatasync' });
record(results, { id: 'ingest-docs/sqlite', value: sqliteRowsPerSec(), unit: 'docs/s', note: `python sqlite3: ${FINDINGS} JSON rows, ${BATCH} per transaction, WAL, synchronous=FULL` });
