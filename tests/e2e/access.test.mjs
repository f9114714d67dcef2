// Sessions end where the user ends them (built PWA, real server, Chromium): 退出登录 in the app
// revokes the token on the server, at once when online and on the next connection when the
// phone logged out offline; a password changed in the app ends the user's other sessions; a
// spent photo quota is said in Chinese, the records still go and the photos stay on the phone.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ApiClient, installedPage, loginInApp, readStore, recordOffline } from './device.mjs';
import { Server, launchBrowser, until, waitForText } from './harness.mjs';

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

/** The token of the session the app holds. */
async function appToken(page) {
  return page.evaluate(async () => {
    const db = await new Promise((ok) => { const r = indexedDB.open('zhicha'); r.onsuccess = () => ok(r.result); });
    const session = await new Promise((ok, fail) => {
      const r = db.transaction('meta').objectStore('meta').get('session');
      r.onsuccess = () => ok(r.result);
      r.onerror = () => fail(r.error);
    });
    db.close();
    return session?.token ?? null;
  });
}

/** What the server answers to the token: 200 while it is valid, 401 once revoked. */
async function tokenStatus(server, token) {
  const res = await fetch(`${server.url}/api/v1/bootstrap`, { headers: { authorization: `Bearer ${token}` } });
  await res.arrayBuffer();
  return res.status;
}

async function logOut(page, server) {
  await page.goto(server.url + '/storage');
  await page.getByRole('button', { name: '退出登录' }).click();
}

test('退出登录 revokes the token on the server, and offline on the next connection', async () => {
  const server = await Server.start(['--demo']);
  try {
    const { context, page } = await installedPage(browser, server);
    const online = await appToken(page);
    assert.ok(online, 'the app holds a session');
    assert.equal(await tokenStatus(server, online), 200);
    await logOut(page, server);
    await waitForText(page, '服务器上的登录令牌已注销');
    assert.equal(await appToken(page), null, 'the phone forgot the session');
    assert.equal(await tokenStatus(server, online), 401, 'the server no longer takes the token');

    // Logged in again, then logged out in a mine without signal.
    await loginInApp(page, server.url, 'inspector1', waitForText);
    const offline = await appToken(page);
    assert.notEqual(offline, online);
    await page.goto(server.url + '/storage');
    await context.setOffline(true);
    await page.getByRole('button', { name: '退出登录' }).click();
    await waitForText(page, '下次联网时在服务器上注销');
    assert.equal(await appToken(page), null, 'offline, the phone logs out all the same');
    assert.equal(await tokenStatus(server, offline), 200, 'the server has not heard yet');
    // Back in signal: the app tells the server by itself.
    await context.setOffline(false);
    await until('the token revoked after reconnecting', async () => (await tokenStatus(server, offline)) === 401, 60_000);
    await context.close();
  } finally {
    await server.dispose();
  }
});

test('a password changed in the app ends the other sessions and keeps this one', async () => {
  const server = await Server.start(['--demo']);
  try {
    const { context, page } = await installedPage(browser, server, 'inspector2');
    const login = (password) => fetch(`${server.url}/api/v1/auth/login`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'inspector2', password, device_id: crypto.randomUUID() }),
    });
    const other = await (await login('zhicha-demo')).json();
    await page.goto(server.url + '/storage');
    const form = page.getByRole('region', { name: '修改密码' });
    await form.locator('input[name=current-password]').fill('zhicha-demo');
    await form.locator('input[name=new-password]').fill('mine-shaft-42');
    await form.locator('input[name=new-password-again]').fill('mine-shaft-4');
    await form.getByRole('button', { name: '修改密码' }).click();
    await waitForText(page, '两次输入的新密码不一致');
    await form.locator('input[name=new-password-again]').fill('mine-shaft-42');
    await form.getByRole('button', { name: '修改密码' }).click();
    await waitForText(page, '密码已修改');
    assert.equal(await tokenStatus(server, other.token), 401, 'the other session ended');
    assert.equal(await tokenStatus(server, await appToken(page)), 200, 'this one goes on');
    assert.equal((await login('zhicha-demo')).status, 401);
    assert.equal((await login('mine-shaft-42')).status, 200);
    await context.close();
  } finally {
    await server.dispose();
  }
});

test('a spent photo quota is shown in Chinese; the records arrive and the photos wait on the phone', async () => {
  // A quota of 0 MB: the server takes no new photo at all.
  const server = await Server.start(['--demo'], { ZHICHA_PHOTO_QUOTA_MB: '0' });
  try {
    const { context, page } = await installedPage(browser, server);
    const ids = await recordOffline(page, { findings: 1, photos: 2 });
    await page.locator('.sync button').click();
    await waitForText(page, '24 小时内上传的新照片已达上限');
    await until('the records pushed', async () => (await readStore(page, 'outbox')).length === 0);
    // Colleagues' before-photos downloaded for re-inspections are the server's copies, not
    // this phone's work.
    const photos = (await readStore(page, 'photos')).filter((p) => !p.cached);
    assert.equal(photos.length, 2);
    assert.ok(photos.every((p) => p.pending === 1), 'the photos are kept, still to upload');
    const leader = await ApiClient.login(server.url, 'leader1');
    const receipt = await leader.get(`/sync/receipt?inspection=${ids.inspection}`);
    assert.equal(receipt.complete, false, 'the server knows photos are missing');
    await context.close();
  } finally {
    await server.dispose();
  }
});
