// Helpers that act on the app's device database and on the server's API, for sync tests.
// `recordOffline` writes what the app's storage layer writes for an inspector's edits: the entity
// and its outbox mutation (with the next per-device seq) in one IndexedDB transaction, photos
// with their bytes and a `pending` mark. It runs inside the page, with the server down.

import { phonePage, waitForServiceWorker, waitForText } from './harness.mjs';

/** A phone that has logged in through the app and is controlled by its service worker. */
export async function installedPage(browser, server, username = 'inspector1') {
  const { context, page } = await phonePage(browser);
  await loginInApp(page, server.url, username, waitForText);
  await waitForServiceWorker(page);
  return { context, page };
}

/** Logs in through the app's login screen. */
export async function loginInApp(page, url, username, waitForText) {
  await page.goto(url + '/login');
  await page.locator('input[name=username]').fill(username);
  await page.locator('input[name=password]').fill('zhicha-demo');
  await page.locator('button[type=submit]').click();
  await waitForText(page, '检查记录', 30_000);
}

/**
 * Records an unannounced inspection with `findings` findings and `photos` photos spread over
 * them, as the app would offline. Returns the ids.
 */
export async function recordOffline(page, { findings = 3, photos = 5, photoSide = 1200, inspectors = 2 } = {}) {
  return page.evaluate(async ({ findings, photos, photoSide, inspectors }) => {
    const open = () => new Promise((ok, fail) => {
      const r = indexedDB.open('zhicha');
      r.onsuccess = () => ok(r.result);
      r.onerror = () => fail(r.error);
    });
    const req = (r) => new Promise((ok, fail) => { r.onsuccess = () => ok(r.result); r.onerror = () => fail(r.error); });
    const hex = (buf) => [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, '0')).join('');
    // Photos are made and hashed before the transaction opens, as the app does.
    const made = [];
    for (let i = 0; i < photos; i++) {
      const canvas = new OffscreenCanvas(photoSide, Math.round(photoSide * 0.75));
      const ctx = canvas.getContext('2d');
      for (let j = 0; j < 60; j++) {
        ctx.fillStyle = `hsl(${(i * 47 + j * 13) % 360}, 60%, ${30 + (j % 40)}%)`;
        ctx.fillRect((j * 71) % photoSide, (j * 37) % photoSide, 160, 120);
      }
      const blob = await canvas.convertToBlob({ type: 'image/jpeg', quality: 0.8 });
      const hash = hex(await crypto.subtle.digest('SHA-256', await blob.arrayBuffer()));
      made.push({ blob, hash, width: canvas.width, height: canvas.height });
    }
    const db = await open();
    const session = await req(db.transaction('meta').objectStore('meta').get('session'));
    const roster = await req(db.transaction('roster').objectStore('roster').getAll());
    const enterprises = await req(db.transaction('enterprises').objectStore('enterprises').getAll());
    const user = session.user;
    const partner = roster.find((u) => u.id !== user.id && u.org_id === user.org_id && u.certificate_no);
    const enterprise = enterprises[0];
    const now = new Date().toISOString();
    const inspection = {
      id: crypto.randomUUID(), org_id: user.org_id, enterprise_id: enterprise.id, kind: 'unannounced',
      packs: [{ id: 'coal-underground', version: 1 }],
      inspectors: [
        { user_id: user.id, name: user.display_name, certificate_no: user.certificate_no ?? '15062101' },
        { user_id: partner.id, name: partner.display_name, certificate_no: partner.certificate_no },
      ].slice(0, inspectors),
      created_by: user.id, started_at: now, places: '主斜井、1201 工作面', item_results: [],
    };
    const list = [];
    for (let i = 0; i < findings; i++) {
      list.push({
        id: crypto.randomUUID(), inspection_id: inspection.id, enterprise_id: enterprise.id, org_id: user.org_id,
        description: `第${i + 1}处隐患：瓦斯检查记录不全`, place: '1201 工作面', level: 'general',
        legal_basis: '', measure: 'deadline', deadline: '2027-01-31', photos: [], after_photos: [],
        status: 'draft', supervised: false, created_by: user.id, created_at: now, history: [],
      });
    }
    const photoRows = made.map((p, i) => {
      const finding = list[i % list.length];
      finding.photos.push(p.hash);
      const meta = {
        hash: p.hash, owner: { type: 'finding', id: finding.id }, role: 'evidence', bytes: p.blob.size,
        width: p.width, height: p.height, mime: 'image/jpeg', captured_at: now,
      };
      return { hash: p.hash, owner_id: finding.id, meta, pending: 1, blob: p.blob };
    });
    const tx = db.transaction(['inspections', 'findings', 'photos', 'outbox', 'meta'], 'readwrite');
    const meta = tx.objectStore('meta');
    let seq = (await req(meta.get('next_seq'))) ?? 1;
    const outbox = tx.objectStore('outbox');
    const enqueue = (kind, entity_id, payload) => {
      outbox.add({ seq, mutation: { mutation_id: crypto.randomUUID(), seq, kind, entity_id, payload }, created_at: now });
      seq += 1;
    };
    tx.objectStore('inspections').put(inspection);
    enqueue('inspection.save', inspection.id, inspection);
    for (const f of list) {
      tx.objectStore('findings').put(f);
      enqueue('finding.save', f.id, f);
      for (const row of photoRows.filter((r) => r.owner_id === f.id)) {
        tx.objectStore('photos').put(row);
        enqueue('photo.attach', f.id, row.meta);
      }
      enqueue('finding.submit', f.id, { comment: '' });
    }
    meta.put(seq, 'next_seq');
    await new Promise((ok, fail) => { tx.oncomplete = ok; tx.onerror = () => fail(tx.error); tx.onabort = () => fail(tx.error); });
    db.close();
    return { inspection: inspection.id, findings: list.map((f) => f.id), photos: made.map((p) => p.hash) };
  }, { findings, photos, photoSide, inspectors });
}

/** Reads a store of the app's database. */
export async function readStore(page, store) {
  return page.evaluate(async (store) => {
    const db = await new Promise((ok) => { const r = indexedDB.open('zhicha'); r.onsuccess = () => ok(r.result); });
    const all = await new Promise((ok) => { const r = db.transaction(store).objectStore(store).getAll(); r.onsuccess = () => ok(r.result); });
    db.close();
    return all.map((row) => { const copy = { ...row }; delete copy.blob; return copy; });
  }, store);
}

/** A client of the server's API, as another device (a leader's tablet, say). */
export class ApiClient {
  static async login(url, username) {
    const device_id = crypto.randomUUID();
    const res = await fetch(`${url}/api/v1/auth/login`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password: 'zhicha-demo', device_id }),
    });
    if (!res.ok) throw new Error(`login ${username}: ${res.status} ${await res.text()}`);
    const body = await res.json();
    return new ApiClient(url, body.token, device_id);
  }

  constructor(url, token, deviceId) {
    this.url = url;
    this.token = token;
    this.deviceId = deviceId;
    this.seq = 1;
  }

  async get(path) {
    const res = await fetch(this.url + '/api/v1' + path, { headers: { authorization: `Bearer ${this.token}` } });
    if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
    return res.json();
  }

  async push(kind, entity_id, payload) {
    const mutation = { mutation_id: crypto.randomUUID(), seq: this.seq++, kind, entity_id, payload };
    const res = await fetch(this.url + '/api/v1/sync/push', {
      method: 'POST', headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ device_id: this.deviceId, mutations: [mutation] }),
    });
    if (!res.ok) throw new Error(`push ${kind}: ${res.status} ${await res.text()}`);
    return (await res.json()).acks[0];
  }

  /** The latest state of every entity this user may see, from the change log. */
  async everything() {
    const latest = new Map();
    let cursor;
    for (;;) {
      const page = await this.get(`/sync/pull?limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      for (const c of page.changes) latest.set(`${c.entity}/${c.id}`, c);
      cursor = page.cursor;
      if (!page.has_more || page.changes.length === 0) return latest;
    }
  }
}

/**
 * Records one 重大 finding (with a photo, its clause and a deadline, as a major finding needs)
 * in a new inspection and submits it, as the app's storage layer writes it. Returns the ids.
 */
export async function recordMajorFinding(page, description) {
  return page.evaluate(async (description) => {
    const req = (r) => new Promise((ok, fail) => { r.onsuccess = () => ok(r.result); r.onerror = () => fail(r.error); });
    const hex = (buf) => [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, '0')).join('');
    const canvas = new OffscreenCanvas(800, 600);
    const ctx = canvas.getContext('2d');
    ctx.fillStyle = '#6b4e00';
    ctx.fillRect(0, 0, 800, 600);
    ctx.fillStyle = '#ffd54f';
    ctx.fillRect(200, 150, 400, 300);
    const blob = await canvas.convertToBlob({ type: 'image/jpeg', quality: 0.8 });
    const hash = hex(await crypto.subtle.digest('SHA-256', await blob.arrayBuffer()));
    const db = await new Promise((ok, fail) => { const r = indexedDB.open('zhicha'); r.onsuccess = () => ok(r.result); r.onerror = () => fail(r.error); });
    const session = await req(db.transaction('meta').objectStore('meta').get('session'));
    const roster = await req(db.transaction('roster').objectStore('roster').getAll());
    const enterprises = await req(db.transaction('enterprises').objectStore('enterprises').getAll());
    const user = session.user;
    const partner = roster.find((u) => u.id !== user.id && u.org_id === user.org_id && u.certificate_no);
    const enterprise = enterprises[0];
    const now = new Date().toISOString();
    const inspection = {
      id: crypto.randomUUID(), org_id: user.org_id, enterprise_id: enterprise.id, kind: 'unannounced',
      packs: [{ id: 'coal-underground', version: 1 }],
      inspectors: [
        { user_id: user.id, name: user.display_name, certificate_no: user.certificate_no ?? '15062101' },
        { user_id: partner.id, name: partner.display_name, certificate_no: partner.certificate_no },
      ],
      created_by: user.id, started_at: now, places: '主斜井', item_results: [],
    };
    const finding = {
      id: crypto.randomUUID(), inspection_id: inspection.id, enterprise_id: enterprise.id, org_id: user.org_id,
      description, place: '主斜井井口', level: 'major',
      legal_basis: '《煤矿重大事故隐患判定标准》第三条', measure: 'deadline', deadline: '2099-12-31',
      photos: [hash], after_photos: [], status: 'draft', supervised: false, created_by: user.id, created_at: now, history: [],
    };
    const meta = {
      hash, owner: { type: 'finding', id: finding.id }, role: 'evidence', bytes: blob.size,
      width: 800, height: 600, mime: 'image/jpeg', captured_at: now,
    };
    const tx = db.transaction(['inspections', 'findings', 'photos', 'outbox', 'meta'], 'readwrite');
    const metaStore = tx.objectStore('meta');
    let seq = (await req(metaStore.get('next_seq'))) ?? 1;
    const outbox = tx.objectStore('outbox');
    const enqueue = (kind, entity_id, payload) => {
      outbox.add({ seq, mutation: { mutation_id: crypto.randomUUID(), seq, kind, entity_id, payload }, created_at: now });
      seq += 1;
    };
    tx.objectStore('inspections').put(inspection);
    enqueue('inspection.save', inspection.id, inspection);
    tx.objectStore('findings').put(finding);
    enqueue('finding.save', finding.id, finding);
    tx.objectStore('photos').put({ hash, owner_id: finding.id, meta, pending: 1, blob });
    enqueue('photo.attach', finding.id, meta);
    enqueue('finding.submit', finding.id, { comment: '' });
    metaStore.put(seq, 'next_seq');
    await new Promise((ok, fail) => { tx.oncomplete = ok; tx.onerror = () => fail(tx.error); tx.onabort = () => fail(tx.error); });
    db.close();
    return { inspection: inspection.id, finding: finding.id, photo: hash, enterprise: enterprise.id, enterpriseName: enterprise.name };
  }, description);
}

/** A JPEG made in the page, as a file for a file input (an after-photo, say). */
export async function jpegFile(page, name = 'after.jpg') {
  const base64 = await page.evaluate(async () => {
    const canvas = new OffscreenCanvas(640, 480);
    const ctx = canvas.getContext('2d');
    ctx.fillStyle = '#17622f';
    ctx.fillRect(0, 0, 640, 480);
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(100, 100, 440, 280);
    const bytes = new Uint8Array(await (await canvas.convertToBlob({ type: 'image/jpeg', quality: 0.85 })).arrayBuffer());
    let text = '';
    for (const b of bytes) text += String.fromCharCode(b);
    return btoa(text);
  });
  return { name, mimeType: 'image/jpeg', buffer: Buffer.from(base64, 'base64') };
}
