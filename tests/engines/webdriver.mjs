// A small W3C WebDriver client over fetch, and the drivers of the two engines Playwright cannot
// bring here: Firefox (Debian's firefox-esr through geckodriver) and WebKit (Debian's WebKitGTK
// MiniBrowser through WebKitWebDriver, on a private Xvfb display: MiniBrowser has no headless
// mode). Every process started here is ended by its own pid in `quit()`.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ELEMENT = 'element-6066-11e4-a52e-4f735466cecf';

export const FIREFOX_BIN = process.env.FIREFOX_BIN ?? '/usr/bin/firefox-esr';
export const GECKODRIVER_BIN = process.env.GECKODRIVER_BIN ?? 'geckodriver';
export const WEBKIT_DRIVER_BIN = process.env.WEBKIT_DRIVER_BIN ?? 'WebKitWebDriver';
// Debian ships MiniBrowser with libwebkit2gtk-4.1-0, under the architecture's library folder.
const MULTIARCH = { x64: 'x86_64-linux-gnu', arm64: 'aarch64-linux-gnu' }[process.arch] ?? `${process.arch}-linux-gnu`;
export const MINIBROWSER_BIN = process.env.MINIBROWSER_BIN ?? `/usr/lib/${MULTIARCH}/webkit2gtk-4.1/MiniBrowser`;

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

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A spawned process with its output kept for error messages. */
function run(bin, args, env = {}, stdio = ['ignore', 'pipe', 'pipe']) {
  const child = spawn(bin, args, { env: { ...process.env, ...env }, stdio });
  child.log = '';
  child.stdout?.on('data', (c) => { child.log = (child.log + c).slice(-20_000); });
  child.stderr?.on('data', (c) => { child.log = (child.log + c).slice(-20_000); });
  child.on('error', (e) => { child.log += `\n${e}`; });
  return child;
}

async function kill(child) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const late = setTimeout(() => child.kill('SIGKILL'), 3000);
  await gone;
  clearTimeout(late);
}

/** A private X display (Xvfb picks a free number and tells it on fd 3). */
async function startXvfb() {
  const child = run('Xvfb', ['-displayfd', '3', '-screen', '0', '1280x1024x24', '-nolisten', 'tcp'], {},
    ['ignore', 'pipe', 'pipe', 'pipe']);
  const display = await new Promise((ok, fail) => {
    let out = '';
    const timer = setTimeout(() => fail(new Error(`Xvfb gave no display within 10 s:\n${child.log}`)), 10_000);
    child.stdio[3].on('data', (c) => {
      out += c;
      if (out.includes('\n')) { clearTimeout(timer); ok(`:${out.trim()}`); }
    });
    child.once('exit', (code) => { clearTimeout(timer); fail(new Error(`Xvfb exited (${code}):\n${child.log}`)); });
  });
  return { child, display };
}

export class WebDriverError extends Error {
  constructor(method, path, status, value) {
    super(`WebDriver ${method} ${path}: ${status} ${value?.error ?? ''}: ${value?.message ?? JSON.stringify(value)}`);
    this.error = value?.error;
  }
}

/** One browser session of one engine. */
export class Browser {
  /**
   * Starts the engine's driver and a session. `engine` is 'firefox' or 'webkit'. Firefox's
   * geolocation is given a fixed position (Mozilla's own test preferences, no network
   * provider); WebKit's is left as the engine has it under automation.
   */
  static async start(engine, { position } = {}) {
    const port = await freePort();
    const processes = [];
    const dirs = [];
    let capabilities;
    let env = {};
    if (engine === 'firefox') {
      const prefs = {
        'browser.shell.checkDefaultBrowser': false,
        'intl.accept_languages': 'zh-CN, zh',
        'app.update.enabled': false,
        'toolkit.telemetry.enabled': false,
        'datareporting.policy.dataSubmissionEnabled': false,
      };
      if (position) {
        Object.assign(prefs, {
          'geo.enabled': true,
          'geo.prompt.testing': true,
          'geo.prompt.testing.allow': true,
          'geo.provider.use_geoclue': false,
          'geo.provider.use_gpsd': false,
          'geo.provider.testing': true,
          'geo.provider.network.url': `data:application/json,${JSON.stringify({
            location: { lat: position.latitude, lng: position.longitude }, accuracy: position.accuracy,
          })}`,
        });
      }
      capabilities = {
        browserName: 'firefox',
        'moz:firefoxOptions': { binary: FIREFOX_BIN, args: ['-headless'], prefs },
      };
      processes.push(run(GECKODRIVER_BIN, ['--port', String(port), '--host', '127.0.0.1'], { MOZ_HEADLESS: '1' }));
    } else if (engine === 'webkit') {
      const xvfb = await startXvfb();
      processes.push(xvfb.child);
      env = { DISPLAY: xvfb.display };
      // MiniBrowser keeps its data under $XDG_DATA_HOME / $XDG_CACHE_HOME: a fresh pair per run.
      const home = mkdtempSync(join(tmpdir(), 'zhicha-webkit-'));
      dirs.push(home);
      Object.assign(env, { XDG_DATA_HOME: join(home, 'data'), XDG_CACHE_HOME: join(home, 'cache'), XDG_CONFIG_HOME: join(home, 'config') });
      capabilities = {
        browserName: 'MiniBrowser',
        'webkitgtk:browserOptions': { binary: MINIBROWSER_BIN, args: ['--automation'] },
      };
      processes.push(run(WEBKIT_DRIVER_BIN, [`--port=${port}`], { ...env, LANGUAGE: 'zh_CN:zh' }));
    } else {
      throw new Error(`unknown engine ${engine}`);
    }
    const browser = new Browser(engine, `http://127.0.0.1:${port}`, processes, dirs);
    try {
      const deadline = Date.now() + 30_000;
      for (;;) {
        const ready = await fetch(`${browser.base}/status`, { signal: AbortSignal.timeout(2000) })
          .then((r) => r.ok, () => false);
        if (ready) break;
        const dead = processes.find((p) => p.exitCode !== null);
        if (dead || Date.now() > deadline) throw new Error(`${engine} driver did not start:\n${processes.map((p) => p.log).join('\n')}`);
        await sleep(100);
      }
      const session = await browser.command('POST', '/session', { capabilities: { alwaysMatch: capabilities } });
      browser.session = session.sessionId;
      browser.capabilities = session.capabilities;
      await browser.command('POST', `/session/${browser.session}/timeouts`, { script: 60_000, pageLoad: 60_000, implicit: 0 });
      await browser.setWindowRect(390, 844);
      return browser;
    } catch (e) {
      await browser.quit();
      throw e;
    }
  }

  constructor(engine, base, processes, dirs) {
    this.engine = engine;
    this.base = base;
    this.processes = processes;
    this.dirs = dirs;
    this.session = null;
  }

  get driverLog() {
    return this.processes.map((p) => p.log).join('\n').slice(-4000);
  }

  async command(method, path, body) {
    const res = await fetch(this.base + path, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json; charset=utf-8' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(120_000),
    });
    const text = await res.text();
    let json;
    try { json = JSON.parse(text); } catch { json = { value: { message: text } }; }
    if (!res.ok) throw new WebDriverError(method, path, res.status, json.value);
    return json.value;
  }

  s(path) { return `/session/${this.session}${path}`; }

  async setWindowRect(width, height) {
    try { await this.command('POST', this.s('/window/rect'), { width, height }); } catch { /* a fixed-size window is fine */ }
  }

  navigate(url) { return this.command('POST', this.s('/url'), { url }); }
  url() { return this.command('GET', this.s('/url')); }

  /** Runs `fn` (a function or its source) in the page with `args`; returns what it returns (awaited). */
  execute(fn, ...args) {
    return this.command('POST', this.s('/execute/async'), {
      script: `const done = arguments[arguments.length - 1];
        Promise.resolve().then(() => (${fn}).apply(null, Array.prototype.slice.call(arguments, 0, -1)))
          .then((v) => done({ ok: v === undefined ? null : v }), (e) => done({ error: String(e && e.stack || e) }));`,
      args,
    }).then((r) => {
      if (r && 'error' in r) throw new Error(`script failed in ${this.engine}: ${r.error}`);
      return r?.ok;
    });
  }

  async find(css) {
    const found = await this.command('POST', this.s('/element'), { using: 'css selector', value: css });
    return found[ELEMENT];
  }

  async findAll(css) {
    return (await this.command('POST', this.s('/elements'), { using: 'css selector', value: css })).map((e) => e[ELEMENT]);
  }

  /** Waits until `css` matches an element (and `predicate(element)` holds, if given), returns it. */
  async waitFor(css, { timeout = 20_000, visible = true } = {}) {
    const deadline = Date.now() + timeout;
    for (;;) {
      const hit = await this.execute((css, visible) =>
        [...document.querySelectorAll(css)].find((e) => !visible || e.getClientRects().length > 0) ?? null, css, visible);
      if (hit) return hit[ELEMENT];
      if (Date.now() > deadline) throw new Error(`${this.engine}: no ${css} within ${timeout} ms; page text:\n${await this.text()}`);
      await sleep(100);
    }
  }

  /** Waits until the page's text contains `text`. */
  async waitForText(text, timeout = 20_000) {
    const deadline = Date.now() + timeout;
    for (;;) {
      if ((await this.text()).includes(text)) return;
      if (Date.now() > deadline) throw new Error(`${this.engine}: "${text}" not shown within ${timeout} ms; page text:\n${await this.text()}`);
      await sleep(150);
    }
  }

  text() {
    return this.execute(() => document.body ? document.body.innerText : '').catch(() => '');
  }

  /** Clicks the first visible element matched by `css` (WebDriver Element Click). */
  async click(css) {
    await this.retry(async () => this.clickElement(await this.waitFor(css)));
  }

  /**
   * Runs `action` again when the element it found was replaced by a re-render in between (a
   * reactive page re-renders as its data arrives) or was not yet ready for input.
   */
  async retry(action, attempts = 20) {
    for (let n = 1; ; n++) {
      try {
        return await action();
      } catch (e) {
        const transient = ['stale element reference', 'element not interactable', 'element click intercepted', 'no such element'];
        if (n >= attempts || !transient.includes(e.error)) throw e;
        await sleep(200);
      }
    }
  }

  async clickElement(id) {
    await this.execute((el) => el.scrollIntoView({ block: 'center' }), { [ELEMENT]: id });
    await this.command('POST', this.s(`/element/${id}/click`), {});
  }

  /** Types into an element (WebDriver Element Send Keys; for a file input, a file path). */
  sendKeys(id, text) {
    return this.command('POST', this.s(`/element/${id}/value`), { text });
  }

  clear(id) {
    return this.command('POST', this.s(`/element/${id}/clear`), {});
  }

  /** Types `value` into the field matched by `css` and fires `change`, as leaving the field does. */
  async enter(css, value) {
    const typed = await this.retry(async () => {
      const id = await this.waitFor(css);
      await this.clear(id);
      await this.sendKeys(id, value);
      return this.execute((el) => {
        el.dispatchEvent(new Event('change', { bubbles: true }));
        return el.value;
      }, { [ELEMENT]: id });
    });
    if (typed !== value) throw new Error(`${this.engine}: typed "${value}" into ${css} but it holds "${typed}"`);
  }

  element(id) { return { [ELEMENT]: id }; }

  async quit() {
    if (this.session) {
      try { await this.command('DELETE', this.s('')); } catch { /* the driver may be gone */ }
      this.session = null;
    }
    for (const p of [...this.processes].reverse()) await kill(p);
    for (const d of this.dirs) rmSync(d, { recursive: true, force: true });
  }
}
