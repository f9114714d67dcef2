// The app over HTTPS from the server itself, as a bureau deploys it: a certificate authority made
// here, a server certificate it signs for a real host name (not localhost), and a Chromium profile
// that trusts that authority the way a managed phone would (its NSS database) — no
// --ignore-certificate-errors. Over plain HTTP the same host name gets the app's warning instead.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Server, hostResolverArgs, launchProfile, waitForServiceWorker, waitForText } from './harness.mjs';
import { loginInApp } from './device.mjs';
import { cameraPhotos, enter, enterWithoutScan } from './screens.mjs';

const HOST = 'zhicha.test';
let pki;

/** A test CA, a certificate for HOST signed by it, and a $HOME whose NSS database trusts the CA. */
function makePki() {
  const dir = mkdtempSync(join(tmpdir(), 'zhicha-pki-'));
  const openssl = (...args) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  openssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2',
    '-subj', '/CN=zhicha e2e test CA', '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  openssl('req', ...ec, '-keyout', 'key.pem', '-out', 'server.csr', '-subj', `/CN=${HOST}`);
  writeFileSync(join(dir, 'server.ext'), [
    `subjectAltName=DNS:${HOST}`, 'basicConstraints=CA:FALSE', 'keyUsage=critical,digitalSignature',
    'extendedKeyUsage=serverAuth', '',
  ].join('\n'));
  openssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial',
    '-out', 'cert.pem', '-days', '2', '-extfile', 'server.ext');

  const home = join(dir, 'home');
  const nssdb = join(home, '.pki', 'nssdb');
  mkdirSync(nssdb, { recursive: true });
  execFileSync('certutil', ['-d', `sql:${nssdb}`, '-N', '--empty-password'], { stdio: 'pipe' });
  execFileSync('certutil', ['-d', `sql:${nssdb}`, '-A', '-t', 'C,,', '-n', 'zhicha e2e test CA', '-i', join(dir, 'ca.pem')], { stdio: 'pipe' });
  return {
    dir, home,
    tls: { cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem'), ca: readFileSync(join(dir, 'ca.pem'), 'utf8'), host: HOST },
  };
}

before(() => { pki = makePki(); });
after(() => { if (pki) rmSync(pki.dir, { recursive: true, force: true }); });

/** Rows of the app's photo store taken on this phone: hash, size and capture metadata (the blobs stay in the page). */
const storedPhotos = (page) => page.evaluate(async () => {
  const db = await new Promise((ok, fail) => {
    const open = indexedDB.open('zhicha');
    open.onsuccess = () => ok(open.result);
    open.onerror = () => fail(open.error);
  });
  const rows = await new Promise((ok, fail) => {
    const all = db.transaction('photos').objectStore('photos').getAll();
    all.onsuccess = () => ok(all.result);
    all.onerror = () => fail(all.error);
  });
  db.close();
  // Colleagues' before-photos a sync downloads for re-inspections are not this phone's photos.
  return rows.filter((r) => !r.cached).map((r) => ({ hash: r.hash, bytes: r.blob?.size ?? 0, meta: r.meta }));
});

test('over HTTPS with a trusted bureau certificate the app installs, works offline and hashes photos', async () => {
  const server = await Server.start(['--demo'], {}, pki.tls);
  const context = await launchProfile({
    home: pki.home,
    args: hostResolverArgs(HOST),
    options: {
      timezoneId: 'Asia/Shanghai', permissions: ['geolocation'],
      geolocation: { latitude: 40.291, longitude: 110.352, accuracy: 12 },
    },
  });
  try {
    const page = context.pages()[0] ?? await context.newPage();
    page.errors = [];
    page.on('pageerror', (e) => page.errors.push(String(e)));
    const first = await page.goto(server.url + '/');
    assert.equal(first.status(), 200);
    assert.match(first.headers()['strict-transport-security'] ?? '', /max-age=\d+/);
    assert.equal(await page.evaluate(() => window.isSecureContext), true);
    assert.equal(await page.locator('.banner--insecure').count(), 0);

    await loginInApp(page, server.url, 'inspector1', waitForText);
    await waitForServiceWorker(page);
    const cdp = await context.newCDPSession(page);
    const { installabilityErrors } = await cdp.send('Page.getInstallabilityErrors');
    assert.deepEqual(installabilityErrors, []);
    assert.equal(await page.evaluate(() => typeof crypto.subtle?.digest), 'function');

    // Offline: the server is gone; the app starts from its service worker and records a finding
    // with photos, each hashed (SHA-256) on the phone.
    await server.stop();
    await page.goto(server.url + '/');
    await page.getByTestId('new-inspection').click();
    await page.getByTestId('enterprise-search').fill('瑞丰');
    await page.getByTestId('enterprise-option').filter({ hasText: '达拉特旗瑞丰煤炭有限责任公司' }).click();
    await waitForText(page, '签到并开始检查');
    await page.getByTestId('co-inspectors').getByText('李海燕').click();
    await waitForText(page, '精度约 ±12 米');
    await enterWithoutScan(page);
    await page.getByTestId('start').click();
    await waitForText(page, '已检查 0 /');
    await page.locator('[data-testid=item]').first().getByTestId('answer-bad').click();
    await waitForText(page, '记录隐患');
    await enter(page.getByTestId('finding-description'), '安全出口堵塞');
    await page.getByTestId('finding-photo-input').setInputFiles(await cameraPhotos(page, 1));
    await page.locator('.photos__img').first().waitFor();
    const photos = await storedPhotos(page);
    assert.equal(photos.length, 1);
    assert.match(photos[0].hash, /^[0-9a-f]{64}$/);
    assert.ok(photos[0].bytes > 0);
    // Where and when the evidence was taken, with the fix's accuracy, offline.
    const { location, captured_at: capturedAt, no_fix: noFix } = photos[0].meta;
    assert.ok(Math.abs(location.lat - 40.291) < 1e-6 && Math.abs(location.lon - 110.352) < 1e-6, JSON.stringify(location));
    assert.equal(location.accuracy_m, 12);
    assert.equal(noFix ?? null, null);
    assert.ok(Math.abs(Date.parse(capturedAt) - Date.now()) < 5 * 60_000, capturedAt);
    assert.deepEqual(page.errors, []);
  } finally {
    await context.dispose();
    await server.dispose();
  }
});

test('over plain HTTP on a bureau address the app says in Chinese that HTTPS is missing', async () => {
  const server = await Server.start();
  const context = await launchProfile({ args: hostResolverArgs(HOST) });
  try {
    const page = context.pages()[0] ?? await context.newPage();
    await page.goto(`http://${HOST}:${server.port}/`);
    await waitForText(page, '连接不安全：直查无法离线使用');
    await waitForText(page, '为直查服务器配置 HTTPS 证书');
    assert.equal(await page.evaluate(() => window.isSecureContext), false);
    assert.equal(await page.evaluate(() => 'serviceWorker' in navigator), false);
  } finally {
    await context.dispose();
    await server.dispose();
  }
});
