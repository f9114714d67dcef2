// The leader's side end to end: an inspector's 重大 finding is confirmed and put under
// supervision on the leader's screens, re-inspected on the inspector's with an after-photo,
// closed out by the leader, and exported in the ledger as 已销号 (read back from the .xlsx and
// the CSV). An inspector is refused the leader's screens, by the app and by the server.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import XLSX from 'xlsx';
import { ApiClient, jpegFile, loginInApp, recordMajorFinding, recordOffline } from './device.mjs';
import { Server, launchBrowser, phonePage, until, waitForServiceWorker, waitForText } from './harness.mjs';

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });


/** A tablet/desktop-sized page for the leader, recording errors like `phonePage`. */
async function deskPage() {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'zh-CN', acceptDownloads: true });
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(String(e)));
  return { context, page };
}

async function serverFinding(api, id) {
  return (await api.everything()).get(`finding/${id}`)?.data;
}

test('a 重大 finding goes from review to close-out on the leader screens and is exported as 已销号', async () => {
  const server = await Server.start(['--demo']);
  try {
    const leaderApi = await ApiClient.login(server.url, 'leader1');

    // The inspector records a 重大 finding and it syncs.
    const inspector = await phonePage(browser);
    await loginInApp(inspector.page, server.url, 'inspector1', waitForText);
    await waitForServiceWorker(inspector.page);
    const description = `主斜井提升机保护装置失效 ${Date.now()}`;
    const ids = await recordMajorFinding(inspector.page, description);
    await inspector.page.reload();
    await until('the finding submitted on the server',
      async () => (await serverFinding(leaderApi, ids.finding))?.status === 'submitted');
    await until('the evidence photo on the server', async () =>
      (await fetch(`${server.url}/api/v1/photos/${ids.photo}`, { method: 'HEAD', headers: { authorization: `Bearer ${leaderApi.token}` } })).ok);

    // The leader sees it in the review queue with its photo (fetched from the server), confirms
    // it and puts it under supervision.
    const leader = await deskPage();
    await loginInApp(leader.page, server.url, 'leader1', waitForText);
    await waitForServiceWorker(leader.page);
    await leader.page.goto(server.url + '/leader/review');
    await waitForText(leader.page, description, 30_000);
    const item = leader.page.locator('[data-testid=review-item]', { hasText: description });
    await item.locator('img.photo__img').waitFor({ timeout: 20_000 });
    assert.match(await item.innerText(), /重大隐患/);
    assert.match(await item.innerText(), /第三条/);
    await item.getByRole('button', { name: '确认并挂牌督办' }).click();
    await waitForText(leader.page, '已处理 1 条隐患');
    const confirmed = await until('the decision on the server', async () => {
      const f = await serverFinding(leaderApi, ids.finding);
      return f?.status === 'rectifying' && f.supervised ? f : false;
    });
    assert.deepEqual(confirmed.history.map((h) => h.action).slice(-2), ['confirm', 'supervise']);

    // The rectification board lists it as supervised and awaiting re-inspection.
    await leader.page.goto(server.url + '/leader/rectification');
    const boardRow = leader.page.locator('[data-testid=board-row]', { hasText: description });
    await boardRow.waitFor({ timeout: 30_000 });
    assert.match(await boardRow.innerText(), /挂牌督办/);

    // The enterprise's dossier on the leader's device lists it among the open findings.
    await leader.page.goto(`${server.url}/enterprises/${ids.enterprise}`);
    await waitForText(leader.page, ids.enterpriseName, 30_000);
    await waitForText(leader.page, description);
    assert.match(await leader.page.locator('.page--dossier').innerText(), /未销号隐患（[1-9]\d* 条）/);

    // The inspector re-inspects it with an after-photo: 已整改.
    await inspector.page.goto(server.url + '/reinspections');
    const due = inspector.page.locator('[data-testid=reinspection-item]', { hasText: description });
    await due.waitFor({ timeout: 30_000 });
    await due.getByRole('link', { name: '复查' }).click();
    await waitForText(inspector.page, '复查结果');
    await inspector.page.locator('input[name=result][value=passed]').check();
    await inspector.page.locator('input[name=after_photos]').setInputFiles(await jpegFile(inspector.page));
    await inspector.page.locator('form .photo-strip img').waitFor({ timeout: 20_000 });
    await inspector.page.getByRole('button', { name: '保存复查结果' }).click();
    await inspector.page.waitForURL('**/reinspections');
    const verified = await until('the re-inspection on the server', async () => {
      const f = await serverFinding(leaderApi, ids.finding);
      return f?.status === 'verified' && f.after_photos.length === 1 ? f : false;
    });
    const afterPhoto = verified.after_photos[0];
    await until('the after-photo on the server', async () =>
      (await fetch(`${server.url}/api/v1/photos/${afterPhoto}`, { headers: { authorization: `Bearer ${leaderApi.token}` } })).ok);

    // The leader sees before and after side by side with the 整改复查意见书, and closes it out.
    await leader.page.goto(`${server.url}/leader/findings/${ids.finding}`);
    await until('the verified finding on the leader device', async () => {
      const status = await leader.page.locator('[data-testid=finding-status]').innerText().catch(() => '');
      if (status !== '复查合格') await leader.page.reload();
      return status === '复查合格';
    });
    await leader.page.locator('.compare__side').nth(1).locator('img.photo__img').waitFor({ timeout: 20_000 });
    assert.equal(await leader.page.locator('.compare__side').nth(0).locator('img.photo__img').count(), 1);
    const opinion = await leader.page.locator('[data-testid=reinspection-opinion]').innerText();
    assert.match(opinion, /整改复查意见书/);
    assert.match(opinion, /已整改/);
    await leader.page.getByRole('button', { name: '销号' }).click();
    await waitForText(leader.page, '已销号');
    await until('the close-out on the server',
      async () => (await serverFinding(leaderApi, ids.finding))?.status === 'closed');

    // The ledger lists it as 已销号 and its exports say the same.
    await leader.page.goto(server.url + '/leader/ledger');
    const ledgerRow = leader.page.locator('[data-testid=ledger-row]', { hasText: description });
    await ledgerRow.waitFor({ timeout: 30_000 });
    assert.match(await ledgerRow.innerText(), /已销号/);

    const [xlsx] = await Promise.all([
      leader.page.waitForEvent('download'),
      leader.page.getByRole('button', { name: '导出 Excel' }).click(),
    ]);
    assert.match(xlsx.suggestedFilename(), /\.xlsx$/);
    const book = XLSX.read(readFileSync(await xlsx.path()));
    const rows = XLSX.utils.sheet_to_json(book.Sheets[book.SheetNames[0]], { header: 1 });
    const exported = rows.find((r) => r.some((cell) => String(cell).includes(description)));
    assert.ok(exported, `the .xlsx has a row for the finding (rows: ${rows.length})`);
    assert.ok(exported.includes('已销号'), `its row says 已销号: ${JSON.stringify(exported)}`);
    assert.ok(exported.includes('重大隐患') || exported.includes('重大'), `its row says 重大: ${JSON.stringify(exported)}`);

    const [csv] = await Promise.all([
      leader.page.waitForEvent('download'),
      leader.page.getByRole('button', { name: '导出 CSV' }).click(),
    ]);
    const csvText = readFileSync(await csv.path(), 'utf8');
    const csvLine = csvText.split(/\r?\n/).find((line) => line.includes(description));
    assert.ok(csvLine?.includes('已销号'), `the CSV row says 已销号: ${csvLine}`);

    // Statistics: tables and SVG charts from the server.
    await leader.page.goto(server.url + '/leader/stats');
    await waitForText(leader.page, '重大隐患动态清零', 30_000);
    assert.ok(await leader.page.locator('svg.chart__svg').count() >= 3);
    assert.ok(Number(await leader.page.locator('[data-testid=stats-total]').innerText()) >= 1);

    // Offline, the server's screens say so instead of failing.
    await server.stop();
    await leader.page.goto(server.url + '/leader/stats');
    await waitForText(leader.page, '联网后可查看', 30_000);
    // The review queue and the finding still open from the device.
    await leader.page.goto(`${server.url}/leader/findings/${ids.finding}`);
    await waitForText(leader.page, description, 30_000);

    assert.deepEqual(leader.page.errors, []);
    await leader.context.close();
    await inspector.context.close();
  } finally {
    await server.dispose();
  }
});

test('a leader confirms several at once and returns one with a reason; a failed re-inspection sets a new deadline; the ledger pages by cursor', async () => {
  const server = await Server.start(['--demo']);
  try {
    const leaderApi = await ApiClient.login(server.url, 'leader1');
    const inspector = await phonePage(browser);
    await loginInApp(inspector.page, server.url, 'inspector1', waitForText);
    await waitForServiceWorker(inspector.page);
    // 55 findings: more than one ledger page of 50.
    const ids = await recordOffline(inspector.page, { findings: 55, photos: 0 });
    await inspector.page.reload();
    await until('every finding submitted on the server', async () => {
      const all = await leaderApi.everything();
      return ids.findings.every((id) => all.get(`finding/${id}`)?.data.status === 'submitted');
    }, 60_000);

    const leader = await deskPage();
    await loginInApp(leader.page, server.url, 'leader1', waitForText);
    await leader.page.goto(server.url + '/leader/review');
    // The demo bureau has findings of its own: this test counts only the ones it made.
    const mine = leader.page.locator('[data-testid=review-item]', { hasText: '瓦斯检查记录不全' });
    await until('the whole queue on the leader device', async () => (await mine.count()) === 55, 60_000);

    // A return needs a reason: the core's rule says so in Chinese, and nothing is queued.
    const first = ids.findings[0];
    await leader.page.goto(`${server.url}/leader/findings/${first}`);
    await leader.page.getByRole('button', { name: '退回' }).click();
    await waitForText(leader.page, '退回须填写退回原因');
    await leader.page.locator('textarea[name=comment]').fill('照片不清晰，请补拍');
    await leader.page.getByRole('button', { name: '退回' }).click();
    await waitForText(leader.page, '已退回');
    const returned = await until('the return on the server', async () => {
      const f = (await leaderApi.everything()).get(`finding/${first}`)?.data;
      return f?.status === 'returned' ? f : false;
    });
    assert.equal(returned.history.at(-1).comment, '照片不清晰，请补拍');

    // Two confirmed with one click.
    await leader.page.goto(server.url + '/leader/review');
    await until('the queue without the returned finding', async () => (await mine.count()) === 54, 30_000);
    const items = mine;
    const chosen = [];
    for (const n of [0, 1]) {
      const text = await items.nth(n).locator('.card__title').innerText();
      chosen.push(text.replace(/^一般隐患\s*/, '').trim());
      await items.nth(n).locator('input[type=checkbox]').check();
    }
    await leader.page.getByRole('button', { name: '确认所选（2）' }).click();
    await waitForText(leader.page, '已处理 2 条隐患');
    await until('both confirmations on the server', async () => {
      const all = [...(await leaderApi.everything()).values()].filter((c) => c.entity === 'finding');
      return chosen.every((d) => all.some((c) => c.data.description === d && c.data.status === 'rectifying'));
    });

    // The inspector re-inspects one as 未整改: a new deadline is required, then recorded.
    await inspector.page.goto(server.url + '/reinspections');
    const due = inspector.page.locator('[data-testid=reinspection-item]', { hasText: chosen[0] });
    await due.waitFor({ timeout: 30_000 });
    await due.getByRole('link', { name: '复查' }).click();
    await inspector.page.locator('input[name=result][value=failed]').check();
    await inspector.page.getByRole('button', { name: '保存复查结果' }).click();
    await waitForText(inspector.page, '复查不合格须重新确定整改期限');
    await inspector.page.locator('input[name=new_deadline]').fill('2099-06-30');
    await inspector.page.locator('textarea[name=comment]').fill('防护栏尚未安装');
    await inspector.page.getByRole('button', { name: '保存复查结果' }).click();
    await inspector.page.waitForURL('**/reinspections');
    await until('the failed re-inspection on the server', async () => {
      const all = [...(await leaderApi.everything()).values()].filter((c) => c.entity === 'finding');
      const f = all.find((c) => c.data.description === chosen[0])?.data;
      return f?.status === 'rectifying' && f.deadline === '2099-06-30'
        && f.history.at(-1).action === 'reinspect_failed' && f.history.at(-1).comment === '防护栏尚未安装';
    });

    // The ledger pages by cursor: 下一页 shows the rest, 上一页 comes back.
    await leader.page.goto(server.url + '/leader/ledger');
    await leader.page.locator('input[name=q]').fill('瓦斯检查记录不全');
    await leader.page.getByRole('button', { name: '查询' }).click();
    await waitForText(leader.page, '共 55 条，第 1 页', 30_000);
    const rows = leader.page.locator('[data-testid=ledger-row]');
    assert.equal(await rows.count(), 50);
    const firstOfPage1 = await rows.first().innerText();
    await leader.page.getByRole('button', { name: '下一页' }).click();
    await waitForText(leader.page, '共 55 条，第 2 页');
    await until('the second page', async () => (await rows.count()) === 5);
    assert.ok(await leader.page.getByRole('button', { name: '下一页' }).isDisabled());
    await leader.page.getByRole('button', { name: '上一页' }).click();
    await waitForText(leader.page, '共 55 条，第 1 页');
    await until('the first page again', async () => (await rows.count()) === 50 && (await rows.first().innerText()) === firstOfPage1);

    // A filter narrows it: only the returned one.
    await leader.page.locator('select[name=status]').selectOption('returned');
    await leader.page.getByRole('button', { name: '查询' }).click();
    await waitForText(leader.page, '共 1 条，第 1 页');

    assert.deepEqual(leader.page.errors, []);
    await leader.context.close();
    await inspector.context.close();
  } finally {
    await server.dispose();
  }
});

test('an inspector is refused the leader screens by the app and by the server', async () => {
  const server = await Server.start(['--demo']);
  try {
    const { context, page } = await phonePage(browser);
    await loginInApp(page, server.url, 'inspector1', waitForText);
    for (const path of ['/leader/review', '/leader/rectification', '/leader/ledger']) {
      await page.goto(server.url + path);
      await waitForText(page, '此页面仅供队长、科室负责人和管理员使用', 20_000);
    }
    const api = await ApiClient.login(server.url, 'inspector1');
    for (const path of ['/findings', '/stats', '/ledger.xlsx']) {
      const res = await fetch(`${server.url}/api/v1${path}`, { headers: { authorization: `Bearer ${api.token}` } });
      assert.equal(res.status, 403, path);
    }
    await context.close();
  } finally {
    await server.dispose();
  }
});
