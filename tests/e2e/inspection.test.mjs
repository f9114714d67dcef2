// The inspector's day through the app's own screens, with the server stopped after the first
// load: check-in, checklist answers, findings with photos, signatures and the documents.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Server, launchBrowser, waitForServiceWorker, waitForText } from './harness.mjs';
import { loginInApp } from './device.mjs';
import { cameraPhotos, dateIn, enter, enterWithoutScan, phoneAtTheMine as phoneIn, sign } from './screens.mjs';

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });
const phoneAtTheMine = () => phoneIn(browser);

test('an unannounced coal-mine inspection is done offline from check-in to numbered documents', async () => {
  const server = await Server.start(['--demo']);
  const { context, page } = await phoneAtTheMine();
  try {
    await loginInApp(page, server.url, 'inspector1', waitForText);
    await waitForServiceWorker(page);
    await server.stop();

    // Enterprise picker over the offline directory.
    await page.getByTestId('new-inspection').click();
    await page.getByTestId('enterprise-search').fill('瑞丰');
    await page.getByTestId('enterprise-option').filter({ hasText: '达拉特旗瑞丰煤炭有限责任公司' }).click();

    // Start: 四不两直 by default, a co-inspector from the roster, packs pre-selected, check-in.
    await waitForText(page, '签到并开始检查');
    assert.equal(await page.locator('.segmented__option[aria-pressed=true]').textContent(), '四不两直暗访');
    await page.getByTestId('co-inspectors').getByText('李海燕').click();
    assert.ok(await page.getByTestId('packs').locator('input:checked').count() >= 1, 'a pack is pre-selected');
    await waitForText(page, '精度约 ±12 米');
    await enterWithoutScan(page);
    await page.getByTestId('start').click();

    // Checklist runner: a major item 不符合 opens the editor pre-filled as 重大 with its clause.
    await waitForText(page, '已检查 0 /');
    const major = page.locator('[data-testid=item]', { has: page.locator('.badge--major') }).first();
    await major.getByTestId('answer-bad').click();
    await waitForText(page, '记录隐患');
    assert.equal(await page.getByTestId('level-major').getAttribute('aria-pressed'), 'true');
    assert.match(await page.getByTestId('finding-legal_basis').inputValue(), /《煤矿重大事故隐患判定标准》/);
    await waitForText(page, '重大隐患至少需要一张照片');
    await enter(page.getByTestId('finding-description'), '1201 工作面瓦斯超限仍未停止作业');
    await enter(page.getByTestId('finding-place'), '1201 综采工作面');
    await enter(page.getByTestId('finding-deadline'), dateIn(15));
    await page.getByTestId('finding-photo-input').setInputFiles(await cameraPhotos(page, 2));
    await page.locator('.photos__img').nth(1).waitFor();
    assert.equal(await page.locator('.photos__img').count(), 2);
    await page.getByTestId('finding-errors').waitFor({ state: 'detached' });
    assert.match(page.url(), /\/findings\/[0-9a-f-]{36}$/, 'the address names the stored finding');
    await page.getByTestId('finding-done').click();

    // A general item 不符合: 一般, 立即整改.
    await waitForText(page, '已检查 1 /');
    const general = page.locator('[data-testid=item]:not(:has(.badge--major))').first();
    await general.getByTestId('answer-bad').click();
    await waitForText(page, '记录隐患');
    assert.equal(await page.getByTestId('level-general').getAttribute('aria-pressed'), 'true');
    await enter(page.getByTestId('finding-description'), '井下消防器材未按规定配备');
    await enter(page.getByTestId('finding-place'), '主斜井井底车场');
    await page.getByTestId('saved').waitFor();
    await page.getByTestId('finding-done').click();

    // Eight more items 符合: ten answered in all.
    await waitForText(page, '已检查 2 /');
    for (let answered = 2; answered < 10; answered++) {
      await page.locator('[data-testid=item]:not(:has([aria-pressed=true])) [data-testid=answer-ok]').first().click();
      await waitForText(page, `已检查 ${answered + 1} /`);
    }
    assert.match(await page.getByTestId('progress').textContent(), /已检查 10 \/ \d+ 项，不符合 2 项/);

    // Finish: places, both inspectors sign, the person in charge signs.
    await page.getByTestId('to-finish').click();
    await waitForText(page, '共发现隐患 2 项：重大隐患 1 项，一般隐患 1 项。');
    await enter(page.getByTestId('finish-places'), '主斜井、1201 综采工作面、井底车场');
    for (let n = 0; n < 2; n++) {
      const signer = page.getByTestId('inspector-signer').filter({ has: page.getByTestId('signature-pad') }).first();
      await sign(page, signer.getByTestId('signature-pad'));
      await signer.getByText('确认签名').click();
      await page.getByText('已签名').nth(n).waitFor();
    }
    assert.equal(await page.getByTestId('signer-name').inputValue(), '孙立新');
    const enterprisePad = page.getByTestId('enterprise-signer').getByTestId('signature-pad');
    await sign(page, enterprisePad);
    await page.getByTestId('enterprise-signer').getByText('确认签名').click();
    await waitForText(page, '孙立新 已签名');
    await page.getByTestId('blockers').waitFor({ state: 'detached' });
    await page.getByTestId('finish').click();

    // The documents, numbered offline, with every field filled.
    await waitForText(page, '打印（A4）');
    await page.getByTestId('document').nth(1).waitFor();
    const checkDocuments = async () => {
      const docs = await page.getByTestId('document').evaluateAll((sheets) => sheets.map((s) => ({
        kind: s.dataset.kind,
        title: s.querySelector('.doc-sheet__title').textContent,
        number: s.querySelector('[data-testid=document-number]').textContent,
        fields: Object.fromEntries([...s.querySelectorAll('tr')].map((r) => [r.dataset.field, r.querySelector('td').innerText.trim()])),
        signatures: s.querySelectorAll('img.photos__img').length,
      })));
      assert.deepEqual(docs.map((d) => d.title), ['现场检查记录', '责令限期整改指令书']);
      const year = new Date(Date.now() + 8 * 3_600_000).getUTCFullYear();
      assert.match(docs[0].number, new RegExp(`^达旗应急检记〔${year}〕[A-Z][0-9]{1,3}-0001号$`));
      assert.match(docs[1].number, new RegExp(`^达旗应急责改〔${year}〕[A-Z][0-9]{1,3}-0001号$`));
      const record = docs[0].fields;
      assert.equal(record.enterprise, '达拉特旗瑞丰煤炭有限责任公司');
      assert.match(record.address, /白泥井镇东部矿区$/);
      assert.equal(record.legal_representative, '孙立新');
      assert.equal(record.places, '主斜井、1201 综采工作面、井底车场');
      assert.match(record.time, /\d{4}年[1-9]\d?月[1-9]\d?日[1-9]?\d时\d{2}分 至 /);
      assert.match(record.inspectors, /王建军（执法证号：15062101）、李海燕（执法证号：15062102）/);
      assert.match(record.situation, /1201 工作面瓦斯超限仍未停止作业（1201 综采工作面，重大隐患）/);
      assert.match(record.situation, /井下消防器材未按规定配备（主斜井井底车场，一般隐患）/);
      assert.match(record.inspector_signatures, /王建军、李海燕/);
      assert.equal(record.enterprise_signature, '孙立新');
      assert.equal(docs[0].signatures, 3, 'two inspectors and the person in charge signed on the device');
      const order = docs[1].fields;
      assert.equal(order.enterprise, '达拉特旗瑞丰煤炭有限责任公司');
      assert.match(order.problems, /1201 工作面瓦斯超限仍未停止作业/);
      assert.doesNotMatch(order.problems, /消防器材/, 'the order lists only findings with a deadline');
      assert.match(order.basis, /《煤矿重大事故隐患判定标准》/);
      assert.match(order.requirement, /责令于\d{4}年[1-9]\d?月[1-9]\d?日前整改完毕/);
      assert.match(order.rights, /行政复议/);
      for (const doc of docs) {
        for (const [key, value] of Object.entries(doc.fields)) {
          // 全过程记录 is optional, and this visit recorded none.
          if (!['contact_phone', 'receipt', 'seal', 'inspector_signatures', 'enterprise_signature', 'recording'].includes(key)) {
            assert.notEqual(value, '', `${doc.title}: ${key} is filled`);
          }
        }
      }
    };
    await checkDocuments();

    // Reload with the server still down: all of it is still there.
    await page.reload();
    await page.getByTestId('document').nth(1).waitFor({ timeout: 20_000 });
    await checkDocuments();
    const documentsPath = new URL(page.url()).pathname;
    assert.match(documentsPath, /^\/inspections\/[0-9a-f-]{36}\/documents$/);
    await page.goto(server.url + '/');
    const row = page.locator('.inspection', { has: page.locator(`a[href="${documentsPath}"]`) });
    await row.waitFor();
    assert.match(await row.locator('.inspection__meta').textContent(), /四不两直暗访 · .* · 已完成/);
    await row.locator('.inspection__link').click();
    await page.getByTestId('document').first().waitFor();

    // Served on site, still offline: the person in charge signs receipt (签收) of the order on
    // the phone; the 文书送达回执 appears and the order shows who signed and when.
    const service = page.getByTestId('service');
    await service.first().waitFor();
    assert.equal(await service.count(), 1, 'only the order is served, not the record');
    assert.equal(await service.getByTestId('service-recipient').inputValue(), '孙立新');
    await sign(page, service.getByTestId('signature-pad'));
    await service.getByText('确认签名').click();
    const receipt = page.locator('[data-testid=document][data-kind=送达]');
    await receipt.waitFor();
    const receiptFields = await receipt.evaluate((s) => Object.fromEntries(
      [...s.querySelectorAll('tr')].map((r) => [r.dataset.field, r.querySelector('td').innerText.trim()])));
    assert.match(receiptFields.served, /^责令限期整改指令书 达旗应急责改〔\d{4}〕[A-Z][0-9]{1,3}-0001号$/);
    assert.equal(receiptFields.method, '责令限期整改指令书：直接送达');
    assert.match(receiptFields.receipt, /^责令限期整改指令书：孙立新，\d{4}年[1-9]\d?月[1-9]\d?日[1-9]?\d时\d{2}分签收$/);
    assert.match(receiptFields.servers, /王建军（执法证号：15062101）/);
    assert.equal(await page.getByTestId('service').count(), 0, 'served once');
    const orderReceipt = await page.locator('[data-testid=document][data-kind=责改] tr[data-field=receipt] td').innerText();
    assert.match(orderReceipt, /^孙立新（\d{4}年.*签收）/);
    assert.equal(await page.locator('[data-testid=document][data-kind=责改] tr[data-field=receipt] img').count(), 1,
      'the drawn receipt is shown on the order');

    // Back in signal: everything reaches the server and is accepted, photos and signatures too.
    await server.start();
    await page.goto(server.url + '/');
    await waitForText(page, '已同步 · 证据已全部上传', 60_000);
    await waitForText(page, '未同步：0 条记录，0 张照片，0 条同步错误');
    assert.equal(await page.getByText('被服务器退回').count(), 0);
    assert.deepEqual(page.errors.filter((e) => !e.includes('Failed to load resource')), []);
  } finally {
    await context.close();
    await server.dispose();
  }
});

test('an answer and a half-written finding survive closing the app', async () => {
  const server = await Server.start(['--demo']);
  const { context, page } = await phoneAtTheMine();
  try {
    await loginInApp(page, server.url, 'inspector2', waitForText);
    await waitForServiceWorker(page);
    await server.stop();
    await page.getByTestId('new-inspection').click();
    await page.getByTestId('enterprise-search').fill('金川');
    await page.getByTestId('enterprise-option').first().click();
    await page.getByTestId('co-inspectors').getByText('王建军').click();
    await waitForText(page, '精度约');
    await enterWithoutScan(page);
    await page.getByTestId('start').click();
    await waitForText(page, '已检查 0 /');
    const runner = page.url();
    await page.getByTestId('answer-ok').first().click();
    await waitForText(page, '已检查 1 /');
    await page.locator('[data-testid=item]').nth(1).getByTestId('answer-bad').click();
    await waitForText(page, '记录隐患');
    await enter(page.getByTestId('finding-place'), '采场边坡');
    await page.getByTestId('saved').waitFor();
    const findingUrl = page.url();

    // The app is closed (the tab goes away) and opened again, offline.
    await page.close();
    const again = await context.newPage();
    await again.goto(findingUrl);
    await waitForText(again, '隐患记录');
    assert.equal(await again.getByTestId('finding-place').inputValue(), '采场边坡');
    await again.goto(runner);
    await waitForText(again, '已检查 2 /');
    assert.equal(await again.locator('[data-testid=item]').first().getByTestId('answer-ok').getAttribute('aria-pressed'), 'true');
    assert.equal(await again.locator('[data-testid=finding-link]').count(), 1);
  } finally {
    await context.close();
    await server.dispose();
  }
});
