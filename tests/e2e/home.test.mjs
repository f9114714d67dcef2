// The home screen on the demo server: an inspector's own demo visits have their evidence on the
// server, so once the phone has their receipts they read 已同步, never 待同步 forever; the list
// comes a page at a time, headed by section.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Server, launchBrowser, phonePage, until, waitForText } from './harness.mjs';
import { loginInApp } from './device.mjs';

test('an inspector\'s own demo visits read 已同步 once synced, and home lists them by section a page at a time', async () => {
  const server = await Server.start(['--demo']);
  const browser = await launchBrowser();
  try {
    const { context, page } = await phonePage(browser);
    await loginInApp(page, server.url, 'inspector1', waitForText);
    const badges = page.locator('[data-testid=record-sync]');
    let texts = [];
    await until('every visit on home has its receipt', async () => {
      texts = await badges.allTextContents();
      return texts.length > 0 && texts.every((t) => t === '已同步 · 证据已全部上传' || t === '同事的记录 · 已在服务器');
    }, 90_000).catch((e) => { throw new Error(`${e.message}: ${JSON.stringify(texts)}`); });
    assert.ok(texts.includes('已同步 · 证据已全部上传'), JSON.stringify(texts));
    assert.equal(await page.locator('[data-testid=app-status]').innerText(), '在线');

    // Sections head the list; 显示更多 adds the next page while there is one.
    assert.ok(await page.getByTestId('home-section').count() >= 1);
    const rows = page.getByTestId('home-row');
    const first = await rows.count();
    assert.ok(first >= 1 && first <= 10, String(first));
    if (await page.getByTestId('home-more').count()) {
      assert.equal(first, 10);
      await page.getByTestId('home-more').click();
      await until('the next page', async () => (await rows.count()) > 10);
    }
    assert.deepEqual(page.errors, []);
    await context.close();
  } finally {
    await browser.close();
    await server.dispose();
  }
});
