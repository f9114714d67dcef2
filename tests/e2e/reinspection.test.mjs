// A re-inspection visit on the phone with the server down: the result with an after-photo and a
// second officer, the 整改复查意见书 issued and numbered offline, refused by the person in charge
// and left before a witness (留置送达), and the 文书送达回执 that records it. Back in signal, the
// re-inspection record, its numbered opinion and the service reach the server.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ApiClient, jpegFile, loginInApp } from './device.mjs';
import { Server, launchBrowser, phonePage, until, waitForServiceWorker, waitForText } from './harness.mjs';

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

const fieldsOf = (sheet) => sheet.evaluate((s) => Object.fromEntries(
  [...s.querySelectorAll('tr')].map((r) => [r.dataset.field, r.querySelector('td').innerText.trim()])));

test('a re-inspection issues its 整改复查意见书, served by 留置送达 with a 回执, offline', async () => {
  const server = await Server.start(['--demo']);
  const { context, page } = await phonePage(browser);
  try {
    await loginInApp(page, server.url, 'inspector1', waitForText);
    await waitForServiceWorker(page);
    await page.goto(server.url + '/reinspections');
    const due = page.getByTestId('reinspection-item').first();
    await due.waitFor({ timeout: 30_000 });
    const description = (await due.locator('span').first().innerText()).trim();
    await server.stop();

    // The result: 已整改 with an after-photo, and a second officer, so the opinion is issued.
    await due.getByRole('link', { name: '复查' }).click();
    await waitForText(page, '复查结果');
    await page.locator('input[name=result][value=passed]').check();
    await page.locator('input[name=after_photos]').setInputFiles(await jpegFile(page));
    await page.locator('form .photo-strip img').waitFor({ timeout: 20_000 });
    await page.getByTestId('reinspect-officers').locator('input[type=checkbox]').first().check();
    await page.getByRole('button', { name: '保存复查结果' }).click();
    await page.waitForURL(/\/inspections\/[0-9a-f-]{36}\/documents$/, { timeout: 30_000 });
    const recordId = page.url().match(/inspections\/([0-9a-f-]{36})\//)[1];

    // The opinion, numbered offline, says what was re-inspected and the verdict.
    const opinion = page.locator('[data-testid=document][data-kind=复查]');
    await opinion.waitFor();
    assert.equal(await page.getByTestId('document').count(), 1, 'a re-inspection visit issues its opinion only');
    const number = await opinion.getByTestId('document-number').innerText();
    assert.match(number, /^达旗应急复查〔\d{4}〕[A-Z][0-9]{1,3}-\d{4}号$/);
    const fields = await fieldsOf(opinion);
    assert.equal(fields.opinion, `1. ${description}：已整改`);
    assert.notEqual(fields.original_order, '');
    assert.match(fields.inspectors, /（执法证号：\d+）、.+（执法证号：\d+）/);
    assert.match(fields.date, /^\d{4}年[1-9]\d?月[1-9]\d?日$/);

    // The person in charge refuses receipt: without a witness nothing is recorded; with one,
    // 留置送达 and the 回执.
    const service = page.getByTestId('service');
    await service.getByTestId('service-refuse').click();
    await service.getByTestId('service-leave').click();
    await waitForText(page, '留置送达须有见证人');
    await service.getByTestId('service-witness').fill('周六（村委会主任）');
    await service.getByTestId('service-note').fill('意见书留置于调度室并拍照');
    await service.getByTestId('service-leave').click();
    const receipt = page.locator('[data-testid=document][data-kind=送达]');
    await receipt.waitFor();
    const served = await fieldsOf(receipt);
    assert.equal(served.served, `整改复查意见书 ${number}`);
    assert.equal(served.method, '整改复查意见书：留置送达');
    assert.match(served.refusal, /拒绝签收，已留置送达。见证人：周六（村委会主任）。意见书留置于调度室并拍照/);
    assert.equal(served.receipt, '');
    assert.equal(await page.getByTestId('service').count(), 0);

    // Back in signal: the finding is verified, and the record carries the opinion and its service.
    await server.start();
    await page.goto(server.url + '/');
    await waitForText(page, '未同步：0 条记录', 60_000);
    const api = await ApiClient.login(server.url, 'leader1');
    const record = await until('the re-inspection record on the server', async () =>
      (await api.everything()).get(`inspection/${recordId}`)?.data);
    assert.equal(record.kind, 'reinspection');
    assert.equal(record.reinspected_findings.length, 1);
    assert.equal(record.documents.length, 1);
    assert.equal(record.documents[0].number, number);
    assert.equal(record.documents[0].service.type, 'left');
    assert.equal(record.documents[0].service.witness, '周六（村委会主任）');
    const finding = (await api.everything()).get(`finding/${record.reinspected_findings[0]}`)?.data;
    assert.equal(finding.status, 'verified');
    assert.deepEqual(page.errors.filter((e) => !e.includes('Failed to load resource')), []);
  } finally {
    await context.close();
    await server.dispose();
  }
});
