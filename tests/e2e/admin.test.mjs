// 系统管理 in the app (built PWA, real server, Chromium): an admin does the operator's command-line
// tasks from the phone or a desk browser — units, accounts (add, role and team, the phones signed
// in, a lost phone's revocation, a password reset, disable and enable), the bureau's own Excel
// list saved as GBK CSV with a preview and its bad row, and the merge of an enterprise an
// inspector added on site into the directory entry it really is.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { ApiClient, installedPage, loginInApp, readStore } from './device.mjs';
import { Server, launchBrowser, until, waitForText, waitForServiceWorker } from './harness.mjs';
import { enterWithoutScan, phoneAtTheMine } from './screens.mjs';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

async function login(server, username, password, deviceId = crypto.randomUUID()) {
  const res = await fetch(`${server.url}/api/v1/auth/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password, device_id: deviceId }),
  });
  const body = await res.json();
  return { status: res.status, token: body.token, deviceId };
}

async function tokenStatus(server, token) {
  const res = await fetch(`${server.url}/api/v1/bootstrap`, { headers: { authorization: `Bearer ${token}` } });
  await res.arrayBuffer();
  return res.status;
}

/** Waits until the text of `locator` matches `pattern` (lists reload after each change). */
async function shows(locator, pattern) {
  await until(`text matching ${pattern}`, async () => pattern.test(await locator.textContent()), 15_000);
}

/** The value of the option of `select` whose text (indentation aside) is `label`. */
async function optionValue(select, label) {
  const options = await select.locator('option').evaluateAll((list) =>
    list.map((o) => ({ value: o.value, text: o.textContent.trim() })));
  const option = options.find((o) => o.text === label);
  assert.ok(option, `an option ${label} among ${options.map((o) => o.text).join(', ')}`);
  return option.value;
}

test('an admin manages units and accounts in the app, as the command line does', async () => {
  const server = await Server.start(['--demo']);
  try {
    const { context, page } = await installedPage(browser, server, 'admin');
    await page.getByRole('link', { name: '系统管理' }).click();
    await waitForText(page, '系统管理 · 账号');

    // A new team under the bureau: 文书字号 and region come from the bureau until changed.
    await page.locator('nav.tabs').getByRole('link', { name: '单位' }).click();
    await waitForText(page, '新增单位（执法队、科室）');
    await page.locator('input[name=org-name]').fill('第三执法中队');
    await page.getByRole('button', { name: '新增单位' }).click();
    await waitForText(page, '已新增单位 第三执法中队');
    const team = page.locator('[data-org="第三执法中队"]');
    await shows(team, /文书字号：\S+ · 地区：\S+/); // inherited from the bureau
    await page.getByRole('button', { name: '修改 第三执法中队' }).click();
    await page.locator('input[name=edit-org-region]').fill('树林召镇');
    await page.getByRole('button', { name: '保存修改' }).click();
    await waitForText(page, '已保存单位 第三执法中队');
    await shows(team, /地区：树林召镇/);

    // A new inspector of that team.
    await page.locator('nav.tabs').getByRole('link', { name: '账号' }).click();
    await waitForText(page, '新增账号');
    await page.locator('input[name=new-username]').fill('zhangsan');
    await page.locator('input[name=new-display-name]').fill('张三');
    const newOrg = page.locator('select[name=new-org]');
    await newOrg.selectOption(await optionValue(newOrg, '第三执法中队'));
    await page.locator('input[name=new-cert]').fill('15062100123');
    await page.locator('input[name=new-password]').fill('short');
    await page.getByRole('button', { name: '新增账号' }).click();
    await waitForText(page, '新密码至少 8 个字符');
    assert.equal((await login(server, 'zhangsan', 'short')).status, 401, 'a weak password made nothing');
    await page.locator('input[name=new-password]').fill('Field-2026-pass');
    await page.getByRole('button', { name: '新增账号' }).click();
    await waitForText(page, '已新增账号 zhangsan');
    const row = page.locator('tr[data-username=zhangsan]');
    await shows(row, /张三.*执法人员.*第三执法中队.*15062100123.*启用/);
    const phone = await login(server, 'zhangsan', 'Field-2026-pass');
    assert.equal(phone.status, 200, 'the new account signs in');

    // Made a team leader, and moved to another team.
    await page.getByRole('button', { name: '管理 zhangsan' }).click();
    await page.locator('select[name=edit-role]').selectOption('leader');
    const editOrg = page.locator('select[name=edit-org]');
    await editOrg.selectOption(await optionValue(editOrg, '综合行政执法二中队'));
    await page.getByRole('button', { name: '保存修改' }).click();
    await waitForText(page, '已保存账号信息');
    await shows(row, /队长.*综合行政执法二中队/);

    // A lost phone: its session listed by device, then revoked.
    const session = page.locator(`[data-device="${phone.deviceId}"]`);
    await session.waitFor();
    await session.getByRole('button', { name: '注销此设备' }).click();
    await waitForText(page, '已注销该设备的登录（1 个）');
    assert.equal(await tokenStatus(server, phone.token), 401, 'the lost phone is out');

    // A forgotten password, reset.
    const again = await login(server, 'zhangsan', 'Field-2026-pass');
    await page.locator('input[name=reset-password]').fill('Second-2026-pass');
    await page.getByRole('button', { name: '重置密码' }).click();
    await waitForText(page, '密码已重置');
    assert.equal(await tokenStatus(server, again.token), 401, 'a reset ends every session');
    assert.equal((await login(server, 'zhangsan', 'Field-2026-pass')).status, 401);
    const renewed = await login(server, 'zhangsan', 'Second-2026-pass');
    assert.equal(renewed.status, 200);

    // Every session ended at once (the phone and a tablet).
    const tablet = await login(server, 'zhangsan', 'Second-2026-pass');
    await page.getByRole('button', { name: '注销 zhangsan 的全部登录' }).click();
    await waitForText(page, '已注销全部登录（2 个）');
    assert.equal(await tokenStatus(server, renewed.token), 401);
    assert.equal(await tokenStatus(server, tablet.token), 401);
    const signedIn = await login(server, 'zhangsan', 'Second-2026-pass');

    // Disabled (after a confirmation), then enabled again.
    await page.getByRole('button', { name: '停用账号' }).click();
    await page.getByRole('button', { name: '确认停用' }).click();
    await waitForText(page, '账号已停用');
    await shows(row, /已停用/);
    assert.equal(await tokenStatus(server, signedIn.token), 401);
    assert.notEqual((await login(server, 'zhangsan', 'Second-2026-pass')).status, 200, 'a disabled account cannot sign in');
    await page.getByRole('button', { name: '启用账号' }).click();
    await waitForText(page, '账号已启用');
    assert.equal((await login(server, 'zhangsan', 'Second-2026-pass')).status, 200);

    // The admin cannot lock himself out.
    await page.getByRole('button', { name: '管理 admin' }).click();
    await page.getByRole('button', { name: '停用账号' }).click();
    await page.getByRole('button', { name: '确认停用' }).click();
    await page.locator('.admin-user [role=alert]').waitFor();
    assert.match(await page.locator('.admin-user [role=alert]').textContent(), /自己/);

    // An inspector is told the screen is not his, and the server refuses him too.
    const inspector = await ApiClient.login(server.url, 'inspector1');
    const refused = await fetch(`${server.url}/api/v1/admin/users`, { headers: { authorization: `Bearer ${inspector.token}` } });
    assert.equal(refused.status, 403);
    const other = await installedPage(browser, server, 'inspector1');
    await other.page.goto(server.url + '/admin/users');
    await waitForText(other.page, '此页面仅供管理员使用。');
    assert.equal(await other.page.locator('tr[data-username]').count(), 0);
    await other.context.close();
    await context.close();
  } finally {
    await server.dispose();
  }
});

test('an admin imports the bureau list as GBK CSV with a preview, and merges an on-site entry', async () => {
  const server = await Server.start(['--demo']);
  try {
    // An inspector at a site missing from the directory adds it on site and starts there.
    const field = await phoneAtTheMine(browser);
    await loginInApp(field.page, server.url, 'inspector1', waitForText);
    await waitForServiceWorker(field.page);
    await field.page.getByTestId('new-inspection').click();
    await field.page.getByRole('button', { name: '现场新增单位（名录中没有的）' }).click();
    await field.page.getByTestId('adhoc-name').fill('恒泰建材（现场）');
    await field.page.getByTestId('adhoc-township').fill('树林召镇');
    await field.page.getByLabel('工贸').check();
    await field.page.getByRole('button', { name: '保存并开始检查' }).click();
    await waitForText(field.page, '签到并开始检查');
    await field.page.getByTestId('co-inspectors').getByText('李海燕').click();
    await waitForText(field.page, '精度约 ±12 米');
    await enterWithoutScan(field.page);
    await field.page.getByTestId('start').click();
    await waitForText(field.page, '已检查 0 /');
    // Back on the home screen with signal: 立即同步 sends the new entry and its inspection.
    await field.page.goto(server.url + '/');
    await field.page.getByRole('button', { name: '立即同步' }).click();
    const inspector = await ApiClient.login(server.url, 'inspector1');
    let inspectionId;
    await until('the on-site inspection reached the server', async () => {
      const all = [...(await inspector.everything()).values()];
      const onSite = all.find((c) => c.entity === 'enterprise' && c.data?.name === '恒泰建材（现场）');
      const inspection = onSite && all.find((c) => c.entity === 'inspection' && c.data?.enterprise_id === onSite.id);
      inspectionId = inspection?.id;
      return Boolean(inspection);
    }, 60_000);

    const { context, page } = await installedPage(browser, server, 'admin');
    await page.goto(server.url + '/admin/enterprises');
    await waitForText(page, '导入企业名录');

    // The bureau's list, saved by Excel on Chinese Windows: GBK, Chinese headers, one bad row.
    const gbk = readFileSync(join(FIXTURES, 'directory-gbk.csv'));
    assert.throws(() => new TextDecoder('utf-8', { fatal: true }).decode(gbk), 'really GBK bytes');
    await page.locator('input[name=import-file]').setInputFiles({ name: '企业名录.csv', mimeType: 'text/csv', buffer: gbk });
    await page.getByRole('button', { name: '预览' }).click();
    await waitForText(page, '可导入 2 行（新增 2，更新 0）；有误 1 行，将跳过。');
    assert.match(await page.locator('.import-errors').textContent(), /第 3 行：未知的行业领域“种地”/);
    const before = await (await fetch(`${server.url}/api/v1/admin/enterprises?q=恒泰`, {
      headers: { authorization: `Bearer ${(await ApiClient.login(server.url, 'admin')).token}` },
    })).json();
    assert.equal(before.enterprises.filter((e) => !e.ad_hoc).length, 0, 'a preview writes nothing');
    await page.getByRole('button', { name: '确认导入 2 行' }).click();
    await waitForText(page, '已导入 2 家企业；1 行有误未导入');

    // The on-site entry is listed as such; merged into the directory entry it really is.
    await page.getByLabel('只看现场新建、尚未并入名录的企业').check();
    await page.getByRole('button', { name: '查询' }).click();
    await page.getByRole('button', { name: '合并 恒泰建材（现场）' }).click();
    await page.locator('input[name=merge-q]').fill('恒泰');
    await page.getByRole('button', { name: '查找' }).click();
    await page.getByLabel(/达拉特旗恒泰建材有限公司/).check();
    await page.getByRole('button', { name: '确认并入' }).click();
    await waitForText(page, '“恒泰建材（现场）”已并入名录企业：1 次检查、0 条隐患随之转入');
    assert.equal(await page.locator('tr[data-enterprise="恒泰建材（现场）"]').count(), 0, 'no longer listed as on-site');

    // The server and the inspector's phone now name the directory entry.
    const after = await inspector.everything();
    const inspection = after.get(`inspection/${inspectionId}`);
    const entry = [...after.values()].find((c) => c.entity === 'enterprise' && c.data?.name === '达拉特旗恒泰建材有限公司');
    assert.ok(entry, 'the imported entry reaches the inspector');
    assert.equal(inspection.data.enterprise_id, entry.id);
    // Opening the app starts a sync round; reopened now and then until the merge is pulled.
    let checks = 0;
    await until('the phone pulled the merge', async () => {
      if (checks++ % 20 === 0) await field.page.goto(server.url + '/');
      const stored = await readStore(field.page, 'inspections');
      return stored.some((i) => i.id === inspectionId && i.enterprise_id === entry.id);
    }, 90_000);
    await field.page.goto(server.url + '/');
    await waitForText(field.page, '达拉特旗恒泰建材有限公司');
    await field.page.goto(server.url + '/inspections/new');
    await waitForText(field.page, '选择被检查单位');
    await field.page.getByTestId('enterprise-search').fill('恒泰');
    await field.page.getByTestId('enterprise-option').first().waitFor();
    assert.deepEqual(await field.page.getByTestId('enterprise-option').allTextContents().then((t) => t.map((x) => x.includes('（现场）'))),
      [false], 'the picker offers the directory entry only');
    await context.close();
    await field.context.close();
  } finally {
    await server.dispose();
  }
});
