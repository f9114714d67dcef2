// Small helpers shared by the benchmark drivers.

export const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/** Appends one measured figure to the results file as a JSON line. */
import { appendFileSync } from 'node:fs';
export function record(file, figure) {
  appendFileSync(file, `${JSON.stringify(figure)}\n`);
  console.error(`  ${figure.id}: ${figure.value} ${figure.unit}${figure.note ? ` (${figure.note})` : ''}`);
}

/** A Chromium launched the way the project's tests launch it (Debian's, headless). */
export async function launchChromium() {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}
