// Plan, draw, enter: a leader makes the year's plan and a 双随机 draw in the app; the draw's
// record re-runs with `verify-draw` (and fails when edited) and its publication names the seed;
// the drawn inspector's phone shows the task with the server stopped, reads the enterprise's code
// from the camera at the gate (Chromium's fake camera playing a generated QR code) and starts
// the inspection from the task; once synced, the task counts as done in the plan's coverage.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { ApiClient, loginInApp, readStore } from './device.mjs';
import {
  SERVER_BIN, Server, launchBrowser, launchProfile, phonePage, until, waitForServiceWorker, waitForText,
} from './harness.mjs';
import { qrVideo } from './qr.mjs';

const run = promisify(execFile);

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

async function cli(args) {
  try {
    const { stdout, stderr } = await run(SERVER_BIN, args);
    return { code: 0, out: stdout + stderr };
  } catch (error) {
    return { code: error.code, out: (error.stdout ?? '') + (error.stderr ?? '') };
  }
}

const SEED = '2026-12-06 公开种子 517';

test('a plan and a draw reach the drawn inspector offline, who scans in and starts from the task', async () => {
  const server = await Server.start(['--demo']);
  const dir = await mkdtemp(join(tmpdir(), 'zhicha-plans-'));
  const { context: leaderContext, page: leader } = await phonePage(browser);
  let phone;
  try {
    // The leader works the plan out: 2 officers × 248 days, 100 + 100 days elsewhere, two
    // officer-days an enterprise → 296 inspection days, 148 enterprises.
    await loginInApp(leader, server.url, 'leader1', waitForText);
    await leader.goto(server.url + '/leader/plans');
    await waitForText(leader, '新建年度计划');
    const form = leader.locator('form.plan-form');
    await form.locator('input[name=title]').fill('2027年度安全生产执法检查计划');
    await form.locator('input[name=year]').fill('2027');
    await form.locator('input[name=officers]').fill('2');
    await form.locator('input[name=other_days]').fill('100');
    await form.locator('input[name=non_enforcement_days]').fill('100');
    await form.locator('input[name=approver]').fill('张局长');
    await form.locator('input[name=approval_reference]').fill('达旗应急审〔2026〕12号');
    assert.equal(await form.locator('[data-figure=total_days]').textContent(), '496');
    assert.equal(await form.locator('[data-figure=inspection_days]').textContent(), '296');
    assert.equal(await form.locator('[data-figure=capacity]').textContent(), '148');
    await form.getByRole('button', { name: '新建计划' }).click();
    await waitForText(leader, '已新建：2027年度安全生产执法检查计划');
    await leader.getByRole('link', { name: /2027年度安全生产执法检查计划/ }).click();
    await waitForText(leader, '双随机抽取');

    // The draw: three random enterprises (and the 重点 ones), a published seed.
    const drawForm = leader.locator('form.draw-form');
    await drawForm.locator('input[name=draw_count]').fill('3');
    await drawForm.locator('input[name=draw_seed]').fill(SEED);
    await drawForm.getByRole('button', { name: '抽取并下发任务' }).click();
    await waitForText(leader, '第 1 次抽取完成');
    await waitForText(leader, `随机种子：${SEED}`);
    await waitForText(leader, '审批：张局长');

    // The record re-runs to the same draw, and an edited one does not.
    const api = await ApiClient.login(server.url, 'leader1');
    const plans = await api.get('/plans');
    const planId = plans.plans.find((p) => p.plan.year === 2027).plan.id;
    const detail = await api.get(`/plans/${planId}`);
    assert.equal(detail.draws.length, 1);
    const record = await api.get(`/draws/${detail.draws[0].id}`);
    assert.equal(record.input.seed, SEED);
    assert.ok(record.result.picks.length >= 3, 'three random picks at least');
    const file = join(dir, 'draw.json');
    await writeFile(file, JSON.stringify(record));
    const good = await cli(['verify-draw', file]);
    assert.equal(good.code, 0, good.out);
    const forged = structuredClone(record);
    const [a, b] = [forged.result.picks[0], forged.result.picks[forged.result.picks.length - 1]];
    [a.enterprise_id, b.enterprise_id] = [b.enterprise_id, a.enterprise_id];
    await writeFile(file, JSON.stringify(forged));
    const bad = await cli(['verify-draw', file]);
    assert.notEqual(bad.code, 0, bad.out);

    // The publication names the seed and every drawn enterprise.
    const res = await fetch(`${server.url}/api/v1/draws/${record.id}/publication.csv`, {
      headers: { authorization: `Bearer ${api.token}` },
    });
    assert.equal(res.status, 200);
    const csv = await res.text();
    assert.ok(csv.includes(SEED), csv);
    for (const pick of record.result.picks) {
      const name = record.enterprises.find((e) => e.id === pick.enterprise_id).name;
      assert.ok(csv.includes(name), `${name} in\n${csv}`);
    }

    // The drawn inspector's task, and a camera that shows its enterprise's code.
    const inspector = await ApiClient.login(server.url, 'inspector1');
    const me = (await inspector.get('/bootstrap'));
    const task = me.tasks.find((t) => t.officers.includes(me.user.id));
    assert.ok(task, 'inspector1 was drawn for a task');
    const enterprise = me.enterprises.find((e) => e.id === task.enterprise_id);
    const video = join(dir, 'gate.y4m');
    await qrVideo(video, `ZHICHA:ENT:${enterprise.id}`);
    const svg = await fetch(`${server.url}/api/v1/enterprises/${enterprise.id}/code.svg`, {
      headers: { authorization: `Bearer ${api.token}` },
    });
    assert.equal(svg.status, 200);
    assert.match(await svg.text(), /<svg/);

    phone = await launchProfile({
      args: ['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', `--use-file-for-fake-video-capture=${video}`],
      options: {
        timezoneId: 'Asia/Shanghai', permissions: ['geolocation', 'camera'],
        geolocation: { latitude: 40.291, longitude: 110.352, accuracy: 12 },
      },
    });
    const page = phone.pages()[0] ?? await phone.newPage();
    await loginInApp(page, server.url, 'inspector1', waitForText);
    await waitForServiceWorker(page);

    // No signal at the gate: the task is on the phone.
    await server.stop();
    await page.goto(server.url + '/tasks');
    const card = page.locator(`[data-testid=task][data-task="${task.id}"]`);
    await card.waitFor({ timeout: 20_000 });
    assert.match(await card.getByTestId('task-enterprise').textContent(), new RegExp(enterprise.name));
    await card.getByTestId('task-start').click();
    await waitForText(page, '签到并开始检查');
    assert.match(await page.getByTestId('plan-approval').textContent(), /张局长/);

    // 扫码入企: the camera reads the enterprise's code.
    await page.getByTestId('scan-start').click();
    await page.getByTestId('scan-result').filter({ hasText: `已核验：${enterprise.name}` }).waitFor({ timeout: 30_000 });
    await waitForText(page, '精度约 ±12 米');
    // The draw may have picked an enterprise already at its yearly cap (the demo's visits): the
    // start then asks why, as it would at the gate.
    const atCap = await page.getByTestId('cap-warning').count() > 0;
    if (atCap) await page.getByTestId('over-cap-reason').selectOption('上级交办');
    await page.getByTestId('start').click();
    await waitForText(page, '已检查 0 /');

    const stored = (await readStore(page, 'inspections')).find((i) => i.entry?.task_id === task.id);
    assert.ok(stored, 'the inspection records its task');
    assert.equal(stored.enterprise_id, enterprise.id);
    assert.equal(stored.entry.draw_id, task.draw_id);
    assert.equal(stored.entry.plan_id, planId);
    assert.equal(stored.entry.approval.by, '张局长');
    assert.equal(stored.entry.scan.text, `ZHICHA:ENT:${enterprise.id}`);
    assert.equal(stored.entry.scan.matches, true);
    assert.ok(stored.entry.scan.location, 'the scan carries the position');
    assert.equal(Boolean(stored.entry.over_cap), atCap);
    if (atCap) assert.equal(stored.entry.over_cap.reason, 'assigned');
    const partner = me.roster.find((u) => task.officers.includes(u.id) && u.id !== me.user.id);
    if (partner) {
      assert.ok(stored.inspectors.some((i) => i.user_id === partner.id), 'the drawn partner is on the team');
    }

    // Back online: the inspection syncs and the plan counts the task done.
    await server.start();
    await page.goto(server.url + '/');
    await page.getByRole('button', { name: '立即同步' }).click();
    await until('the task is done on the server', async () => {
      const now = await api.get(`/plans/${planId}`);
      const done = now.tasks.find((t) => t.id === task.id);
      return done?.inspection_id === stored.id && now.coverage.done >= 1;
    }, 60_000);
    assert.deepEqual(page.errors ?? [], []);
  } finally {
    await phone?.dispose();
    await leaderContext.close();
    await server.dispose();
    await rm(dir, { recursive: true, force: true });
  }
});
