// A TCP proxy that counts every byte between the browser and the server, each way, as sent
// (HTTP/1.1 over plain TCP: request and status lines, headers and bodies), and splits the streams
// into HTTP messages so each request can be listed with its header and body bytes.
//
// The browser talks only to the proxy's port (the app's origin); `target` is the server's port and
// can be changed (a new server) or set to null (the server is down: connections are refused).
import { createServer, connect } from 'node:net';

/**
 * Parses a stream of HTTP/1.1 messages of one direction. `onMessage({ startLine, headerBytes,
 * bodyBytes })` is called for each complete message. `bodiless()` tells whether the next response
 * has no body whatever its headers say (the answer to a HEAD request, 1xx, 204, 304).
 */
function messageParser(onMessage, bodiless = () => false) {
  let buffer = Buffer.alloc(0);
  let state = 'head';
  let current = null;
  let remaining = 0;
  let chunked = false;
  const finish = () => {
    onMessage(current);
    current = null;
    state = 'head';
  };
  return (chunk) => {
    buffer = buffer.length ? Buffer.concat([buffer, chunk]) : chunk;
    for (;;) {
      if (state === 'head') {
        const end = buffer.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buffer.subarray(0, end).toString('latin1');
        buffer = buffer.subarray(end + 4);
        const [startLine, ...lines] = head.split('\r\n');
        const headers = Object.fromEntries(lines.map((l) => {
          const i = l.indexOf(':');
          return [l.slice(0, i).trim().toLowerCase(), l.slice(i + 1).trim()];
        }));
        current = { startLine, headers, headerBytes: end + 4, bodyBytes: 0 };
        const status = /^HTTP\/1\.\d (\d{3})/.exec(startLine)?.[1];
        const noBody = status && (bodiless() || status.startsWith('1') || status === '204' || status === '304');
        chunked = /chunked/i.test(headers['transfer-encoding'] ?? '');
        remaining = Number(headers['content-length'] ?? 0);
        if (noBody || (!chunked && remaining === 0)) { finish(); continue; }
        state = chunked ? 'chunk-size' : 'body';
      } else if (state === 'body') {
        const take = Math.min(remaining, buffer.length);
        current.bodyBytes += take;
        remaining -= take;
        buffer = buffer.subarray(take);
        if (remaining === 0) { finish(); continue; }
        return;
      } else if (state === 'chunk-size') {
        const end = buffer.indexOf('\r\n');
        if (end < 0) return;
        const size = parseInt(buffer.subarray(0, end).toString('latin1'), 16);
        current.bodyBytes += end + 2;
        buffer = buffer.subarray(end + 2);
        if (size === 0) { state = 'trailer'; continue; }
        remaining = size + 2; // data and its CRLF
        state = 'chunk-data';
      } else if (state === 'chunk-data') {
        const take = Math.min(remaining, buffer.length);
        current.bodyBytes += take;
        remaining -= take;
        buffer = buffer.subarray(take);
        if (remaining === 0) { state = 'chunk-size'; continue; }
        return;
      } else if (state === 'trailer') {
        const end = buffer.indexOf('\r\n');
        if (end < 0) return;
        current.bodyBytes += end + 2;
        buffer = buffer.subarray(end + 2);
        if (end === 0) { finish(); continue; }
      }
    }
  };
}

/**
 * Starts the proxy on 127.0.0.1 (a free port, or `port`). Returns { port, url, setTarget(port|null),
 * up, down, exchanges, reset(), close() }: `up`/`down` are the bytes browser→server and
 * server→browser since the last `reset()`; `exchanges` lists each request with its answer:
 * { method, path, status, upHeader, upBody, downHeader, downBody, at }.
 */
export async function startMeter({ port = 0, target = null } = {}) {
  const meter = { up: 0, down: 0, exchanges: [], target, sockets: new Set() };
  const server = createServer((client) => {
    meter.sockets.add(client);
    client.on('close', () => meter.sockets.delete(client));
    if (meter.target === null) { client.destroy(); return; }
    const upstream = connect(meter.target, '127.0.0.1');
    meter.sockets.add(upstream);
    upstream.on('close', () => meter.sockets.delete(upstream));
    const pending = []; // exchanges of this connection awaiting their answer, in order
    const requests = messageParser((m) => {
      const [method, path] = m.startLine.split(' ');
      const exchange = { method, path, upHeader: m.headerBytes, upBody: m.bodyBytes, at: Date.now() };
      pending.push(exchange);
      meter.exchanges.push(exchange);
    });
    const responses = messageParser((m) => {
      const exchange = pending.shift() ?? { method: '?', path: '?', upHeader: 0, upBody: 0 };
      exchange.status = Number(m.startLine.split(' ')[1]);
      exchange.downHeader = m.headerBytes;
      exchange.downBody = m.bodyBytes;
      exchange.done = Date.now();
    }, () => pending[0]?.method === 'HEAD');
    client.on('data', (chunk) => { meter.up += chunk.length; requests(chunk); });
    upstream.on('data', (chunk) => { meter.down += chunk.length; responses(chunk); });
    client.pipe(upstream);
    upstream.pipe(client);
    const end = () => { client.destroy(); upstream.destroy(); };
    client.on('error', end);
    upstream.on('error', end);
    client.on('close', end);
    upstream.on('close', end);
  });
  await new Promise((ok, fail) => { server.once('error', fail); server.listen(port, '127.0.0.1', ok); });
  meter.port = server.address().port;
  meter.url = `http://127.0.0.1:${meter.port}`;
  /** Points new connections at `port` (null: refuse); open connections are cut. */
  meter.setTarget = (port) => {
    meter.target = port;
    for (const s of meter.sockets) s.destroy();
  };
  meter.reset = () => { meter.up = 0; meter.down = 0; meter.exchanges = []; };
  meter.close = () => new Promise((ok) => {
    for (const s of meter.sockets) s.destroy();
    server.close(ok);
  });
  return meter;
}

/** The route of a request path, with ids and hashes replaced, for grouping. */
export function route(path) {
  return (path ?? '?').split('?')[0]
    .replace(/[0-9a-f]{64}/g, ':hash')
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, ':id');
}
