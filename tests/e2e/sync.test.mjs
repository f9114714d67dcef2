// The sync engine against the real server: offline work arrives by itself, exactly once, and
// a leader's decision comes back to the inspector without losing the inspector's later edit.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ApiClient, installedPage as signedIn, readStore, recordOffline } from './device.mjs';
import { Server, launchBrowser, until, waitForText } from './harness.mjs';

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

const installedPage = (server, username) => signedIn(browser, server, username);


test('an inspection recorded while the server is down reaches it within 30 s of its start', async () => {
  const server = await Server.start(['--demo']);
  try {
    const { context, page } = await installedPage(server);
    await server.stop();
    const ids = await recordOffline(page, { findings: 3, photos: 5 });
    await page.reload();
    await waitForText(page, '待同步');

    await server.start();
    const started = Date.now();
    const leader = await ApiClient.login(server.url, 'leader1');
    const receipt = await until('a complete receipt', async () => {
      const r = await leader.get(`/sync/receipt?inspection=${ids.inspection}`);
      return r.complete && r.photos_present.length === 5 ? r : false;
    }, 30_000);
    assert.ok(Date.now() - started <= 30_000);
    assert.deepEqual([...receipt.photos_expected].sort(), [...ids.photos].sort());

    // The device agrees: nothing queued, nothing pending, and it says so.
    await until('an empty outbox', async () => (await readStore(page, 'outbox')).length === 0, 30_000);
    await page.locator('.sync button').click();
    await waitForText(page, '已同步', 30_000);
    assert.equal((await readStore(page, 'photos')).filter((p) => p.pending).length, 0);
    const everything = await leader.everything();
    for (const id of ids.findings) {
      assert.equal(everything.get(`finding/${id}`)?.data.status, 'submitted');
    }
    await context.close();
  } finally {
    await server.dispose();
  }
});

test('killing the server during pushes and photo uploads loses and duplicates nothing', async () => {
  const server = await Server.start(['--demo']);
  try {
    const { context, page } = await installedPage(server);
    await server.stop();
    const ids = await recordOffline(page, { findings: 6, photos: 8, photoSide: 1600 });
    await page.reload();
    await waitForText(page, '待同步');

    // Kill the server the moment the app sends a push or a photo, several times each.
    const kills = { push: 0, photo: 0 };
    let restarting = false;
    page.on('request', (request) => {
      const url = request.url();
      const kind = url.includes('/sync/push') ? 'push' : (request.method() === 'PUT' && url.includes('/photos/') ? 'photo' : null);
      if (!kind || restarting || kills[kind] >= 3) return;
      kills[kind] += 1;
      restarting = true;
      server.stop().then(() => new Promise((r) => setTimeout(r, 300))).then(() => server.start()).then(() => { restarting = false; });
    });
    await server.start();
    await until('three kills during pushes and three during uploads', async () => kills.push >= 3 && kills.photo >= 3 && !restarting, 90_000);

    const leader = await ApiClient.login(server.url, 'leader1');
    await until('a complete receipt', async () => {
      const r = await leader.get(`/sync/receipt?inspection=${ids.inspection}`);
      return r.complete;
    }, 60_000);
    await until('an empty outbox', async () => (await readStore(page, 'outbox')).length === 0, 60_000);
    const everything = await leader.everything();
    const findings = [...everything.values()].filter((c) => c.entity === 'finding' && c.data?.inspection_id === ids.inspection);
    assert.equal(findings.length, 6, 'every finding exactly once');
    const receipt = await leader.get(`/sync/receipt?inspection=${ids.inspection}`);
    assert.equal(receipt.photos_present.length, 8, 'every photo exactly once');
    assert.equal(new Set(receipt.photos_present).size, 8);
    assert.equal((await readStore(page, 'sync_errors')).length, 0, 'no mutation was rejected');
    await context.close();
  } finally {
    await server.dispose();
  }
});

test("a leader's decision reaches the device and a later offline edit is kept and goes back to review", async () => {
  const server = await Server.start(['--demo']);
  try {
    const { context, page } = await installedPage(server);
    const ids = await recordOffline(page, { findings: 1, photos: 1 });
    await page.locator('.sync button').click();
    const leader = await ApiClient.login(server.url, 'leader1');
    const finding = ids.findings[0];
    await until('the submitted finding on the server', async () =>
      (await leader.everything()).get(`finding/${finding}`)?.data.status === 'submitted', 30_000);
    const ack = await leader.push('finding.confirm', finding, { comment: '情况属实，限期整改' });
    assert.equal(ack.status, 'applied');

    // The decision comes down to the device.
    await page.locator('.sync button').click();
    const local = await until('the decision on the device', async () =>
      (await readStore(page, 'findings')).find((f) => f.id === finding && f.status === 'rectifying'), 30_000);

    // Offline, the inspector corrects the description after the decision.
    await server.stop();
    await page.evaluate(async (f) => {
      const db = await new Promise((ok) => { const r = indexedDB.open('zhicha'); r.onsuccess = () => ok(r.result); });
      const tx = db.transaction(['findings', 'outbox', 'meta'], 'readwrite');
      const meta = tx.objectStore('meta');
      const seqReq = meta.get('next_seq');
      seqReq.onsuccess = () => {
        const seq = seqReq.result;
        const edited = { ...f, description: '补充：回风巷瓦斯传感器位置不当' };
        tx.objectStore('findings').put(edited);
        tx.objectStore('outbox').add({ seq, mutation: { mutation_id: crypto.randomUUID(), seq, kind: 'finding.save', entity_id: f.id, payload: edited }, created_at: new Date().toISOString() });
        meta.put(seq + 1, 'next_seq');
      };
      await new Promise((ok) => { tx.oncomplete = ok; });
      db.close();
    }, local);
    await server.start();
    await page.locator('.sync button').click();
    const onServer = await until('the edit on the server', async () => {
      const c = (await leader.everything()).get(`finding/${finding}`);
      return c?.data.description.startsWith('补充') ? c.data : false;
    }, 30_000);
    assert.equal(onServer.status, 'submitted', 'an edit after review goes back to review');
    assert.ok(onServer.history.some((h) => h.action === 'confirm'), 'the decision stays in the history');
    await context.close();
  } finally {
    await server.dispose();
  }
});

test('a rejected record is kept in a visible list with the server\'s message, resent or discarded after asking', async () => {
  const server = await Server.start(['--demo']);
  try {
    const { context, page } = await installedPage(server);
    // One inspector only: the server refuses it (at least two officers are required).
    await recordOffline(page, { findings: 0, photos: 0, inspectors: 1 });
    await page.locator('.sync button').click();
    await waitForText(page, '1 条记录被服务器退回', 30_000);
    await waitForText(page, '出错');
    await page.getByText('1 条记录被服务器退回').click();
    await waitForText(page, '检查人员不少于两人');
    assert.equal((await readStore(page, 'outbox')).length, 0, 'the queue is not blocked by it');
    const first = (await readStore(page, 'sync_errors'))[0].mutation_id;

    // Resending queues it again as a new mutation; the server refuses it again, and it is back.
    await page.getByRole('button', { name: '重新发送' }).click();
    await until('the resent record rejected again', async () => {
      const errors = await readStore(page, 'sync_errors');
      return errors.length === 1 && errors[0].mutation_id !== first;
    }, 30_000);
    await page.reload();
    await waitForText(page, '检查人员不少于两人');

    // Discarding asks first; cancelling keeps it.
    await page.getByRole('button', { name: '放弃' }).click();
    await waitForText(page, '确认放弃？');
    await page.getByRole('button', { name: '取消' }).click();
    assert.equal((await readStore(page, 'sync_errors')).length, 1);
    await page.getByRole('button', { name: '放弃' }).click();
    await page.getByRole('button', { name: '确认放弃' }).click();
    await waitForText(page, '没有同步错误。');
    assert.equal((await readStore(page, 'sync_errors')).length, 0);
    await context.close();
  } finally {
    await server.dispose();
  }
});
