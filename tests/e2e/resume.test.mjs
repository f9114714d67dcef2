// A photo upload cut mid-way resumes where it stopped: the app talks to the real server through
// a small TCP proxy that counts the bytes going up and cuts every connection once ~1 MB of a
// ~2 MB photo has gone through. The app's next round finishes the upload from the server's
// offset, so the bytes that reach the server stay below the photo's size plus two parts.
import assert from 'node:assert/strict';
import { connect, createServer } from 'node:net';
import { after, before, test } from 'node:test';
import { ApiClient, installedPage, readStore } from './device.mjs';
import { Server, launchBrowser, until } from './harness.mjs';

const PART = 256 * 1024; // PHOTO_PART_BYTES
const CUT_AFTER = 1024 * 1024;
const DOWN_MS = 3000;

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

/**
 * A TCP proxy to `port` that counts the bytes sent up, and can cut every connection at once;
 * after a cut the link stays down for `DOWN_MS` (new connections are dropped), as a phone's
 * does, so the app's request fails rather than being retried at once by the browser.
 */
async function startProxy(port) {
  const sockets = new Set();
  const proxy = {
    up: 0,
    cuts: 0,
    /** When set, every connection is cut once `up` reaches it (then it is cleared). */
    cutAt: null,
    downUntil: 0,
    cutAll() {
      proxy.cuts += 1;
      for (const socket of sockets) socket.destroy();
      sockets.clear();
    },
  };
  const server = createServer((client) => {
    if (Date.now() < proxy.downUntil) {
      client.destroy();
      return;
    }
    const upstream = connect(port, '127.0.0.1');
    sockets.add(client);
    sockets.add(upstream);
    const gone = () => { client.destroy(); upstream.destroy(); sockets.delete(client); sockets.delete(upstream); };
    client.on('error', gone);
    upstream.on('error', gone);
    client.on('close', gone);
    upstream.on('close', gone);
    upstream.on('data', (chunk) => client.write(chunk));
    client.on('data', (chunk) => {
      if (proxy.cutAt !== null && proxy.up + chunk.length >= proxy.cutAt) {
        // Let through what fits below the mark, then cut: the rest never arrives.
        const fits = Math.max(0, proxy.cutAt - proxy.up);
        proxy.up += fits;
        proxy.cutAt = null;
        upstream.write(chunk.subarray(0, fits), () => setTimeout(() => {
          proxy.downUntil = Date.now() + DOWN_MS;
          proxy.cutAll();
        }, 50));
        client.pause();
        return;
      }
      proxy.up += chunk.length;
      upstream.write(chunk);
    });
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  proxy.url = `http://127.0.0.1:${server.address().port}`;
  proxy.close = () => new Promise((ok) => {
    for (const socket of sockets) socket.destroy();
    server.close(ok);
  });
  return proxy;
}

/** Puts a ~2 MB JPEG (noise compresses badly) among the device's photos waiting to go up. */
async function addBigPhoto(page) {
  return page.evaluate(async () => {
    const canvas = new OffscreenCanvas(1800, 1350);
    const ctx = canvas.getContext('2d');
    const image = ctx.createImageData(canvas.width, canvas.height);
    for (let i = 0; i < image.data.length; i += 1) image.data[i] = (i % 4 === 3) ? 255 : Math.floor(Math.random() * 256);
    ctx.putImageData(image, 0, 0);
    const blob = await canvas.convertToBlob({ type: 'image/jpeg', quality: 0.92 });
    const digest = await crypto.subtle.digest('SHA-256', await blob.arrayBuffer());
    const hash = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
    const owner = crypto.randomUUID();
    const meta = {
      hash, owner: { type: 'finding', id: owner }, role: 'evidence', bytes: blob.size,
      width: canvas.width, height: canvas.height, mime: 'image/jpeg', captured_at: new Date().toISOString(),
    };
    const db = await new Promise((ok, fail) => { const r = indexedDB.open('zhicha'); r.onsuccess = () => ok(r.result); r.onerror = () => fail(r.error); });
    await new Promise((ok, fail) => {
      const tx = db.transaction('photos', 'readwrite');
      tx.objectStore('photos').put({ hash, owner_id: owner, meta, pending: 1, blob });
      tx.oncomplete = ok;
      tx.onerror = () => fail(tx.error);
    });
    db.close();
    return { hash, size: blob.size };
  });
}

test('a photo upload cut at half resumes from the bytes the server kept', async (t) => {
  const server = await Server.start(['--demo']);
  const proxy = await startProxy(server.port);
  try {
    const { context, page } = await installedPage(browser, proxy, 'inspector1');
    // Whatever the first rounds send is done before the photo comes.
    await until('an idle app', async () => (await readStore(page, 'outbox')).length === 0, 30_000);
    await new Promise((r) => setTimeout(r, 1000));

    const photo = await addBigPhoto(page);
    assert.ok(photo.size > 1.5 * 1024 * 1024 && photo.size < 8 * 1024 * 1024, `photo of ${photo.size} bytes`);
    const before = proxy.up;
    proxy.cutAt = before + CUT_AFTER;
    await page.locator('.sync button').click();
    await until('the cut', async () => proxy.cuts > 0, 60_000);

    // The same user on another device, straight to the server: it sees the user's upload.
    const sameUser = await ApiClient.login(server.url, 'inspector1');
    const head = () => fetch(`${server.url}/api/v1/photos/${photo.hash}`, {
      method: 'HEAD', headers: { authorization: `Bearer ${sameUser.token}` },
    });
    // The link is down: the server holds what came before the cut (all but what was still in
    // flight), as this user's unfinished upload.
    const cutHead = await head();
    const kept = Number(cutHead.headers.get('upload-offset'));
    t.diagnostic(`after the cut: HEAD ${cutHead.status}, Upload-Offset ${kept}`);
    assert.equal(cutHead.status, 404);
    assert.ok(kept > CUT_AFTER - 64 * 1024 && kept <= CUT_AFTER, `the server kept ${kept} bytes of ${CUT_AFTER} sent`);

    // The next round (by itself, or 立即同步) finishes it.
    await until('the photo held by the server', async () => {
      if ((await head()).status === 200) return true;
      await page.locator('.sync button').click().catch(() => {});
      return false;
    }, 90_000);
    await until('the photo marked uploaded on the device', async () =>
      (await readStore(page, 'photos')).find((p) => p.hash === photo.hash && !p.pending), 30_000);

    const sent = proxy.up - before;
    t.diagnostic(`photo ${photo.size} bytes; ${sent} bytes went up in all; ${proxy.cuts} cut`);
    assert.ok(sent < photo.size + 2 * PART, `${sent} bytes went up for a photo of ${photo.size}`);
    assert.ok(sent >= photo.size, `${sent} bytes went up for a photo of ${photo.size}`);
    await context.close();
  } finally {
    await proxy.close();
    await server.dispose();
  }
});
