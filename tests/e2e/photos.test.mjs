// Photo space with the real server: a colleague's before-photo is downloaded at sync and shown at
// the 复查 with the server stopped; the full image of a confirmed photo is removed by
// 清理已上传的原图 (a photo the server has not confirmed never is), its thumbnail stays, and the
// full image is fetched from the server again when the photo is opened — offline, the phone
// says where it is.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ApiClient, loginInApp, recordMajorFinding, recordOffline } from './device.mjs';
import { Server, launchBrowser, phonePage, until, waitForServiceWorker, waitForText } from './harness.mjs';

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

/** What the phone holds of each photo: its full image, its thumbnail, and its marks. */
const photoRows = (page) => page.evaluate(async () => {
  const db = await new Promise((ok) => { const r = indexedDB.open('zhicha'); r.onsuccess = () => ok(r.result); });
  const all = await new Promise((ok) => { const r = db.transaction('photos').objectStore('photos').getAll(); r.onsuccess = () => ok(r.result); });
  db.close();
  return all.map((r) => ({
    hash: r.hash, full: r.blob instanceof Blob, thumb: r.thumb instanceof Blob,
    pending: r.pending ?? null, cached: r.cached ?? null,
  }));
});

const rowOf = async (page, hash) => (await photoRows(page)).find((r) => r.hash === hash);

async function pruneOnStoragePage(page, url) {
  await page.goto(url + '/storage');
  await page.getByTestId('prune-photos').click();
  await page.waitForFunction(() => /已清理|没有可清理/.test(document.body.innerText), null, { timeout: 20_000, polling: 100 });
}

test("a colleague's before-photo is at the 复查 offline; a confirmed photo's original is pruned to a thumbnail and fetched again on demand", async () => {
  const server = await Server.start(['--demo']);
  const colleague = await phonePage(browser);
  const phone = await phonePage(browser);
  try {
    const leader = await ApiClient.login(server.url, 'leader1');

    // inspector2 records a 重大 finding with a photo; it reaches the server and is confirmed.
    await loginInApp(colleague.page, server.url, 'inspector2', waitForText);
    await waitForServiceWorker(colleague.page);
    const description = `井口栅栏缺失 ${Date.now()}`;
    const ids = await recordMajorFinding(colleague.page, description);
    await colleague.page.reload();
    await until('the finding submitted on the server', async () =>
      (await leader.everything()).get(`finding/${ids.finding}`)?.data.status === 'submitted', 60_000);
    await until('the evidence photo on the server', async () =>
      (await fetch(`${server.url}/api/v1/photos/${ids.photo}`, { method: 'HEAD', headers: { authorization: `Bearer ${leader.token}` } })).ok, 60_000);
    const ack = await leader.push('finding.confirm', ids.finding, { comment: '限期整改' });
    assert.equal(ack.status, 'applied');

    // inspector1's phone syncs once: the finding and its before-photo, as a cached copy.
    const { page } = phone;
    await loginInApp(page, server.url, 'inspector1', waitForText);
    await waitForServiceWorker(page);
    await page.locator('.sync button').click();
    const cached = await until('the before-photo cached on the phone', async () => rowOf(page, ids.photo), 60_000);
    assert.equal(cached.full, true);
    assert.equal(cached.cached, 1, 'marked as from the server');
    assert.equal(cached.pending, null, 'never queued for upload');

    // At the gate, the server stopped: the 复查 screen shows the photo from the phone.
    await server.stop();
    await page.goto(`${server.url}/findings/${ids.finding}/reinspect`);
    await waitForText(page, description, 30_000);
    await page.locator('.page--reinspect img.photo__img').first().waitFor({ timeout: 20_000 });
    assert.ok(!(await page.locator('body').innerText()).includes('照片未同步'));

    // A photo the server has not confirmed is never pruned.
    const own = await recordOffline(page, { findings: 1, photos: 1 });
    assert.ok(own.findings.length === 1);
    await pruneOnStoragePage(page, server.url);
    const unconfirmed = (await photoRows(page)).filter((r) => r.pending === 1);
    assert.ok(unconfirmed.length >= 1);
    assert.ok(unconfirmed.every((r) => r.full), 'unconfirmed photos keep their full image');

    // The confirmed one lost its full image and kept a thumbnail.
    const pruned = await rowOf(page, ids.photo);
    assert.equal(pruned.full, false);
    assert.equal(pruned.thumb, true);

    // Offline, opening it says where the original is. (The browser's HTTP cache may still hold
    // the download of an hour ago; it is evictable and not counted here, so it is emptied.)
    const cdp = await phone.context.newCDPSession(page);
    await cdp.send('Network.clearBrowserCache');
    await page.goto(`${server.url}/findings/${ids.finding}/reinspect`);
    await page.getByTestId('photo-thumbnail').first().click();
    await waitForText(page, '原图已清理，联网后可查看');
    assert.equal(await page.getByTestId('photo-full').count(), 0);

    // Back in signal, opening it fetches the full image from the server and keeps it again.
    await server.start();
    await page.goto(`${server.url}/findings/${ids.finding}/reinspect`);
    await page.getByTestId('photo-thumbnail').first().click();
    await page.getByTestId('photo-full').first().waitFor({ timeout: 30_000 });
    await until('the full image kept again', async () => (await rowOf(page, ids.photo))?.full, 20_000);
    assert.deepEqual(page.errors.filter((e) => !e.includes('Failed to load resource')), []);
  } finally {
    await colleague.context.close();
    await phone.context.close();
    await server.dispose();
  }
});
