// The built PWA, served by the real server, starts in Chromium and shows its shell.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { DIST, Server, TARGET_DIR, launchBrowser, phonePage } from './harness.mjs';

let server;
let browser;
before(async () => {
  server = await Server.start();
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.dispose();
});

test('the served app renders its shell with the title 直查', async () => {
  const { context, page } = await phonePage(browser);
  await page.goto(server.url + '/');
  await page.locator('.app-bar__title').waitFor({ timeout: 20_000 });
  assert.equal(await page.locator('.app-bar__title').textContent(), '直查');
  assert.match(await page.title(), /直查/);
  assert.deepEqual(page.errors, []);
  await context.close();
});

test('a deep link to an app route is answered with the app', async () => {
  const { context, page } = await phonePage(browser);
  const response = await page.goto(server.url + '/no/such/route');
  assert.equal(response.status(), 200);
  await page.getByText('页面不存在').waitFor({ timeout: 20_000 });
  await context.close();
});

test('the served wasm is the one wasm-opt produced', async () => {
  const wasm = readdirSync(DIST).find((f) => f.endsWith('.wasm'));
  assert.ok(wasm, 'no .wasm in dist');
  const served = Buffer.from(await (await fetch(`${server.url}/${wasm}`)).arrayBuffer());
  assert.ok(served.equals(readFileSync(join(DIST, wasm))), 'the server serves the built wasm');
  // Trunk leaves wasm-opt's output here before copying it into dist/.
  const optimised = join(TARGET_DIR, 'wasm-opt', 'release', 'zhicha_bg.wasm');
  assert.ok(served.equals(readFileSync(optimised)), 'the served wasm is not the wasm-opt output');
});
