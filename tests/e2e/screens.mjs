// Helpers that act on the inspector's screens as a person would: a phone with a position fix,
// camera photos, a finger signing, fields typed and left.

/** A phone at the mine gate: 390×844, zh-CN, location permitted with a 12 m fix. */
export async function phoneAtTheMine(browser) {
  const context = await browser.newContext({
    viewport: { width: 390, height: 844 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai',
    geolocation: { latitude: 40.291, longitude: 110.352, accuracy: 12 }, permissions: ['geolocation'],
  });
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') page.errors.push(m.text()); });
  return { context, page };
}

/** JPEG photos made in the page (a camera's output), as files for the file input. */
export async function cameraPhotos(page, count) {
  const encoded = await page.evaluate(async (count) => {
    const out = [];
    for (let i = 0; i < count; i++) {
      const canvas = new OffscreenCanvas(2000, 1500);
      const ctx = canvas.getContext('2d');
      for (let j = 0; j < 80; j++) {
        ctx.fillStyle = `hsl(${(i * 97 + j * 29) % 360}, 55%, ${25 + (j % 50)}%)`;
        ctx.fillRect((j * 113) % 2000, (j * 61) % 1500, 300, 200);
      }
      const bytes = new Uint8Array(await (await canvas.convertToBlob({ type: 'image/jpeg', quality: 0.9 })).arrayBuffer());
      let binary = '';
      for (const b of bytes) binary += String.fromCharCode(b);
      out.push(btoa(binary));
    }
    return out;
  }, count);
  return encoded.map((b64, i) => ({ name: `现场照片${i + 1}.jpg`, mimeType: 'image/jpeg', buffer: Buffer.from(b64, 'base64') }));
}

/** Draws a short stroke on a signature pad, as a finger would. */
export async function sign(page, pad) {
  await pad.scrollIntoViewIfNeeded();
  const box = await pad.boundingBox();
  await page.mouse.move(box.x + 30, box.y + box.height * 0.6);
  await page.mouse.down();
  for (let i = 1; i <= 12; i++) {
    await page.mouse.move(box.x + 30 + i * 20, box.y + box.height * (0.6 - 0.3 * Math.sin(i / 2)));
  }
  await page.mouse.up();
}

/** Types into a field and leaves it, which is when the app saves it. */
export async function enter(locator, value) {
  await locator.fill(value);
  await locator.dispatchEvent('change');
}

export const dateIn = (days) => {
  const d = new Date(Date.now() + days * 86_400_000 + 8 * 3_600_000);
  return d.toISOString().slice(0, 10);
};


/**
 * The entry of a 四不两直 visit when no code can be scanned at the gate: the reason chosen and
 * the approval's 审批人 typed (its date defaults to today).
 */
export async function enterWithoutScan(page, approver = '赵志刚') {
  await page.getByTestId('no-scan-reason').selectOption({ index: 1 });
  await enter(page.getByTestId('approval-by'), approver);
}
