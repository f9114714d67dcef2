// Sync you can trust, end to end (built PWA, real server, Chromium): a push the server refuses
// outright does not block the queue; a server restored from an older copy gets back what the
// phone still holds; a shared phone is not handed over with the previous user's unsynced work.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ApiClient, installedPage as signedIn, loginInApp, readStore, recordOffline } from './device.mjs';
import { Server, launchBrowser, phonePage, until, waitForText } from './harness.mjs';

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

const installedPage = (server, username) => signedIn(browser, server, username);

/** Queues one raw mutation after whatever is queued, as the storage layer would. */
async function queueRaw(page, kind, entityId, payload) {
  await page.evaluate(async ({ kind, entityId, payload }) => {
    const db = await new Promise((ok) => { const r = indexedDB.open('zhicha'); r.onsuccess = () => ok(r.result); });
    const req = (r) => new Promise((ok, fail) => { r.onsuccess = () => ok(r.result); r.onerror = () => fail(r.error); });
    const tx = db.transaction(['outbox', 'meta'], 'readwrite');
    const seq = (await req(tx.objectStore('meta').get('next_seq'))) ?? 1;
    tx.objectStore('outbox').add({
      seq,
      mutation: { mutation_id: crypto.randomUUID(), seq, kind, entity_id: entityId, payload },
      created_at: new Date().toISOString(),
    });
    tx.objectStore('meta').put(seq + 1, 'next_seq');
    await new Promise((ok, fail) => { tx.oncomplete = ok; tx.onabort = () => fail(tx.error); });
    db.close();
  }, { kind, entityId, payload });
}

async function syncNow(page) {
  await page.locator('.sync button').click();
}

test('a push the server refuses outright moves the one entry at fault to the sync errors, and the rest arrives', async () => {
  const server = await Server.start(['--demo']);
  try {
    const { context, page } = await installedPage(server);
    await server.stop();
    const ids = await recordOffline(page, { findings: 2, photos: 0 });
    // A record too large for any push (over the server's 1 MB body limit), in the middle.
    const huge = crypto.randomUUID();
    await queueRaw(page, 'enterprise.save', huge, { id: huge, name: '超大记录', note: 'x'.repeat(1_200_000) });
    const later = await recordOffline(page, { findings: 1, photos: 0 });
    await server.start();
    await syncNow(page);
    await until('the queue drained', async () => (await readStore(page, 'outbox')).length === 0, 60_000);
    const errors = await readStore(page, 'sync_errors');
    assert.equal(errors.length, 1, JSON.stringify(errors.map((e) => e.error)));
    assert.equal(errors[0].mutation.entity_id, huge);
    assert.equal(errors[0].error.code, 'too_large');
    const leader = await ApiClient.login(server.url, 'leader1');
    for (const inspection of [ids.inspection, later.inspection]) {
      const receipt = await leader.get(`/sync/receipt?inspection=${inspection}`);
      assert.equal(receipt.complete, true, inspection);
    }
    await page.reload();
    await waitForText(page, '1 条记录被服务器退回');
    await context.close();
  } finally {
    await server.dispose();
  }
});

test('a server restored from an older copy gets back everything the phone had synced since', async () => {
  const server = await Server.start(['--demo']);
  const backup = mkdtempSync(join(tmpdir(), 'zhicha-backup-'));
  try {
    const { context, page } = await installedPage(server);
    const leader = await ApiClient.login(server.url, 'leader1');
    const complete = async (id) => (await leader.get(`/sync/receipt?inspection=${id}`).catch(() => ({}))).complete === true;

    const first = await recordOffline(page, { findings: 1, photos: 1 });
    await syncNow(page);
    await until('the first inspection on the server', () => complete(first.inspection), 30_000);
    await server.stop('SIGTERM');
    cpSync(server.data, backup, { recursive: true });
    await server.start();

    const second = await recordOffline(page, { findings: 2, photos: 2 });
    await syncNow(page);
    await until('the second inspection on the server', () => complete(second.inspection), 30_000);
    await until('nothing queued', async () => (await readStore(page, 'outbox')).length === 0, 30_000);

    // The server comes back from the copy taken before the second inspection.
    await server.stop('SIGTERM');
    rmSync(server.data, { recursive: true, force: true });
    cpSync(backup, server.data, { recursive: true });
    await server.start();
    const restored = await ApiClient.login(server.url, 'leader1');
    assert.equal((await restored.get(`/sync/receipt?inspection=${second.inspection}`).catch((e) => e)).complete, undefined,
      'the restored server does not have the second inspection');

    // The phone has nothing queued; its next round finds the gap and sends it all again.
    await syncNow(page);
    const back = async (id) => (await restored.get(`/sync/receipt?inspection=${id}`).catch(() => ({}))).complete === true;
    await until('the second inspection back, photos included', () => back(second.inspection), 60_000);
    assert.ok(await back(first.inspection));
    const page1 = await restored.get(`/findings?limit=500`);
    for (const id of second.findings) {
      assert.equal(page1.rows.filter((r) => r.id === id).length, 1, `finding ${id} once`);
    }
    assert.equal((await readStore(page, 'sync_errors')).length, 0);
    await context.close();
  } finally {
    await server.dispose();
    rmSync(backup, { recursive: true, force: true });
  }
});

test('another user cannot sign in over unsynced work; once it is synced the phone starts clean for them', async () => {
  const server = await Server.start(['--demo']);
  try {
    const { context, page } = await installedPage(server, 'inspector1');
    await server.stop();
    const mine = await recordOffline(page, { findings: 1, photos: 0 });
    // The session ends (expired, say) while the work is still on the phone.
    const forget = () => page.evaluate(async () => {
      const db = await new Promise((ok) => { const r = indexedDB.open('zhicha'); r.onsuccess = () => ok(r.result); });
      const tx = db.transaction('meta', 'readwrite');
      tx.objectStore('meta').delete('session');
      await new Promise((ok) => { tx.oncomplete = ok; });
      db.close();
    });
    await forget();
    await page.goto(server.url + '/login').catch(() => {});
    await page.locator('input[name=username]').fill('inspector2');
    await page.locator('input[name=password]').fill('zhicha-demo');
    await page.locator('button[type=submit]').click();
    await waitForText(page, '本机还有上一位用户未同步的记录');
    assert.equal((await readStore(page, 'outbox')).length > 0, true, 'nothing was touched');

    // The first user signs in again, and the work reaches the server.
    await server.start();
    await loginInApp(page, server.url, 'inspector1', waitForText);
    await syncNow(page);
    await until('nothing queued', async () => (await readStore(page, 'outbox')).length === 0, 30_000);

    // Another team's inspector: a pull could not bring the first user's records back.
    await forget();
    await loginInApp(page, server.url, 'inspector3', waitForText);
    const inspections = await readStore(page, 'inspections');
    assert.equal(inspections.some((i) => i.id === mine.inspection), false, 'the previous user\'s records are gone');
    const owner = (await readStore(page, 'meta')).find((v) => v && v.username);
    assert.equal(owner?.username, 'inspector3');
    await context.close();
  } finally {
    await server.dispose();
  }
});

test('a leader sees a conflict in the review queue and the revisions on the finding; a colleague\'s pulled inspection is not shown as unsynced', async () => {
  const server = await Server.start(['--demo']);
  try {
    // inspector1's phone records and submits a finding.
    const { context, page } = await installedPage(server, 'inspector1');
    const ids = await recordOffline(page, { findings: 1, photos: 0 });
    await syncNow(page);
    await until('nothing queued', async () => (await readStore(page, 'outbox')).length === 0, 30_000);
    const [finding] = (await readStore(page, 'findings')).filter((f) => f.id === ids.findings[0]);
    await context.close();

    // inspector2's tablet, which never saw that version, rewrites the finding's description.
    const tablet = await ApiClient.login(server.url, 'inspector2');
    const ack = await tablet.push('finding.save', finding.id, { ...finding, description: '平板上改写的描述' });
    assert.equal(ack.status, 'applied', JSON.stringify(ack));

    const leader = await phonePage(browser);
    await loginInApp(leader.page, server.url, 'leader1', waitForText);
    await leader.page.goto(server.url + '/leader/review');
    await waitForText(leader.page, '平板上改写的描述', 30_000);
    await leader.page.locator('[data-testid=conflict-badge]').first().waitFor({ timeout: 30_000 });
    await leader.page.locator('[data-testid=conflict-badge]').first().click();
    await waitForText(leader.page, '存在冲突修改');
    const revisions = await leader.page.locator('[data-testid=revisions]').innerText();
    assert.match(revisions, /冲突/);
    assert.match(revisions, /隐患描述/, revisions);
    await leader.context.close();

    // inspector2's phone pulls inspector1's inspection: a colleague's record, not unsynced work.
    const colleague = await installedPage(server, 'inspector2');
    await colleague.page.goto(server.url + '/');
    await until('the colleague\'s inspection pulled', async () =>
      (await readStore(colleague.page, 'inspections')).some((i) => i.id === ids.inspection), 30_000);
    await colleague.page.reload();
    const row = colleague.page.locator('li.inspection', {
      has: colleague.page.locator(`a[href$="${ids.inspection}"]`),
    });
    await row.locator('[data-testid=record-sync]').waitFor({ timeout: 20_000 });
    assert.equal(await row.locator('[data-testid=record-sync]').innerText(), '同事的记录 · 已在服务器');
    await colleague.context.close();
  } finally {
    await server.dispose();
  }
});
