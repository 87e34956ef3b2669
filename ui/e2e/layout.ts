// Sideways overflow of `<main>` measured at the sizes `checkLayout` uses (harness.ts), for tests
// that assert on the figure per size themselves; screenshots go where `checkLayout` puts them.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { LAYOUT_SIZES, screensDir } from './harness';

/** How far `<main>` overflows sideways, in px (0 when it fits). */
export async function horizontalOverflow(page: Page): Promise<number> {
  return page.evaluate(() => {
    const main = document.querySelector('main');
    return main ? Math.max(0, main.scrollWidth - main.clientWidth) : Number.NaN;
  });
}

/** Resizes to each size, lets the view settle, saves `<name>-<w>x<h>.png` and returns the
 * overflow found at each size (callers assert on it, so a failure names the size). */
export async function overflowAtSizes(
  page: Page,
  name: string,
  settle: (page: Page) => Promise<void> = async () => {},
): Promise<Record<string, number>> {
  mkdirSync(screensDir, { recursive: true });
  const out: Record<string, number> = {};
  for (const s of LAYOUT_SIZES) {
    await page.setViewportSize(s);
    await page.waitForTimeout(300);
    await settle(page);
    const key = `${s.width}x${s.height}`;
    out[key] = await horizontalOverflow(page);
    await page.screenshot({ path: join(screensDir, `${name}-${key}.png`) });
  }
  return out;
}
