// End-to-end harness: the real zhicha-server binary serving the built PWA, and headless Chromium.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { get as httpsGet } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

const ROOT = resolve(import.meta.dirname, '..', '..');
export const TARGET_DIR = process.env.CARGO_TARGET_DIR ?? join(ROOT, 'target');
export const SERVER_BIN = process.env.ZHICHA_SERVER_BIN ?? join(TARGET_DIR, 'debug', 'zhicha-server');
export const DIST = process.env.ZHICHA_DIST ?? join(ROOT, 'dist');
const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';

async function freePort() {
  return new Promise((ok, fail) => {
    const probe = createServer();
    probe.unref();
    probe.on('error', fail);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => ok(port));
    });
  });
}

/**
 * A running zhicha-server over a fresh data folder. `stop()` kills it; `start()` runs it again.
 * With `tls` ({ cert, key, ca, host }: PEM file paths, the CA's PEM text and the name the
 * certificate is for) it speaks HTTPS and `url` is `https://<host>:<port>`; the browser must map
 * that name to 127.0.0.1 (see `hostResolverArgs`).
 */
export class Server {
  static async start(extraArgs = [], env = {}, tls = null) {
    const server = new Server(await freePort(), mkdtempSync(join(tmpdir(), 'zhicha-e2e-')), extraArgs, env, tls);
    await server.start();
    return server;
  }

  constructor(port, data, extraArgs, env = {}, tls = null) {
    this.port = port;
    this.env = tls ? { ...env, ZHICHA_TLS_CERT: tls.cert, ZHICHA_TLS_KEY: tls.key } : env;
    this.tls = tls;
    this.data = data;
    this.extraArgs = extraArgs;
    this.url = tls ? `https://${tls.host}:${port}` : `http://127.0.0.1:${port}`;
    this.log = '';
  }

  /**
   * True once /healthz answers 200 (over HTTPS trusting only the test's own CA). Each probe gives
   * up after 2 s: a connection accepted while the server is still starting may never be answered,
   * and a probe without a limit would then wait forever instead of trying again.
   */
  healthy() {
    if (!this.tls) {
      return fetch(`${this.url}/healthz`, { signal: AbortSignal.timeout(2000) }).then((r) => r.ok, () => false);
    }
    return new Promise((ok) => {
      const request = httpsGet({
        host: '127.0.0.1', port: this.port, path: '/healthz', servername: this.tls.host, ca: this.tls.ca,
      }, (response) => { response.resume(); ok(response.statusCode === 200); });
      request.setTimeout(2000, () => { request.destroy(); ok(false); });
      request.on('error', () => ok(false));
    });
  }

  async start() {
    this.child = spawn(SERVER_BIN, ['serve', ...this.extraArgs], {
      env: { ...process.env, ZHICHA_ADDR: `127.0.0.1:${this.port}`, ZHICHA_DATA: this.data, ZHICHA_DIST: DIST, ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const collect = (chunk) => { this.log += chunk; };
    this.child.stdout.on('data', collect);
    this.child.stderr.on('data', collect);
    const exited = new Promise((_, fail) =>
      this.child.once('exit', (code) => fail(new Error(`server exited (${code}):\n${this.log}`))));
    exited.catch(() => {}); // a stop after start-up is expected, not an unhandled rejection

    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const up = await Promise.race([
        this.healthy(),
        exited,
      ]);
      if (up) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`server did not answer /healthz within 30 s:\n${this.log}`);
  }

  async stop(signal = 'SIGKILL') {
    if (!this.child || this.child.exitCode !== null || this.child.signalCode !== null) return;
    const gone = new Promise((r) => this.child.once('exit', r));
    this.child.kill(signal);
    await gone;
  }

  async dispose() {
    await this.stop();
    rmSync(this.data, { recursive: true, force: true });
  }
}

const CHROMIUM_ARGS = [
  '--headless=new', '--lang=zh-CN', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
  '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run',
];

// The browser's own UI (date pickers, file inputs) in Chinese where its translations are installed.
const BROWSER_ENV = { ...process.env, LANGUAGE: 'zh_CN:zh' };

/** Headless Chromium as the machines run it (root, no sandbox, no background traffic). */
export async function launchBrowser() {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, env: BROWSER_ENV });
}

/** Chromium arguments that make `host` resolve to 127.0.0.1 (a name, not localhost: a real origin). */
export const hostResolverArgs = (host) => [`--host-resolver-rules=MAP ${host} 127.0.0.1`];

/**
 * A browser with a real profile on disk (not incognito), as an installed app has. Returns the
 * context; `dispose()` closes it and removes the profile. `home` sets `$HOME` for the browser
 * (Chromium on Linux reads the certificate authorities a user trusts from `$HOME/.pki/nssdb`);
 * `args` are added to the usual flags; `options` go to the context (geolocation, permissions).
 */
export async function launchProfile({ home, args = [], options = {} } = {}) {
  const profile = mkdtempSync(join(tmpdir(), 'zhicha-profile-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, args: [...CHROMIUM_ARGS, ...args], env: home ? { ...BROWSER_ENV, HOME: home } : BROWSER_ENV,
    viewport: { width: 390, height: 844 }, locale: 'zh-CN', ...options,
  });
  context.dispose = async () => {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  };
  return context;
}

/** A phone-sized page that records console errors and uncaught exceptions. */
export async function phonePage(browser) {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'zh-CN' });
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') page.errors.push(m.text()); });
  return { context, page };
}

/**
 * Waits until the page shows `text`. Polls on a timer, not on animation frames: Chromium can stop
 * painting a page that was navigated while its server was down, and rAF-based waits then stall.
 */
export async function waitForText(page, text, timeout = 20_000) {
  await page.waitForFunction((t) => document.body?.innerText.includes(t), text, { timeout, polling: 100 });
}

/** Waits until the app's service worker is active and controls the page. */
export async function waitForServiceWorker(page) {
  const controlled = (limitMs) => page.evaluate(async (limitMs) => {
    const limit = new Promise((r) => setTimeout(() => r(false), limitMs));
    const ready = (async () => {
      await navigator.serviceWorker.ready;
      if (!navigator.serviceWorker.controller) {
        await new Promise((r) => navigator.serviceWorker.addEventListener('controllerchange', r, { once: true }));
      }
      return true;
    })();
    return Promise.race([ready, limit]);
  }, limitMs);
  if (await controlled(45_000)) return;
  // An install whose precache fetch failed leaves no worker until the app is opened again, as a
  // person would: say so, reload once, and wait again (a second failure fails the test).
  const state = await page.evaluate(async () => {
    const registration = await navigator.serviceWorker.getRegistration();
    return JSON.stringify({
      installing: registration?.installing?.state ?? null,
      waiting: registration?.waiting?.state ?? null,
      active: registration?.active?.state ?? null,
    });
  });
  console.log(`# service worker not in control after 45 s (${state}); reloading once`);
  await page.reload();
  if (!(await controlled(45_000))) throw new Error(`the service worker never took control (${state})`);
}

/** Polls `check` until it returns something truthy (returned), failing after `timeoutMs`. */
export async function until(what, check, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try {
      last = await check();
      if (last) return last;
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what} not reached within ${timeoutMs} ms (last: ${last})`);
}
