// Start-up until the first screen is usable, with 4× CPU throttling (DevTools protocol):
// zhicha's first load online (fresh profile → the home screen; a new device shows it before any
// sign-in), zhicha's reload offline (signed in, server stopped, the service worker serves the
// shell → the home screen),
// and ODK Web Forms' first load (fresh profile → the form's first text input).
// The offline reload is also measured with 6× CPU throttling (a low-end phone): a separate run in
// which everything before the reload is done at 4× as above and the rate is raised to 6× just
// before the offline reload (`startup-offline-6x/zhicha`).
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
/** The rate of the low-end phone's offline reload. */
const THROTTLE_LOW_END = 6;
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
    // A child killed by a signal has `signalCode` set and `exitCode` still null.
    if (!this.child || this.child.exitCode !== null || this.child.signalCode !== null) return;
    const gone = new Promise((r) => this.child.once('exit', r));
    // Killed, as a lost network or a dead server looks to the app (a graceful stop would wait
    // for the page's open connections to close).
    this.child.kill('SIGKILL');
    await gone;
  }
}

/**
 * Reports to the benchmark, through the `__reportUsable` binding, the time since navigation start
 * at which `selector` first matches (or `text` first appears): checked on every DOM change from
 * the very start of the page. Pushing the time out of the page, rather than polling for it from
 * the benchmark, keeps the measurement independent of the page's own timers (a polled wait on a
 * throttled page was seen to hang past its own timeout).
 */
const watch = ({ selector, text }) => {
  const usable = () => document.querySelector(selector) && (!text || document.body.textContent.includes(text));
  let reported = false;
  const observer = new MutationObserver(() => {
    if (!reported && usable()) {
      reported = true;
      observer.disconnect();
      window.__reportUsable(performance.now());
    }
  });
  observer.observe(document, { childList: true, subtree: true, characterData: true });
};

/** A phone-sized page with 4× CPU throttling; `page.nextUsable()` resolves with the next report. */
async function throttledPage(browser) {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'zh-CN' });
  let waiting = null;
  await context.exposeBinding('__reportUsable', (_source, at) => waiting?.(at));
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: THROTTLE });
  /** Arm before navigating; rejects (with a screenshot for the reader) after 60 s. */
  page.nextUsable = (label) => {
    let timer;
    const usable = new Promise((resolve) => { waiting = resolve; });
    const late = new Promise((_, reject) => {
      timer = setTimeout(() => {
        const shot = join(scratch, `startup-timeout-${label}.png`);
        page.screenshot({ path: shot, timeout: 5_000 }).catch(() => {});
        reject(new Error(`${label}: not usable within 60 s (a screenshot is attempted: ${shot})`));
      }, 60_000);
    });
    const outcome = Promise.race([usable, late]).finally(() => { clearTimeout(timer); waiting = null; });
    // Awaited later, after the navigation: a step failing before that must not leave it unhandled.
    outcome.catch(() => {});
    return outcome;
  };
  return { context, page, cdp };
}

/** The home screen: the app bar and the device's storage and sync panel. */
const HOME = { selector: '.app-bar__title', text: '本机存储' };

/**
 * `promise`, or an error after `ms`: Playwright calls on a throttled page were seen to stall past
 * their own timeouts (no protocol traffic at all), so every step has a deadline kept here.
 */
const within = (ms, label, promise) => {
  let timer;
  const late = new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`${label}: no answer within ${ms / 1000} s`)), ms); });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
};

/** Waits until the service worker controls the page, reloading (online) once if it does not. */
async function controlled(page) {
  for (let i = 0; i < 120; i++) {
    const yes = await within(5_000, 'service worker state', page.evaluate(() => !!navigator.serviceWorker.controller)).catch(() => false);
    if (yes) return;
    if (i === 30) await within(30_000, 'reload online', page.reload());
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error('the service worker never took control of the page');
}

/**
 * One zhicha run: [first load online, reload offline] in ms, in a fresh profile over fresh data.
 * `offlineRate` is the CPU throttling of the offline reload (everything before it runs at 4×).
 */
async function zhichaRun(browser, run, offlineRate = THROTTLE) {
  const data = mkdtempSync(join(scratch, 'startup-'));
  const server = new Server(await freePort(), data);
  await server.start();
  const { context, page, cdp } = await throttledPage(browser);
  try {
    await page.addInitScript(watch, HOME);
    const online = page.nextUsable('zhicha-online');
    await within(60_000, 'first load', page.goto(`${server.url}/`));
    const first = await online;
    console.error(`  run ${run}: first load done`);
    // Sign in (as an inspector does once), let the service worker take control, go offline.
    await within(60_000, 'login page', page.goto(`${server.url}/login`));
    await within(30_000, 'fill', page.locator('input[name=username]').fill('inspector1'));
    await within(30_000, 'fill', page.locator('input[name=password]').fill('zhicha-demo'));
    await within(30_000, 'submit', page.locator('button[type=submit]').click());
    // Signed in: the login screen has gone and the home screen is back.
    await within(70_000, 'sign-in', page.waitForFunction(() => !location.pathname.startsWith('/login') && document.body.textContent.includes('检查记录'), null, { timeout: 60_000, polling: 100 }));
    await controlled(page);
    await server.stop();
    console.error(`  run ${run}: signed in, server stopped`);
    if (offlineRate !== THROTTLE) await within(10_000, 'throttling', cdp.send('Emulation.setCPUThrottlingRate', { rate: offlineRate }));
    // Only the navigation is awaited; readiness is what the observer reports.
    const offline = page.nextUsable('zhicha-offline');
    await within(60_000, 'offline reload', page.reload({ waitUntil: 'commit' }));
    return [first, await offline];
  } finally {
    await within(10_000, 'close', context.close()).catch(() => {});
    await server.stop();
    rmSync(data, { recursive: true, force: true });
  }
}

async function odkRun(browser) {
  const { context, page } = await throttledPage(browser);
  try {
    await page.addInitScript(watch, { selector: '.odk-form input[type=text]' });
    const odk = page.nextUsable('odk-web-forms');
    await within(60_000, 'ODK first load', page.goto(`${site.url}/pages/odk.html`));
    return await odk;
  } finally {
    await within(10_000, 'close', context.close()).catch(() => {});
  }
}

/** Runs `attempt` until it succeeds, at most 3 times; a stalled attempt is counted and said. */
let stalled = 0;
async function retried(label, attempt) {
  for (let tries = 1; ; tries++) {
    try {
      return await attempt();
    } catch (e) {
      stalled++;
      console.error(`  ${label}: attempt ${tries} failed: ${e.message}`);
      if (tries === 3) throw e;
    }
  }
}

const browser = await launchChromium();
const site = await serveStatic(here);
const times = { 'startup-online/zhicha': [], 'startup-offline/zhicha': [], 'startup-online/odk-web-forms': [] };
const lowEnd = [];
try {
  for (let run = 1; run <= RUNS; run++) {
    const [first, offline] = await retried(`zhicha run ${run}`, () => zhichaRun(browser, run));
    times['startup-online/zhicha'].push(first);
    times['startup-offline/zhicha'].push(offline);
    times['startup-online/odk-web-forms'].push(await retried(`ODK run ${run}`, () => odkRun(browser)));
    const [, offline6] = await retried(`zhicha ${THROTTLE_LOW_END}x run ${run}`, () => zhichaRun(browser, `${run} (${THROTTLE_LOW_END}x)`, THROTTLE_LOW_END));
    lowEnd.push(offline6);
  }
} finally {
  await within(10_000, 'browser close', browser.close()).catch(() => {});
  await site.close();
}
for (const [id, list] of Object.entries(times)) {
  record(results, {
    id,
    value: median(list),
    unit: 'ms',
    note: `median of ${list.length}, ${THROTTLE}× CPU throttling, loopback network; runs: ${list.map((t) => Math.round(t)).join(', ')}${stalled ? `; ${stalled} stalled attempt(s) were repeated` : ''}`,
  });
}
record(results, {
  id: 'startup-offline-6x/zhicha',
  value: median(lowEnd),
  unit: 'ms',
  note: `median of ${lowEnd.length}, reload offline (signed in, service worker in control, server killed) with ${THROTTLE_LOW_END}× CPU throttling ` +
    `(set just before the reload; the visit and sign-in before it at ${THROTTLE}×), loopback network, until the home screen is there; ` +
    `runs: ${lowEnd.map((t) => Math.round(t)).join(', ')}${stalled ? `; ${stalled} stalled attempt(s) were repeated` : ''}`,
});
