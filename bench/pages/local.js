// Browser side of the local-storage and photo-pipeline benchmarks of the peers: PouchDB
// (pouchdb-browser, its IndexedDB adapter), raw IndexedDB in plain JS (the floor), and
// browser-image-compression. Bundled by esbuild into build/local.js; driven by bench/local.mjs.
import PouchDB from 'pouchdb-browser';
import imageCompression from 'browser-image-compression';

const now = () => performance.now();
const uuid = () => crypto.randomUUID();

/** A finding shaped like zhicha's `Finding` JSON (the same text as benches/storage.rs). */
function finding(n, inspectionId, photos = []) {
  return {
    id: uuid(),
    inspection_id: inspectionId,
    enterprise_id: uuid(),
    org_id: uuid(),
    item_id: `coal-ug-8-${String(n).padStart(2, '0')}`,
    description: `第${n}处：局部通风机未实现双风机双电源自动切换，现场查看切换试验记录缺失`,
    place: '1201 回风巷',
    level: n % 5 === 0 ? 'major' : 'general',
    legal_basis: '《煤矿重大事故隐患判定标准》第八条（三）',
    basis_unverified: false,
    measure: 'deadline',
    deadline: '2026-12-31',
    photos,
    after_photos: [],
    status: 'draft',
    supervised: false,
    created_by: uuid(),
    created_at: new Date().toISOString(),
    history: [],
  };
}

/** `bytes` of noise after a JPEG signature, like a compressed photo (does not compress). */
function photoBlob(bytes, seed) {
  const data = new Uint8Array(bytes);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < bytes; i++) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    data[i] = x & 0xff;
  }
  data.set([0xff, 0xd8, 0xff, 0xe0]);
  return new Blob([data], { type: 'image/jpeg' });
}

async function sha256Hex(blob) {
  const digest = await crypto.subtle.digest('SHA-256', await blob.arrayBuffer());
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

const request = (r) => new Promise((resolve, reject) => {
  r.onsuccess = () => resolve(r.result);
  r.onerror = () => reject(r.error);
});
const done = (tx) => new Promise((resolve, reject) => {
  tx.oncomplete = resolve;
  tx.onerror = () => reject(tx.error);
  tx.onabort = () => reject(tx.error ?? new Error('aborted'));
});

async function openRaw(name) {
  const open = indexedDB.open(name, 1);
  open.onupgradeneeded = () => {
    const db = open.result;
    db.createObjectStore('findings', { keyPath: 'id' });
    db.createObjectStore('photos', { keyPath: 'hash' });
    db.createObjectStore('outbox', { keyPath: 'seq' });
  };
  return request(open);
}

const dropDb = (name) => request(indexedDB.deleteDatabase(name));

// ----- 1,000 findings -----

window.benchFindings = async (peer, count) => {
  const inspectionId = uuid();
  const docs = Array.from({ length: count }, (_, n) => finding(n, inspectionId));
  const name = `bench-${peer}-${uuid()}`;
  let write;
  let read;
  if (peer === 'pouchdb') {
    const db = new PouchDB(name);
    await db.info();
    const pouchDocs = docs.map((d) => ({ _id: d.id, ...d }));
    const t0 = now();
    const result = await db.bulkDocs(pouchDocs);
    write = now() - t0;
    if (result.some((r) => r.error)) throw new Error('bulkDocs failed');
    const t1 = now();
    const all = await db.allDocs({ include_docs: true });
    read = now() - t1;
    if (all.rows.length !== count) throw new Error(`read ${all.rows.length}`);
    await db.destroy();
  } else {
    // 'raw-idb' puts the findings only; 'raw-idb-outbox' also puts, for each, the outbox record
    // zhicha keeps (the same payload again), so it writes the records zhicha writes.
    const withOutbox = peer === 'raw-idb-outbox';
    const db = await openRaw(name);
    const t0 = now();
    const tx = db.transaction(['findings', 'outbox'], 'readwrite');
    const store = tx.objectStore('findings');
    const outbox = tx.objectStore('outbox');
    docs.forEach((d, n) => {
      store.put(d);
      if (withOutbox) {
        outbox.put({
          seq: n + 1,
          mutation: { mutation_id: uuid(), seq: n + 1, kind: 'finding.save', entity_id: d.id, payload: d },
          created_at: new Date().toISOString(),
        });
      }
    });
    await done(tx);
    write = now() - t0;
    const t1 = now();
    const all = await request(db.transaction('findings').objectStore('findings').getAll());
    read = now() - t1;
    if (all.length !== count) throw new Error(`read ${all.length}`);
    db.close();
    await dropDb(name);
  }
  return { write, read };
};

// ----- 100 photos (one finding each) -----

window.benchPhotos = async (peer, count, bytes) => {
  const inspectionId = uuid();
  const blobs = Array.from({ length: count }, (_, n) => photoBlob(bytes, n + 1));
  const name = `bench-${peer}-${uuid()}`;
  let write;
  let read;
  let readBytes = 0;
  if (peer === 'pouchdb') {
    const db = new PouchDB(name);
    await db.info();
    const docs = blobs.map((blob, n) => {
      const d = finding(n, inspectionId);
      return { _id: d.id, ...d, _attachments: { 'photo.jpg': { content_type: 'image/jpeg', data: blob } } };
    });
    const t0 = now();
    const result = await db.bulkDocs(docs);
    write = now() - t0;
    if (result.some((r) => r.error)) throw new Error('bulkDocs failed');
    const t1 = now();
    for (const d of docs) {
      const blob = await db.getAttachment(d._id, 'photo.jpg');
      readBytes += (await blob.arrayBuffer()).byteLength;
    }
    read = now() - t1;
    await db.destroy();
  } else {
    // The floor: the same findings and blobs, hashed beforehand as zhicha's pipeline does.
    const hashes = await Promise.all(blobs.map(sha256Hex));
    const docs = blobs.map((_, n) => finding(n, inspectionId, [hashes[n]]));
    const db = await openRaw(name);
    const t0 = now();
    const tx = db.transaction(['findings', 'photos'], 'readwrite');
    const photos = tx.objectStore('photos');
    const findings = tx.objectStore('findings');
    blobs.forEach((blob, n) => photos.put({ hash: hashes[n], owner_id: docs[n].id, blob }));
    for (const d of docs) findings.put(d);
    await done(tx);
    write = now() - t0;
    const t1 = now();
    for (const hash of hashes) {
      const row = await request(db.transaction('photos').objectStore('photos').get(hash));
      readBytes += (await row.blob.arrayBuffer()).byteLength;
    }
    read = now() - t1;
    db.close();
    await dropDb(name);
  }
  if (readBytes !== count * bytes) throw new Error(`read ${readBytes} bytes`);
  return { write, read };
};

// ----- the photo pipeline: a 12 MP JPEG to a stored compressed photo -----

/** A 4000×3000 JPEG drawn exactly as benches/storage.rs draws it. */
async function cameraJpeg() {
  const canvas = new OffscreenCanvas(4000, 3000);
  const ctx = canvas.getContext('2d');
  for (let i = 0; i < 400; i++) {
    ctx.fillStyle = `hsl(${(i * 37) % 360}, 60%, ${30 + (i % 40)}%)`;
    ctx.fillRect((i * 97) % 4000, (i * 53) % 3000, 300, 200);
  }
  return canvas.convertToBlob({ type: 'image/jpeg', quality: 0.92 });
}

async function storeRaw(db, blob) {
  const hash = await sha256Hex(blob);
  const tx = db.transaction('photos', 'readwrite');
  tx.objectStore('photos').put({ hash, blob });
  await done(tx);
}

/** The plain-JS floor: decode, scale to ≤1600 px, JPEG 0.8, SHA-256, one IndexedDB put. */
async function rawPipeline(original) {
  const bitmap = await createImageBitmap(original, { imageOrientation: 'from-image' });
  const scale = Math.min(1, 1600 / Math.max(bitmap.width, bitmap.height));
  const canvas = new OffscreenCanvas(Math.round(bitmap.width * scale), Math.round(bitmap.height * scale));
  canvas.getContext('2d').drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  bitmap.close();
  return canvas.convertToBlob({ type: 'image/jpeg', quality: 0.8 });
}

window.benchPipeline = async (peer, runs) => {
  const original = await cameraJpeg();
  const name = `bench-pipeline-${peer}-${uuid()}`;
  const db = await openRaw(name);
  const times = [];
  let storedBytes = 0;
  for (let n = 0; n < runs; n++) {
    const t0 = now();
    let out;
    if (peer === 'browser-image-compression') {
      const file = new File([original], 'camera.jpg', { type: 'image/jpeg' });
      out = await imageCompression(file, {
        maxWidthOrHeight: 1600,
        initialQuality: 0.8,
        fileType: 'image/jpeg',
        useWebWorker: true,
        // Its worker loads the library from a CDN by default; serve the npm copy instead.
        libURL: `${location.origin}/node_modules/browser-image-compression/dist/browser-image-compression.js`,
      });
    } else {
      out = await rawPipeline(original);
    }
    await storeRaw(db, out);
    times.push(now() - t0);
    storedBytes = out.size;
  }
  db.close();
  await dropDb(name);
  return { times, storedBytes, originalBytes: original.size };
};

window.benchReady = true;
