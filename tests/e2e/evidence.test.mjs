// Evidence from the phone to a file anyone can check: the app registers its device key at login
// and signs what it pushes (the server takes nothing unsigned from a phone with a key); after a
// re-inspection syncs, the server's event log verifies, the 案卷 of the visit downloaded by a
// leader verifies offline with `verify-archive` (every event signed), and a changed byte fails.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { ApiClient, jpegFile, loginInApp, readStore } from './device.mjs';
import {
  SERVER_BIN, Server, launchBrowser, launchProfile, phonePage, until, waitForServiceWorker, waitForText,
} from './harness.mjs';
import { sign } from './screens.mjs';

const run = promisify(execFile);

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

/** Runs the server binary; resolves with its exit code and output, whatever the code. */
async function cli(args, env = {}) {
  try {
    const { stdout, stderr } = await run(SERVER_BIN, args, { env: { ...process.env, ...env } });
    return { code: 0, out: stdout + stderr };
  } catch (error) {
    return { code: error.code, out: (error.stdout ?? '') + (error.stderr ?? '') };
  }
}

test('a synced re-inspection: signed events, a log that verifies, a 案卷 that verifies and fails when changed', async () => {
  const server = await Server.start(['--demo']);
  const { context, page } = await phonePage(browser);
  const dir = await mkdtemp(join(tmpdir(), 'zhicha-archive-'));
  try {
    await loginInApp(page, server.url, 'inspector1', waitForText);
    await waitForServiceWorker(page);
    await page.goto(server.url + '/reinspections');
    const due = page.getByTestId('reinspection-item').first();
    await due.waitFor({ timeout: 30_000 });
    await due.getByRole('link', { name: '复查' }).click();
    await waitForText(page, '复查结果');
    await page.locator('input[name=result][value=passed]').check();
    await page.locator('input[name=after_photos]').setInputFiles(await jpegFile(page));
    await page.locator('form .photo-strip img').waitFor({ timeout: 20_000 });
    await page.getByTestId('reinspect-officers').locator('input[type=checkbox]').first().check();
    await page.getByRole('button', { name: '保存复查结果' }).click();
    await page.waitForURL(/\/inspections\/[0-9a-f-]{36}\/documents$/, { timeout: 30_000 });
    const recordId = page.url().match(/inspections\/([0-9a-f-]{36})\//)[1];
    await page.goto(server.url + '/');
    // Everything applied: a mutation the server refused (a bad or missing signature) would be
    // counted as a sync error instead.
    await waitForText(page, '未同步：0 条记录，0 张照片，0 条同步错误', 60_000);

    const log = await cli(['verify-log'], { ZHICHA_DATA: server.data });
    assert.equal(log.code, 0, log.out);
    assert.match(log.out, /事件日志校验通过/);

    // The leader downloads the visit's 案卷; it verifies offline, every event signed by the phone.
    const leader = await ApiClient.login(server.url, 'leader1');
    const res = await fetch(`${server.url}/api/v1/inspections/${recordId}/archive`, {
      headers: { authorization: `Bearer ${leader.token}` },
    });
    assert.equal(res.status, 200, await res.clone().text());
    const file = join(dir, 'archive.zip');
    await writeFile(file, Buffer.from(await res.arrayBuffer()));
    const good = await cli(['verify-archive', file]);
    assert.equal(good.code, 0, good.out);
    assert.match(good.out, /设备签名 [1-9]\d* 个有效（未签名事件 0 条）/);

    // One byte changed anywhere in the file: refused.
    const bytes = await readFile(file);
    bytes[Math.floor(bytes.length / 2)] ^= 0x01;
    const changed = join(dir, 'changed.zip');
    await writeFile(changed, bytes);
    const bad = await cli(['verify-archive', changed]);
    assert.notEqual(bad.code, 0, bad.out);
    assert.match(bad.out, /校验未通过/);
    assert.deepEqual(page.errors.filter((e) => !e.includes('Failed to load resource')), []);
  } finally {
    await rm(dir, { recursive: true, force: true });
    await context.close();
    await server.dispose();
  }
});

/** Stores a started unannounced visit with no findings on the phone, as the start screen would. */
async function startedVisit(page) {
  return page.evaluate(async () => {
    const req = (r) => new Promise((ok, fail) => { r.onsuccess = () => ok(r.result); r.onerror = () => fail(r.error); });
    const db = await new Promise((ok, fail) => {
      const r = indexedDB.open('zhicha');
      r.onsuccess = () => ok(r.result);
      r.onerror = () => fail(r.error);
    });
    const session = await req(db.transaction('meta').objectStore('meta').get('session'));
    const roster = await req(db.transaction('roster').objectStore('roster').getAll());
    const enterprises = await req(db.transaction('enterprises').objectStore('enterprises').getAll());
    const user = session.user;
    const partner = roster.find((u) => u.id !== user.id && u.org_id === user.org_id && u.certificate_no);
    const now = new Date().toISOString();
    const inspection = {
      id: crypto.randomUUID(), org_id: user.org_id, enterprise_id: enterprises[0].id, kind: 'unannounced',
      packs: [{ id: 'coal-underground', version: 1 }],
      inspectors: [
        { user_id: user.id, name: user.display_name, certificate_no: user.certificate_no ?? '15062101' },
        { user_id: partner.id, name: partner.display_name, certificate_no: partner.certificate_no },
      ],
      created_by: user.id, started_at: now, places: '主斜井', item_results: [],
      check_in: { at: now, location: null, gate_photo: null, note: '井口无信号' },
    };
    const tx = db.transaction(['inspections', 'outbox', 'meta'], 'readwrite');
    const meta = tx.objectStore('meta');
    const seq = (await req(meta.get('next_seq'))) ?? 1;
    tx.objectStore('inspections').put(inspection);
    tx.objectStore('outbox').add({
      seq, mutation: { mutation_id: crypto.randomUUID(), seq, kind: 'inspection.save', entity_id: inspection.id, payload: inspection },
      created_at: now,
    });
    meta.put(seq + 1, 'next_seq');
    await new Promise((ok, fail) => { tx.oncomplete = ok; tx.onerror = () => fail(tx.error); });
    db.close();
    return inspection.id;
  });
}

test('全过程记录: the recorder and a recorded 告知 sync with the visit, print on its record and verify in its 案卷', async () => {
  const server = await Server.start(['--demo']);
  // A phone whose microphone Chromium fakes (a tone), permission granted as the inspector would.
  const context = await launchProfile({
    args: ['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream'],
    options: { permissions: ['microphone'] },
  });
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') page.errors.push(m.text()); });
  const dir = await mkdtemp(join(tmpdir(), 'zhicha-archive-'));
  try {
    await loginInApp(page, server.url, 'inspector1', waitForText);
    await waitForServiceWorker(page);
    const id = await startedVisit(page);
    await page.goto(`${server.url}/inspections/${id}/finish`);
    const card = page.getByTestId('recording');
    await card.waitFor({ timeout: 30_000 });

    // The recorder: its serial typed, the clip's start and end stamped; an end before the start
    // is not possible with the buttons, and a missing serial is named.
    await card.getByTestId('recorder-start').click();
    await waitForText(page, '请填写执法记录仪编号');
    // Not saved (nor sent) while it is incomplete: the server would refuse it.
    await waitForText(page, '全过程记录不会保存');
    assert.equal((await readStore(page, 'inspections')).find((i) => i.id === id).recording, undefined);
    await card.getByTestId('recorder-serial').fill('DSJ-150621-07');
    await card.getByTestId('recorder-serial').dispatchEvent('change');
    await card.getByTestId('recorder-end').click();
    await page.waitForFunction(() => !document.body.innerText.includes('请填写执法记录仪编号'));
    assert.doesNotMatch(await card.getByTestId('recorder-started').innerText(), /未记录/);

    // The 告知, recorded with the (fake) microphone for a moment, stored with its hash.
    await card.getByTestId('announcement-record').click();
    await card.getByTestId('announcement-live').waitFor({ timeout: 20_000 });
    await page.waitForTimeout(1500);
    await card.getByTestId('announcement-record').click();
    await card.getByTestId('announcement-saved').waitFor({ timeout: 20_000 });
    await card.getByTestId('announcement-audio').waitFor();
    const saved = await card.getByTestId('announcement-saved').innerText();
    const prefix = saved.match(/校验值 ([0-9a-f]{8})/)[1];
    // Stamped with the phone's clock and with its offset to the server's, measured at login.
    const clip = (await readStore(page, 'photos')).find((p) => p.hash.startsWith(prefix));
    assert.equal(clip.meta.role, 'announcement');
    assert.equal(typeof clip.meta.clock_offset_ms, 'number');
    assert.ok(Math.abs(clip.meta.clock_offset_ms) < 5000, `offset ${clip.meta.clock_offset_ms} ms on one machine`);

    // Both inspectors and the person in charge sign; the visit is finished and its record printed.
    for (let n = 0; n < 2; n++) {
      const signer = page.getByTestId('inspector-signer').filter({ has: page.getByTestId('signature-pad') }).first();
      await sign(page, signer.getByTestId('signature-pad'));
      await signer.getByText('确认签名').click();
      await page.getByText('已签名').nth(n).waitFor();
    }
    await sign(page, page.getByTestId('enterprise-signer').getByTestId('signature-pad'));
    await page.getByTestId('enterprise-signer').getByText('确认签名').click();
    await page.getByTestId('blockers').waitFor({ state: 'detached' });
    await page.getByTestId('finish').click();
    await waitForText(page, '打印（A4）');
    const record = page.locator('[data-testid=document][data-kind=检记]');
    await record.waitFor();
    const line = await record.locator('tr[data-field=recording] td').innerText();
    assert.match(line, new RegExp(`执法记录仪DSJ-150621-07，录像.+至.+；告知录音1段（${prefix}）`));

    // Synced: the record carries the recording, and the audio is on the server.
    await page.goto(server.url + '/');
    await waitForText(page, '未同步：0 条记录，0 张照片，0 条同步错误', 60_000).catch(async (error) => {
      const errors = await readStore(page, 'sync_errors');
      throw new Error(`${error.message}\n${await page.locator('body').innerText()}\n${JSON.stringify(errors)}`);
    });
    const leader = await ApiClient.login(server.url, 'leader1');
    const stored = await until('the visit on the server', async () =>
      (await leader.everything()).get(`inspection/${id}`)?.data);
    assert.equal(stored.recording.recorder, 'DSJ-150621-07');
    assert.ok(stored.recording.started_at && stored.recording.ended_at);
    const audio = stored.recording.announcement;
    assert.ok(audio.startsWith(prefix));
    // The audio follows its record (uploads run after the records are pushed).
    const file = await until('the recorded 告知 on the server', async () => {
      const res = await fetch(`${server.url}/api/v1/photos/${audio}`, { headers: { authorization: `Bearer ${leader.token}` } });
      return res.status === 200 ? res : null;
    });
    assert.match(file.headers.get('content-type'), /^audio\//);

    // The 案卷 holds the audio, and verifies.
    const res = await fetch(`${server.url}/api/v1/inspections/${id}/archive`, { headers: { authorization: `Bearer ${leader.token}` } });
    assert.equal(res.status, 200);
    const zip = join(dir, 'visit.zip');
    await writeFile(zip, Buffer.from(await res.arrayBuffer()));
    assert.ok((await readFile(zip)).includes(Buffer.from(audio)), 'the audio is a file of the archive');
    const checked = await cli(['verify-archive', zip]);
    assert.equal(checked.code, 0, checked.out);
    assert.match(checked.out, /未签名事件 0 条/);
    assert.deepEqual(page.errors.filter((e) => !e.includes('Failed to load resource')), []);
  } finally {
    await rm(dir, { recursive: true, force: true });
    await context.dispose();
    await server.dispose();
  }
});
