// A QR code as a camera would see it: the code's modules drawn black on white into one frame of
// a Y4M video, the format Chromium's fake camera plays (`--use-file-for-fake-video-capture`).

import { writeFile } from 'node:fs/promises';
import QRCode from 'qrcode';

/**
 * Writes `path`: a 640×480 Y4M (4:2:0) whose frames show `text` as a QR code, 8 px a module
 * with the standard 4-module quiet zone, centred.
 */
export async function qrVideo(path, text, { width = 640, height = 480, frames = 2 } = {}) {
  const qr = QRCode.create(text, { errorCorrectionLevel: 'M' });
  const size = qr.modules.size;
  const scale = Math.floor(Math.min(width, height) / (size + 8));
  const side = size * scale;
  const left = Math.floor((width - side) / 2);
  const top = Math.floor((height - side) / 2);
  const luma = Buffer.alloc(width * height, 235);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      if (!qr.modules.get(y, x)) continue;
      for (let dy = 0; dy < scale; dy++) {
        luma.fill(16, (top + y * scale + dy) * width + left + x * scale, (top + y * scale + dy) * width + left + (x + 1) * scale);
      }
    }
  }
  const chroma = Buffer.alloc((width / 2) * (height / 2) * 2, 128);
  const header = Buffer.from(`YUV4MPEG2 W${width} H${height} F10:1 Ip A1:1 C420jpeg\n`);
  const parts = [header];
  for (let f = 0; f < frames; f++) parts.push(Buffer.from('FRAME\n'), luma, chroma);
  await writeFile(path, Buffer.concat(parts));
}
