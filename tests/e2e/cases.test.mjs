// From finding to case: with the server stopped, the inspector files a 预立案 on an inspection's
// finding with a 询问笔录 the person signs on the phone; back online it syncs; the leader
// approves the filing in the app and the case takes the bureau's number; 告知书, 陈述申辩,
// 决定书, 送达回执, payment and 结案 follow, each dated, each document numbered under the case's
// number; the server holds the whole chain and the inspector's phone pulls it.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { ApiClient, loginInApp, readStore } from './device.mjs';
import { Server, launchBrowser, phonePage, until, waitForServiceWorker, waitForText } from './harness.mjs';
import { cameraPhotos, sign } from './screens.mjs';

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

/** Today in China Standard Time, as the app dates an act by default. */
const today = () => new Date(Date.now() + 8 * 3_600_000).toISOString().slice(0, 10);

/** Takes the case's next act on the case screen and waits for the stage it leads to. */
async function act(page, kind, stage, fill = async () => {}) {
  await fill();
  await page.getByTestId(`act-${kind}`).click();
  await until(`the case ${stage}`, async () =>
    (await page.getByTestId('case-stage').first().textContent()) === stage, 60_000);
}

test('不符合 → 预立案 offline with a signed 询问笔录 → sync → 立案审批 and its number → 告知 → 决定 → 送达 → 缴款 → 结案', async () => {
  const server = await Server.start(['--demo']);
  const { context, page } = await phonePage(browser);
  const { context: deskContext, page: desk } = await phonePage(browser);
  try {
    await loginInApp(page, server.url, 'inspector1', waitForText);
    await waitForServiceWorker(page);
    const session = (await readStore(page, 'meta')).find((m) => m?.user)?.user;
    const findings = await readStore(page, 'findings');
    const inspections = await readStore(page, 'inspections');
    const inspection = inspections.find((i) => findings.some((f) => f.inspection_id === i.id)
      && (!session || i.org_id === session.org_id));
    assert.ok(inspection, 'a demo inspection with findings is on the phone');

    // No signal: the 预立案 and its 询问笔录 are made on the phone.
    await server.stop();
    await page.goto(`${server.url}/inspections/${inspection.id}`);
    await page.getByTestId('pre-file').click();
    await waitForText(page, '询问笔录');
    assert.ok(await page.getByTestId('case-finding').count() >= 1);
    assert.notEqual(await page.getByTestId('case-facts').inputValue(), '');
    await page.getByTestId('interview-person').fill('张三');
    await page.getByTestId('interview-position').fill('安全矿长');
    const answers = page.getByTestId('qa-answer');
    await answers.nth(0).fill('看清了，不申请回避。');
    await answers.nth(1).fill('张三，某煤业公司安全矿长。');
    await answers.nth(2).fill('当班瓦斯检查员请假，未安排替班。');
    await sign(page, page.locator('canvas.signature__pad'));
    await page.getByRole('button', { name: '确认签名' }).click();
    await page.getByTestId('interview-signed').waitFor({ timeout: 20_000 });
    await page.getByTestId('case-save').click();
    await page.waitForURL(/\/cases\/[0-9a-f-]{36}$/, { timeout: 20_000 });
    const caseId = page.url().match(/cases\/([0-9a-f-]{36})$/)[1];
    assert.equal(await page.getByTestId('case-number').textContent(), '预立案（待立案审批）');
    const stored = (await readStore(page, 'cases')).find((c) => c.id === caseId);
    assert.equal(stored.interviews[0].answers[2].answer, '当班瓦斯检查员请假，未安排替班。');
    assert.ok(stored.interviews[0].signature, 'the signature is kept with the interview');
    // An inspector cannot approve the filing: the button is not offered.
    assert.equal(await page.getByTestId('act-approve').count(), 0);

    // Back online: it syncs.
    await server.start();
    await page.goto(server.url + '/');
    await waitForText(page, '未同步：0 条记录，0 张照片，0 条同步错误', 90_000);

    // The leader approves and the case takes the bureau's number.
    await loginInApp(desk, server.url, 'leader1', waitForText);
    // The leader's first sync pulls it (reloading the page meanwhile would restart that sync).
    await until('the case reaches the leader', async () =>
      (await readStore(desk, 'cases')).some((c) => c.id === caseId), 60_000);
    await desk.goto(server.url + `/cases/${caseId}`);
    await desk.getByTestId('case-number').waitFor({ timeout: 20_000 });
    const day = today();
    const year = day.slice(0, 4);
    const number = `达旗应急立〔${year}〕1号`;
    await act(desk, 'approve', '已立案');
    await until('the number shown', async () => (await desk.getByTestId('case-number').textContent()) === number, 30_000);
    assert.equal(await desk.getByTestId('case-filed-on').textContent(), day);
    assert.match(await desk.getByTestId('case-clocks').textContent(), /作出处罚决定（立案后90日）/);

    await act(desk, 'notify', '已告知', () => desk.getByTestId('act-proposal').fill('罚款人民币贰万元'));
    await act(desk, 'hear', '已陈述申辩', () => desk.getByTestId('act-text').fill('当事人书面放弃陈述申辩。'));
    await act(desk, 'decide', '已决定', async () => {
      await desk.getByTestId('act-provisions').fill('《煤矿安全规程》第一百八十条');
      await desk.getByTestId('act-basis').fill('《安全生产法》第一百零一条；裁量：一般');
      await desk.getByTestId('act-amount').fill('20000');
    });
    await act(desk, 'serve', '已送达', async () => {
      await desk.getByTestId('act-method').selectOption('left');
      await desk.getByTestId('act-recipient').fill('张三');
      // A 留置送达 needs a witness: refused on the device before anything is queued.
      await desk.getByTestId('act-serve').click();
      await waitForText(desk, '留置送达须有见证人');
      await desk.getByTestId('act-witness').fill('周六（村委会主任）');
    });
    assert.equal(await desk.getByTestId('case-owed').textContent(), '20000 元（含加处罚款）');
    await act(desk, 'pay', '已执行', () => desk.getByTestId('act-amount').fill('20000'));
    await act(desk, 'close', '已结案');

    const documents = await desk.getByTestId('case-documents').textContent();
    for (const prefix of ['立', '罚告', '罚', '回', '结']) {
      assert.ok(documents.includes(`达旗应急${prefix}〔${year}〕1号`), `${prefix} in ${documents}`);
    }
    const history = await desk.getByTestId('case-history').locator('li').allTextContents();
    assert.equal(history.length, 7, history.join('\n'));
    assert.ok(history.every((line) => line.startsWith(day)), history.join('\n'));
    assert.match(history[4], /留置送达，受送达人 张三，见证人 周六（村委会主任）/);

    // The documents, for print: each under the case's number, with what the acts recorded.
    await desk.getByTestId('case-print').click();
    await desk.getByTestId('case-document').first().waitFor({ timeout: 20_000 });
    const sheets = await desk.getByTestId('case-document').evaluateAll((els) => els.map((e) => ({
      title: e.dataset.title,
      number: e.querySelector('[data-testid=document-number]').textContent,
      text: e.innerText,
    })));
    assert.deepEqual(sheets.map((d) => [d.title, d.number]), [
      ['立案审批表', `达旗应急立〔${year}〕1号`],
      ['行政处罚告知书', `达旗应急罚告〔${year}〕1号`],
      ['行政处罚决定书', `达旗应急罚〔${year}〕1号`],
      ['文书送达回执', `达旗应急回〔${year}〕1号`],
      ['结案审批表', `达旗应急结〔${year}〕1号`],
    ]);
    const official = `${Number(year)}年${Number(day.slice(5, 7))}月${Number(day.slice(8, 10))}日`;
    assert.match(sheets[1].text, /罚款人民币贰万元/);
    assert.match(sheets[2].text, /罚款人民币 20000 元/);
    assert.ok(sheets[2].text.includes(official), `${official} in ${sheets[2].text}`);
    assert.match(sheets[3].text, /周六（村委会主任）/);
    assert.match(sheets[2].text, /条文待核/);

    // The server holds the whole chain.
    const api = await ApiClient.login(server.url, 'leader1');
    const view = await api.get(`/cases/${caseId}`);
    assert.equal(view.case.state.stage, 'closed');
    assert.equal(view.case.state.number, number);
    assert.equal(view.case.state.paid_yuan, 20000);
    assert.equal(view.case.state.closed_on, day);
    assert.equal(view.case.decision.fine_yuan, 20000);
    assert.equal(view.case.proposal, '罚款人民币贰万元');
    assert.equal(view.case.interviews[0].person, '张三');

    // The statistics count the case and its penalty for the team, on screen and in the workbook.
    const stats = await api.get('/stats');
    const team = stats.by_team.find((t) => t.org_id === session.org_id);
    assert.ok(team && team.cases >= 1 && team.penalties >= 1, JSON.stringify(stats.by_team));
    await desk.goto(server.url + '/leader/stats');
    const row = desk.locator(`[data-testid=team-rates] tr[data-team="${team.name}"]`);
    await row.waitFor({ timeout: 30_000 });
    assert.equal(await row.getByTestId('cases').textContent(), String(team.cases));
    assert.equal(await row.getByTestId('penalties').textContent(), String(team.penalties));
    assert.equal(await row.getByTestId('case-rate').textContent(), `${((100 * team.cases) / team.inspections).toFixed(1)}%`);
    assert.equal(await row.getByTestId('zero-penalties').count(), 0);
    const [download] = await Promise.all([desk.waitForEvent('download'), desk.getByTestId('stats-export').click()]);
    assert.match(download.suggestedFilename(), /^执法统计-\d{8}\.xlsx$/);
    const bytes = await readFile(await download.path());
    assert.equal(bytes.subarray(0, 2).toString(), 'PK', 'an xlsx (zip) file');

    // The inspector's phone pulls the closed case.
    await page.goto(server.url + '/');
    await waitForText(page, '未同步：0 条记录，0 张照片，0 条同步错误', 60_000);
    await until('the closed case on the phone', async () =>
      (await readStore(page, 'cases')).some((c) => c.id === caseId && c.state.stage === 'closed'), 60_000);
    await page.goto(server.url + `/cases/${caseId}`);
    await until('the closed case shown', async () =>
      (await page.getByTestId('case-stage').first().textContent().catch(() => '')) === '已结案', 20_000);
    assert.equal(await page.getByTestId('case-number').textContent(), number);
    const errors = [...page.errors, ...desk.errors].filter((e) => !e.includes('Failed to load resource'));
    assert.deepEqual(errors, []);
  } finally {
    await deskContext.close();
    await context.close();
    await server.dispose();
  }
});

test('a 举报 from the public page, without login, reaches the leader, and its tracking code shows the answer', async () => {
  const server = await Server.start(['--demo']);
  const { context, page: citizen } = await phonePage(browser);
  const { context: deskContext, page: desk } = await phonePage(browser);
  try {
    await citizen.goto(server.url + '/report');
    await waitForText(citizen, '安全生产隐患举报');
    await citizen.getByTestId('report-text').fill('物流园 3 号库安全出口被货物堵死，夜里有人住在库里');
    await citizen.getByTestId('report-place').fill('达拉特旗某物流园 3 号库');
    await citizen.getByTestId('report-photos').setInputFiles(await cameraPhotos(citizen, 1));
    await waitForText(citizen, '已选 1 张照片');
    const question = await citizen.getByTestId('report-question').textContent();
    const [a, b] = question.match(/\d+/g).map(Number);
    // A wrong answer is refused and a new question is asked.
    await citizen.getByTestId('report-answer').fill(String(a + b + 1));
    await citizen.getByTestId('report-send').click();
    await waitForText(citizen, '验证问题回答不正确或已过期');
    await until('a new question', async () => (await citizen.getByTestId('report-question').textContent()) !== question);
    const [c, d] = (await citizen.getByTestId('report-question').textContent()).match(/\d+/g).map(Number);
    await citizen.getByTestId('report-answer').fill(String(c + d));
    await citizen.getByTestId('report-send').click();
    await citizen.waitForURL(/\/report\/[0-9A-Z]{12}$/, { timeout: 30_000 });
    const code = citizen.url().split('/').pop();
    assert.equal(await citizen.getByTestId('report-code-value').textContent(), code);
    assert.equal(await citizen.getByTestId('report-state').textContent(), '已收到，待受理');
    await waitForText(citizen, '条文待核');

    // The leader accepts it and answers.
    await loginInApp(desk, server.url, 'leader1', waitForText);
    await desk.goto(server.url + '/leader/reports');
    const card = desk.locator(`[data-testid=report][data-code="${code}"]`);
    await card.waitFor({ timeout: 30_000 });
    await card.locator('img').waitFor({ timeout: 20_000 });
    await until('the photo shown', () => card.locator('img').evaluate((img) => img.complete && img.naturalWidth > 0));
    await card.getByTestId('report-accept').click();
    await until('accepted', async () => (await card.getByTestId('report-state').textContent()) === '已受理，核查中');
    const answer = '经现场核查属实，已责令立即清理通道并立案查处。';
    await card.getByTestId('report-reply').fill(answer);
    await card.getByTestId('report-reply-send').click();
    await until('answered', async () => (await card.getByTestId('report-state').textContent()) === '已答复');

    // The reporter, by the code alone, reads the answer.
    await citizen.goto(server.url + '/report');
    await citizen.getByTestId('report-code').fill(code.toLowerCase());
    await citizen.getByRole('button', { name: '查询' }).click();
    await until('the answer shown', async () => (await citizen.getByTestId('report-answer-text').count()) > 0, 30_000);
    assert.equal(await citizen.getByTestId('report-state').textContent(), '已答复');
    assert.equal(await citizen.getByTestId('report-answer-text').textContent(), answer);
    const errors = [...citizen.errors, ...desk.errors].filter((e) => !e.includes('Failed to load resource'));
    assert.deepEqual(errors, []);
  } finally {
    await deskContext.close();
    await context.close();
    await server.dispose();
  }
});
