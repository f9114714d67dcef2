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
import { ApiClient, jpegFile, loginInApp } from './device.mjs';
import { SERVER_BIN, Server, launchBrowser, phonePage, waitForServiceWorker, waitForText } from './harness.mjs';

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
