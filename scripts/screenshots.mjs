// Screenshots of every screen at 390×844 (a phone), and two at 820×1180 (a tablet), from the built app and the real server with
// demo data, into docs/screenshots/. Also checks each screen for horizontal overflow and for
// stray Latin words in the visible text, and exits non-zero if it finds any.
import { mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Server, launchBrowser, waitForServiceWorker, waitForText } from '../tests/e2e/harness.mjs';
import { ApiClient, loginInApp } from '../tests/e2e/device.mjs';
import { cameraPhotos, dateIn, enter, enterWithoutScan, phoneAtTheMine, sign } from '../tests/e2e/screens.mjs';

const OUT = resolve(import.meta.dirname, '..', 'docs', 'screenshots');
rmSync(OUT, { recursive: true, force: true });
mkdirSync(OUT, { recursive: true });
const problems = [];
// Latin that belongs on a Chinese screen: units, standard codes, document codes, ids shown as data.
const ALLOWED_LATIN = /^(GB|AQ|JGJ|MB|KB|A4|PNG|JPEG|CSV|Excel|xlsx|SVG|MPa|kPa|kV|ppm|LEL|mg|mm|km)$/;

async function shot(page, name) {
  await page.waitForTimeout(300); // let images decode and transitions settle
  const check = await page.evaluate(() => ({
    width: document.documentElement.scrollWidth,
    viewport: window.innerWidth,
    // Data shown as it is (a hash, a seed) is marked data-latin-ok and left out of the check.
    // So is a hash's hex prefix cited as evidence in a document (影像1（3adb9c12）).
    text: [...document.querySelectorAll('[data-latin-ok]')]
      .reduce((text, el) => text.replaceAll(el.innerText, ''), document.body.innerText)
      .replace(/\b(?=[0-9a-f]*[0-9])(?=[0-9a-f]*[a-f])[0-9a-f]{8,}\b/g, ''),
    height: document.documentElement.scrollHeight,
  }));
  if (check.width > check.viewport) {
    problems.push(`${name}: page is ${check.width}px wide (overflows ${check.viewport}px)`);
  }
  const words = [...new Set(check.text.match(/[A-Za-z]{3,}[A-Za-z/]*/g) ?? [])]
    .filter((w) => !/^[A-Z0-9]+$/.test(w) || w.length > 6)
    .filter((w) => !ALLOWED_LATIN.test(w));
  if (words.length) problems.push(`${name}: Latin words on screen: ${words.join(', ')}`);
  // Whole pages up to about three screens; a long checklist is shown as its first screen.
  if (check.height > 2600) await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: join(OUT, `${name}.png`), fullPage: check.height <= 2600 });
  console.log(`  ${name}.png`);
}

const server = await Server.start(['--demo']);
const browser = await launchBrowser();
try {
  // The year's plan and a 双随机 draw, made before the inspector signs in so the tasks reach the phone.
  const planner = await ApiClient.login(server.url, 'leader1');
  const post = async (path, body) => {
    const res = await fetch(server.url + '/api/v1' + path, {
      method: 'POST', headers: { authorization: `Bearer ${planner.token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`POST ${path}: ${res.status} ${await res.text()}`);
    return res.json();
  };
  const plan = await post('/plans', {
    year: 2027, title: '2027年度安全生产执法检查计划', campaign: '治本攻坚三年行动', min_random_pct: 70,
    staffing: { officers: 2, workdays_per_officer: 248, other_enforcement_days: 100, non_enforcement_days: 100, days_per_inspection: 2 },
    approval: { by: '张局长', on: dateIn(0), reference: '达旗应急审〔2026〕12号' },
  });
  await post(`/plans/${plan.id}/draws`, { count: 3, include_key: true, seed: '2026-12-06 公开种子 517', due: dateIn(30) });

  // The inspector's day.
  const { context, page } = await phoneAtTheMine(browser);
  await page.goto(server.url + '/login');
  await waitForText(page, '用户名');
  await shot(page, '01-login');
  await loginInApp(page, server.url, 'inspector1', waitForText);
  await waitForServiceWorker(page);
  await shot(page, '02-home');
  await page.goto(server.url + '/tasks');
  await page.getByTestId('task').first().waitFor();
  await shot(page, '17-tasks');
  await page.goto(server.url + '/');
  await page.getByTestId('new-inspection').click();
  await page.getByTestId('enterprise-search').fill('达拉特旗');
  await page.getByTestId('enterprise-option').first().waitFor();
  await shot(page, '03-enterprise-picker');
  await page.getByTestId('enterprise-search').fill('无证加油点');
  await waitForText(page, '没有找到匹配的单位');
  await page.getByText('现场新增单位（名录中没有的）').click();
  await page.getByTestId('adhoc-name').fill('树林召镇某无证加油点');
  await shot(page, '04-enterprise-add');
  await page.getByTestId('enterprise-search').fill('瑞丰');
  await page.getByTestId('enterprise-option').first().click();
  await waitForText(page, '精度约');
  await page.getByTestId('co-inspectors').getByText('李海燕').click();
  await enterWithoutScan(page);
  await shot(page, '05-start-check-in');
  await page.getByTestId('start').click();
  await waitForText(page, '已检查 0 /');
  for (let n = 0; n < 3; n++) {
    await page.locator('[data-testid=item]:not(:has([aria-pressed=true])) [data-testid=answer-ok]').first().click();
    await waitForText(page, `已检查 ${n + 1} /`);
  }
  await shot(page, '06-checklist');
  // The long checklist's index (目录) with each group's count, then back to the list.
  await page.getByTestId('index-toggle').click();
  await page.getByTestId('group-index').waitFor();
  await shot(page, '39-checklist-index');
  await page.getByTestId('index-toggle').click();
  const major = page.locator('[data-testid=item]', { has: page.locator('.badge--major') }).first();
  await major.getByTestId('answer-bad').click();
  await waitForText(page, '记录隐患');
  await shot(page, '07-finding-new');
  await enter(page.getByTestId('finding-description'), '1201 工作面瓦斯超限仍未停止作业');
  await enter(page.getByTestId('finding-place'), '1201 综采工作面');
  await enter(page.getByTestId('finding-deadline'), dateIn(15));
  await page.getByTestId('finding-photo-input').setInputFiles(await cameraPhotos(page, 2));
  await page.locator('.photos__img').nth(1).waitFor();
  await shot(page, '08-finding-complete');
  await page.getByTestId('finding-done').click();
  await waitForText(page, '本次发现隐患 1 项');
  await page.getByTestId('to-finish').click();
  await waitForText(page, '共发现隐患 1 项');
  await enter(page.getByTestId('finish-places'), '主斜井、1201 综采工作面');
  const first = page.getByTestId('inspector-signer').first();
  await sign(page, first.getByTestId('signature-pad'));
  await first.getByText('确认签名').click();
  await page.getByText('已签名').first().waitFor();
  await shot(page, '09-finish-signatures');
  const second = page.getByTestId('inspector-signer').filter({ has: page.getByTestId('signature-pad') }).first();
  await sign(page, second.getByTestId('signature-pad'));
  await second.getByText('确认签名').click();
  await page.getByText('已签名').nth(1).waitFor();
  await page.getByTestId('refuse').click();
  await page.getByTestId('witness').fill('白泥井镇安监站 张某');
  await page.getByText('记录拒绝签字').click();
  await waitForText(page, '已记录拒绝签字');
  await page.getByTestId('finish').click();
  await page.getByTestId('document').nth(1).waitFor();
  await shot(page, '10-documents');
  await page.setViewportSize({ width: 820, height: 1180 });
  await shot(page, '30-tablet-documents');
  await page.setViewportSize({ width: 390, height: 844 });
  await page.emulateMedia({ media: 'print' });
  await shot(page, '11-documents-print');
  await page.emulateMedia({ media: 'screen' });
  // 预立案 from this inspection, with its 询问笔录, and the case it makes.
  const inspectionId = page.url().match(/inspections\/([0-9a-f-]{36})\//)[1];
  await page.goto(`${server.url}/inspections/${inspectionId}/case`);
  await waitForText(page, '询问笔录');
  await page.getByTestId('interview-person').fill('张三');
  await page.getByTestId('interview-position').fill('安全矿长');
  await page.getByTestId('qa-answer').nth(0).fill('看清了，不申请回避。');
  await page.getByTestId('qa-answer').nth(2).fill('当班瓦斯检查员请假，未安排替班。');
  await shot(page, '33-pre-filing');
  await page.getByTestId('interview-refuse').click();
  await page.getByTestId('interview-refusal').fill('被询问人拒绝签名，见证人 周六（村委会主任）');
  await page.getByTestId('case-save').click();
  await page.waitForURL(/\/cases\/[0-9a-f-]{36}$/);
  await page.waitForTimeout(1000);
  await shot(page, '34-case');
  // The public 举报 page, as anyone opens it.
  const citizen = await phoneAtTheMine(browser);
  await citizen.page.goto(server.url + '/report');
  await waitForText(citizen.page, '安全生产隐患举报');
  await citizen.page.getByTestId('report-text').fill('物流园 3 号库安全出口被货物堵死，夜里有人住在库里');
  await citizen.page.getByTestId('report-place').fill('达拉特旗某物流园 3 号库');
  await citizen.page.waitForTimeout(1000);
  await shot(citizen.page, '36-report');
  const question = await citizen.page.getByTestId('report-question').textContent();
  const [x, y] = question.match(/\d+/g).map(Number);
  await citizen.page.getByTestId('report-answer').fill(String(x + y));
  await citizen.page.getByTestId('report-send').click();
  await citizen.page.waitForURL(/\/report\/[0-9A-Z]{12}$/);
  await citizen.page.waitForTimeout(1000);
  await shot(citizen.page, '37-report-status');
  await citizen.context.close();
  // The leader's side.
  const leader = await phoneAtTheMine(browser);
  const lp = leader.page;
  await loginInApp(lp, server.url, 'leader1', waitForText);
  await shot(lp, '20-leader-home');
  const pages = [
    ['27-plans', '/leader/plans'],
    ['28-plan', `/leader/plans/${plan.id}`],
    ['21-review', '/leader/review'],
    ['23-rectification', '/leader/rectification'],
    ['24-ledger', '/leader/ledger'],
    ['25-statistics', '/leader/stats'],
    ['35-cases', '/cases'],
    ['38-reports', '/leader/reports'],
  ];
  for (const [name, path] of pages) {
    await lp.goto(server.url + path);
    await lp.waitForTimeout(2500);
    await shot(lp, name);
  }
  // On a phone the ledger's filters are folded behind one button; opened, they read as a form.
  await lp.goto(server.url + '/leader/ledger');
  await lp.waitForTimeout(2500);
  await lp.getByTestId('filter-toggle').click();
  await shot(lp, '40-ledger-filters');
  await lp.setViewportSize({ width: 820, height: 1180 });
  await lp.goto(server.url + '/leader/ledger');
  await lp.waitForTimeout(2500);
  await shot(lp, '31-tablet-ledger');
  await lp.goto(`${server.url}/leader/plans/${plan.id}`);
  await lp.waitForTimeout(2500);
  await shot(lp, '32-tablet-plan');
  await lp.setViewportSize({ width: 390, height: 844 });
  await lp.goto(server.url + '/leader/review');
  await lp.waitForTimeout(2000);
  const detail = lp.locator('a[href^="/leader/findings/"]').first();
  if (await detail.count()) {
    await detail.click();
    await lp.waitForTimeout(2000);
    await shot(lp, '22-leader-finding');
  } else {
    problems.push('22-leader-finding: no finding in the review queue of the demo data');
  }
  const enterprises = await lp.evaluate(async () => {
    const db = await new Promise((ok) => { const r = indexedDB.open('zhicha'); r.onsuccess = () => ok(r.result); });
    return new Promise((ok) => {
      const req = db.transaction('enterprises').objectStore('enterprises').getAll();
      req.onsuccess = () => ok(req.result.map((e) => e.id));
    });
  });
  await lp.goto(`${server.url}/enterprises/${enterprises[0]}`);
  await lp.waitForTimeout(2000);
  await shot(lp, '26-enterprise-dossier');
  // Confirm the new finding, so the inspector has one to re-inspect.
  await lp.goto(server.url + '/leader/review');
  await lp.getByRole('button', { name: '确认', exact: true }).first().click();
  await lp.waitForTimeout(3000);
  await leader.context.close();

  // Back on the inspector's phone: sync, then the re-inspection screens and the rest.
  await page.goto(server.url + '/');
  await page.getByRole('button', { name: '立即同步' }).click();
  await page.waitForTimeout(3000);
  await page.goto(server.url + '/reinspections');
  await page.waitForTimeout(1500);
  await shot(page, '12-reinspections');
  const open = page.locator('a[href^="/findings/"][href$="/reinspect"]').first();
  if (await open.count()) {
    await open.click();
    await page.waitForTimeout(1500);
    await shot(page, '13-reinspect');
  } else {
    problems.push('13-reinspect: no open finding to re-inspect in the demo data');
  }
  await page.goto(server.url + '/storage');
  await waitForText(page, '本机存储与同步状态');
  await shot(page, '14-storage');
  await page.goto(server.url + '/sync-errors');
  await page.waitForTimeout(1000);
  await shot(page, '15-sync-errors');
  await page.goto(server.url + '/no-such-page');
  await page.waitForTimeout(1000);
  await shot(page, '16-not-found');

  await context.close();
} finally {
  await browser.close();
  await server.dispose();
}
if (problems.length) {
  console.error('\nProblems found:\n  ' + problems.join('\n  '));
  process.exit(1);
}
console.log(`\nScreenshots written to docs/screenshots/`);
