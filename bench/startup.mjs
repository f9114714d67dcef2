// Start-up until the first screen is usable, with 4× CPU throttling (DevTools protocol):
// zhicha's first load online (fresh profile → the home screen; a new device shows it before any
// sign-in), zhicha's reload offline (signed in, server stopped, the service worker serves the
// shell → the home screen),
// and ODK Web Forms' first load (fresh profile → the form's first text input).
// Usage: node startup.mjs RESULTS.jsonl   (env: ZHICHA_SERVER_BIN, ZHICHA_DIST, RUNS)
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serveStatic } from './lib/static.mjs';
import { launchChromium, median, record } from './lib/stats.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const results = process.argv[2];
const RUNS = Number(process.env.RUNS ?? 5);
const THROTTLE = 4;
const scratch = process.env.BENCH_SCRATCH ?? join(here, '..', 'target', 'bench-scratch');

const freePort = () => new Promise((resolve, reject) => {
  const probe = createServer();
  probe.on('error', reject);
  probe.listen(0, '127.0.0.1', () => {
    const { port } = probe.address();
    probe.close(() => resolve(port));
  });
});

/** zhicha-server on a fixed port (the service worker belongs to the origin) over fresh data. */
class Server {
  constructor(port, data) {
    this.url = `http://127.0.0.1:${port}`;
    this.env = {
      ...process.env, ZHICHA_ADDR: `127.0.0.1:${port}`, ZHICHA_DATA: data, ZHICHA_DEMO: '1', RUST_LOG: 'warn',
    };
  }
  async start() {
    this.child = spawn(process.env.ZHICHA_SERVER_BIN, ['serve'], { env: this.env, stdio: 'ignore' });
    for (let i = 0; i < 300; i++) {
      if (await fetch(`${this.url}/healthz`).then((r) => r.ok, () => false)) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('zhicha-server did not answer /healthz');
  }
  async stop() {
    if (!this.child || this.child.exitCode !== null) return;
    const gone = new Promise((r) => this.child.once('exit', r));
    // Killed, as a lost network or a dead server looks to the app (a graceful stop would wait
    // for the page's open connections to close).
    this.child.kill('SIGKILL');
    await gone;
  }
}

/**
 * Records in `window.__usableAt` the time since navigation start at which `selector` first
 * matches (or `text` first appears): checked on every DOM change from the very start of the page.
 */
const watch = ({ selector, text }) => {
  const usable = () => document.querySelector(selector) && (!text || document.body.textContent.includes(text));
  const observer = new MutationObserver(() => {
    if (window.__usableAt === undefined && usable()) {
      window.__usableAt = performance.now();
      observer.disconnect();
    }
  });
  observer.observe(document, { childList: true, subtree: true, characterData: true });
};

async function throttledPage(browser) {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'zh-CN' });
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: THROTTLE });
  return { context, page };
}

/** The home screen: the app bar and the device's storage and sync panel. */
const HOME = { selector: '.app-bar__title', text: '本机存储' };

const usableAt = (page) =>
  page.waitForFunction(() => window.__usableAt, null, { timeout: 60_000, polling: 50 }).then((h) => h.jsonValue());

const browser = await launchChromium();
const site = await serveStatic(here);
const times = { 'startup-online/zhicha': [], 'startup-offline/zhicha': [], 'startup-online/odk-web-forms': [] };
try {
  for (let run = 0; run < RUNS; run++) {
    // zhicha: a new data folder and a fresh browser profile each run.
    const data = mkdtempSync(join(scratch, 'startup-'));
    const server = new Server(await freePort(), data);
    await server.start();
    try {
      const { context, page } = await throttledPage(browser);
      await page.addInitScript(watch, HOME);
      await page.goto(`${server.url}/`);
      times['startup-online/zhicha'].push(await usableAt(page));
      console.error(`  run ${run + 1}: first load done`);
      // Sign in (as an inspector does once), let the service worker take control, go offline.
      await page.goto(`${server.url}/login`);
      await page.locator('input[name=username]').fill('inspector1');
      await page.locator('input[name=password]').fill('zhicha-demo');
      await page.locator('button[type=submit]').click();
      // Signed in: the login screen has gone and the home screen is back.
      await page.waitForFunction(() => !location.pathname.startsWith('/login') && document.body.textContent.includes('检查记录'), null, { timeout: 60_000, polling: 100 });
      await page.evaluate(async () => {
        await navigator.serviceWorker.ready;
        if (!navigator.serviceWorker.controller) {
          await new Promise((r) => navigator.serviceWorker.addEventListener('controllerchange', r, { once: true }));
        }
      });
      await server.stop();
      console.error(`  run ${run + 1}: signed in, server stopped`);
      // Only the navigation is awaited; readiness is what the observer records.
      await page.reload({ waitUntil: 'commit' });
      times['startup-offline/zhicha'].push(await usableAt(page));
      await context.close();
    } finally {
      await server.stop();
      rmSync(data, { recursive: true, force: true });
    }

    const { context, page } = await throttledPage(browser);
    await page.addInitScript(watch, { selector: '.odk-form input[type=text]' });
    await page.goto(`${site.url}/pages/odk.html`);
    times['startup-online/odk-web-forms'].push(await usableAt(page));
    await context.close();
  }
} finally {
  await browser.close();
  await site.close();
}
for (const [id, list] of Object.entries(times)) {
  record(results, {
    id,
    value: median(list),
    unit: 'ms',
    note: `median of ${list.length}, ${THROTTLE}× CPU throttling, loopback network; runs: ${list.map((t) => Math.round(t)).join(', ')}`,
  });
}
