// First visit: the bytes a fresh Chromium receives from the real zhicha-server when it opens the
// app for the first time — the page's own requests and the service worker's precache — as sent
// on the wire (compressed where the server compressed), headers included.
//
// Measured over the Chrome DevTools Protocol: auto-attach to every target (the page and the
// service worker), Network.enable in each, and the sum of Network.loadingFinished's
// encodedDataLength. A page request answered by the service worker is not counted (its bytes are
// the worker's own request, or came from its cache). Chromium is driven over a raw CDP socket,
// because Playwright does not expose a service worker's network session.
//
// Usage: node --experimental-websocket first-visit.mjs RESULTS.jsonl [URL]
//   with URL: measure that server; without: start ZHICHA_SERVER_BIN over a fresh data folder
//   serving ZHICHA_DIST.
//   FIRST_VISIT_IDENTITY=1  send Accept-Encoding: identity (what a server that never compresses sends)
//   DEBUG=1                 log the DevTools targets as they are attached
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { record } from './lib/stats.mjs';

const [results, given] = process.argv.slice(2);
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const IDENTITY = process.env.FIRST_VISIT_IDENTITY === '1';

const freePort = () => new Promise((ok, fail) => {
  const probe = createServer();
  probe.on('error', fail);
  probe.listen(0, '127.0.0.1', () => { const { port } = probe.address(); probe.close(() => ok(port)); });
});
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function startServer() {
  const port = await freePort();
  const data = mkdtempSync(join(tmpdir(), 'zhicha-first-visit-'));
  const child = spawn(process.env.ZHICHA_SERVER_BIN, ['serve'], {
    env: { ...process.env, ZHICHA_ADDR: `127.0.0.1:${port}`, ZHICHA_DATA: data, RUST_LOG: 'warn' },
    stdio: 'ignore',
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    if (await fetch(`${url}/healthz`).then((r) => r.ok, () => false)) {
      return { url, stop: () => { child.kill('SIGKILL'); rmSync(data, { recursive: true, force: true }); } };
    }
    await sleep(100);
  }
  child.kill('SIGKILL');
  throw new Error('zhicha-server did not start');
}

/** Headless Chromium with a fresh profile and a DevTools socket. */
async function startChromium() {
  const profile = mkdtempSync(join(tmpdir(), 'zhicha-first-visit-profile-'));
  const child = spawn(CHROMIUM, [
    '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
    '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run',
    '--remote-debugging-port=0', `--user-data-dir=${profile}`, 'about:blank',
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
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
      // Chromium's helper processes may still write into the profile for a moment after the
      // browser is gone; a leftover temp folder must not fail a measurement already taken.
      try {
        rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
      } catch (error) {
        console.warn(`could not remove ${profile}: ${error.code}`);
      }
    },
  };
}

/** A CDP connection with flattened sessions: send(method, params, sessionId). */
async function connect(endpoint) {
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

const debug = (...a) => { if (process.env.DEBUG) console.error(...a); };
const server = given ? { url: given, stop: () => {} } : await startServer();
debug('server', server.url);
const browser = await startChromium();
debug('chromium', browser.endpoint);
const cdp = await connect(browser.endpoint);
try {
  const requests = new Map(); // `${sessionId} ${requestId}` → { url, type, bytes, viaWorker }
  let lastActivity = Date.now();
  const sessions = new Map(); // targetId → sessionId
  let pageSession;
  cdp.on(async (message) => {
    const { method, params, sessionId } = message;
    if (method?.startsWith('Target.')) debug(method, JSON.stringify(params).slice(0, 200));
    if (method === 'Target.attachedToTarget') {
      const session = params.sessionId;
      sessions.set(params.targetInfo.targetId, session);
      if (['page', 'service_worker', 'worker', 'shared_worker'].includes(params.targetInfo.type)) {
        await cdp.send('Network.enable', {}, session).catch(() => {});
        if (IDENTITY) await cdp.send('Network.setExtraHTTPHeaders', { headers: { 'Accept-Encoding': 'identity' } }, session).catch((e) => debug(e));
      }
      await cdp.send('Runtime.runIfWaitingForDebugger', {}, session).catch(() => {});
      return;
    }
    const key = `${sessionId} ${params?.requestId}`;
    if (method === 'Network.requestWillBeSent') {
      lastActivity = Date.now();
      requests.set(key, { url: params.request.url, who: sessionId === pageSession ? 'page' : 'worker', bytes: 0 });
    } else if (method === 'Network.responseReceived' && requests.has(key)) {
      requests.get(key).viaWorker = params.response.fromServiceWorker;
      requests.get(key).status = params.response.status;
      requests.get(key).encoding = params.response.headers['content-encoding'] ?? params.response.headers['Content-Encoding'] ?? '';
      requests.get(key).headerBytes = params.response.encodedDataLength ?? 0;
    } else if (method === 'Network.loadingFinished' && requests.has(key)) {
      lastActivity = Date.now();
      requests.get(key).bytes = params.encodedDataLength;
      requests.get(key).done = true;
    }
  });
  // Every target, service workers included, is attached as it appears and paused until its
  // network events are on.
  await cdp.send('Target.setAutoAttach', {
    autoAttach: true, waitForDebuggerOnStart: true, flatten: true,
    filter: [{ type: 'browser', exclude: true }, { type: 'tab', exclude: true }, {}],
  });
  const { targetId } = await cdp.send('Target.createTarget', { url: 'about:blank' });
  for (let i = 0; !sessions.has(targetId) && i < 100; i++) await sleep(50);
  pageSession = sessions.get(targetId);
  if (!pageSession) throw new Error(`no page session for ${targetId}`);
  await cdp.send('Page.enable', {}, pageSession);
  await cdp.send('Page.navigate', { url: `${server.url}/` }, pageSession);
  // The first visit is over when the service worker is active (its precache complete) and the
  // network has been quiet for two seconds.
  await cdp.send('Runtime.evaluate', {
    expression: 'navigator.serviceWorker.ready.then(() => true)', awaitPromise: true, timeout: 120_000,
  }, pageSession);
  while (Date.now() - lastActivity < 2_000) await sleep(200);

  const counted = [...requests.values()].filter((r) => r.done && !r.viaWorker && !r.url.startsWith('data:'));
  const total = counted.reduce((sum, r) => sum + r.bytes, 0);
  const path = (u) => { try { return new URL(u).pathname; } catch { return u; } };
  const lines = counted
    .sort((a, b) => b.bytes - a.bytes)
    .map((r) => `${r.who} ${path(r.url)}${r.encoding ? ` ${r.encoding}` : ''} ${(r.bytes / 1024).toFixed(1)}`);
  // A body crossed the network when more bytes arrived than the headers (a 304 or a response
  // from the HTTP cache has none).
  const paths = counted.filter((r) => r.bytes > (r.headerBytes ?? 0)).map((r) => path(r.url)).filter((p) => !p.startsWith('/api/'));
  const twice = [...new Set(paths.filter((p, i) => paths.indexOf(p) !== i))];
  for (const line of lines) console.error(`    ${line}`);
  record(results, {
    id: IDENTITY ? 'first-visit/zhicha-identity' : 'first-visit/zhicha',
    value: Math.round(total / 1024),
    unit: 'KB',
    note: `bytes a fresh headless Chromium received (CDP encodedDataLength, headers included) from zhicha-server ` +
      `for the first visit: ${counted.length} responses to the page and the service worker` +
      `${twice.length ? `; body downloaded more than once: ${twice.join(', ')}` : '; no file downloaded twice'}. ` +
      `Largest: ${lines.slice(0, 4).join('; ')} KB`,
  });
} finally {
  cdp.close();
  await browser.stop();
  server.stop();
}
