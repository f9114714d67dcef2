// Headless Chromium over a raw DevTools socket (as bench/first-visit.mjs drives it), the
// zhicha-server binary on a chosen port, and a free port. Playwright does not expose a service
// worker's network session; a raw socket with auto-attach does.
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export const freePort = () => new Promise((ok, fail) => {
  const probe = createServer();
  probe.on('error', fail);
  probe.listen(0, '127.0.0.1', () => { const { port } = probe.address(); probe.close(() => ok(port)); });
});

/** zhicha-server (`ZHICHA_SERVER_BIN`) serving `dist` over `data` on `port`; resolves when healthy. */
export async function startServer({ port, data, dist, demo = false }) {
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(process.env.ZHICHA_SERVER_BIN, ['serve'], {
    env: {
      ...process.env, ZHICHA_ADDR: `127.0.0.1:${port}`, ZHICHA_DATA: data, ZHICHA_DIST: dist,
      ...(demo ? { ZHICHA_DEMO: '1' } : {}), RUST_LOG: 'warn',
    },
    stdio: 'ignore',
  });
  const exited = new Promise((r) => child.once('exit', r));
  for (let i = 0; i < 600; i++) {
    if (await fetch(`${url}/healthz`).then((r) => r.ok, () => false)) {
      return {
        url,
        stop: async () => {
          if (child.exitCode !== null || child.signalCode !== null) return;
          child.kill('SIGKILL');
          await exited;
        },
      };
    }
    if (child.exitCode !== null) break;
    await sleep(100);
  }
  child.kill('SIGKILL');
  throw new Error('zhicha-server did not start');
}

/** Headless Chromium with a fresh profile and a DevTools socket. */
export async function startChromium(extraArgs = []) {
  const profile = mkdtempSync(join(tmpdir(), 'zhicha-bench-profile-'));
  const child = spawn(CHROMIUM, [
    '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--lang=zh-CN',
    '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run',
    '--window-size=390,844', '--remote-debugging-port=0', `--user-data-dir=${profile}`, ...extraArgs, 'about:blank',
  ], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, LANGUAGE: 'zh_CN:zh' } });
  const endpoint = await new Promise((ok, fail) => {
    let log = '';
    child.stderr.on('data', (chunk) => {
      log += chunk;
      const match = log.match(/DevTools listening on (ws:\/\/\S+)/);
      if (match) ok(match[1]);
    });
    child.once('exit', (code) => fail(new Error(`chromium exited (${code}): ${log}`)));
  });
  const exited = new Promise((r) => child.once('exit', r));
  return {
    endpoint,
    stop: async () => {
      child.kill('SIGKILL');
      await exited;
      rmSync(profile, { recursive: true, force: true, maxRetries: 5 });
    },
  };
}

/** A CDP connection with flattened sessions: send(method, params, sessionId), on(listener). */
export async function connect(endpoint) {
  const socket = new WebSocket(endpoint);
  await new Promise((ok, fail) => { socket.onopen = ok; socket.onerror = fail; });
  let next = 0;
  const pending = new Map();
  const listeners = [];
  socket.onmessage = ({ data }) => {
    const message = JSON.parse(data);
    if (message.id !== undefined) {
      const { ok, fail } = pending.get(message.id);
      pending.delete(message.id);
      if (message.error) fail(new Error(message.error.message)); else ok(message.result);
    } else {
      for (const listen of listeners) listen(message);
    }
  };
  return {
    send: (method, params = {}, sessionId) => new Promise((ok, fail) => {
      const id = ++next;
      pending.set(id, { ok, fail });
      socket.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
    }),
    on: (listen) => listeners.push(listen),
    close: () => socket.close(),
  };
}

/**
 * Attaches to every target (pages, service workers, workers) as it appears, paused until
 * `onTarget(sessionId, targetInfo)` has run (Network.enable and the like), and records the
 * network traffic each one reports (as bench/first-visit.mjs does). Returns
 * { sessions, requests, openPage(url), evaluate(expression), lastActivity() }:
 * `requests` maps `${sessionId} ${requestId}` → { url, method, who, type, bytes, viaWorker, status, at, done }.
 */
export async function instrument(cdp, onTarget = async () => {}) {
  const requests = new Map();
  const sessions = new Map(); // targetId → { sessionId, type }
  let last = Date.now();
  let pageSession;
  cdp.on(async (message) => {
    const { method, params, sessionId } = message;
    if (method?.startsWith('Target.') && process.env.DEBUG) console.error(`  ${method} ${JSON.stringify(params).slice(0, 160)}`);
    if (method === 'Target.attachedToTarget') {
      const session = params.sessionId;
      sessions.set(params.targetInfo.targetId, { sessionId: session, type: params.targetInfo.type, url: params.targetInfo.url });
      if (['page', 'service_worker', 'worker', 'shared_worker'].includes(params.targetInfo.type)) {
        await cdp.send('Network.enable', {}, session).catch(() => {});
        await onTarget(session, params.targetInfo).catch(() => {});
      }
      await cdp.send('Runtime.runIfWaitingForDebugger', {}, session).catch(() => {});
      return;
    }
    if (method === 'Target.detachedFromTarget') {
      for (const [id, s] of sessions) if (s.sessionId === params.sessionId) sessions.delete(id);
      return;
    }
    const key = `${sessionId} ${params?.requestId}`;
    if (method === 'Network.requestWillBeSent') {
      last = Date.now();
      requests.set(key, {
        url: params.request.url, method: params.request.method, who: sessionId === pageSession ? 'page' : 'worker',
        bytes: 0, at: Date.now(),
      });
    } else if (method === 'Network.responseReceived' && requests.has(key)) {
      const r = requests.get(key);
      r.viaWorker = params.response.fromServiceWorker;
      r.status = params.response.status;
      r.headerBytes = params.response.encodedDataLength ?? 0;
      r.encoding = params.response.headers['content-encoding'] ?? params.response.headers['Content-Encoding'] ?? '';
    } else if (method === 'Network.loadingFinished' && requests.has(key)) {
      last = Date.now();
      const r = requests.get(key);
      r.bytes = params.encodedDataLength;
      r.done = Date.now();
    } else if (method === 'Network.loadingFailed' && requests.has(key)) {
      last = Date.now();
      requests.get(key).failed = params.errorText;
    }
  });
  await cdp.send('Target.setAutoAttach', {
    autoAttach: true, waitForDebuggerOnStart: true, flatten: true,
    filter: [{ type: 'browser', exclude: true }, { type: 'tab', exclude: true }, {}],
  });
  const { targetId } = await cdp.send('Target.createTarget', { url: 'about:blank' });
  for (let i = 0; !sessions.has(targetId) && i < 100; i++) await sleep(50);
  pageSession = sessions.get(targetId)?.sessionId;
  if (!pageSession) throw new Error(`no page session for ${targetId}`);
  await cdp.send('Page.enable', {}, pageSession);
  await cdp.send('Runtime.enable', {}, pageSession);
  const evaluate = async (expression, timeout = 120_000) => {
    // The protocol's own timeout does not cover a call lost in a navigation: a deadline here too.
    let timer;
    const late = new Promise((_, fail) => { timer = setTimeout(() => fail(new Error(`no answer within ${timeout / 1000} s: ${expression.slice(0, 80)}`)), timeout + 1_000); });
    const { result, exceptionDetails } = await Promise.race([cdp.send('Runtime.evaluate', {
      expression, awaitPromise: true, returnByValue: true, timeout,
    }, pageSession), late]).finally(() => clearTimeout(timer));
    if (exceptionDetails) throw new Error(`${expression.slice(0, 80)}…: ${exceptionDetails.exception?.description ?? exceptionDetails.text}`);
    return result.value;
  };
  return {
    sessions,
    requests,
    pageSession,
    lastActivity: () => last,
    navigate: (url) => cdp.send('Page.navigate', { url }, pageSession),
    reload: () => cdp.send('Page.reload', {}, pageSession),
    evaluate,
  };
}

/** Waits until `check()` is truthy (polled every `every` ms), failing after `ms`. */
export async function until(what, check, ms = 60_000, every = 200) {
  const deadline = Date.now() + ms;
  let last;
  while (Date.now() < deadline) {
    try {
      last = await check();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    await sleep(every);
  }
  throw new Error(`${what}: not within ${ms / 1000} s (last: ${last})`);
}

/** `promise`, or undefined after `ms` (a command to a target that went away may never be answered). */
export const within = (ms, promise) => {
  let timer;
  return Promise.race([promise, new Promise((ok) => { timer = setTimeout(ok, ms); })]).finally(() => clearTimeout(timer));
};

/**
 * A copy of `dist` in a new folder under `parent`: what the server serves for the whole run, so
 * that a rebuild of dist/ by someone else meanwhile is not mistaken for a new release.
 */
export function snapshot(dist, parent) {
  const copy = mkdtempSync(join(parent, 'zhicha-dist-'));
  cpSync(dist, copy, { recursive: true, preserveTimestamps: true });
  return copy;
}

/** Removes a folder (best effort). */
export const remove = (path) => rmSync(path, { recursive: true, force: true, maxRetries: 5 });
