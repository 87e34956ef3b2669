// Each view at the two sizes people use (a 1280×800 laptop, a 1920×1080 monitor): the main
// content must not overflow sideways, and a screenshot is kept as an artifact
// (E2E_ARTIFACTS, default ui/e2e-artifacts/).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';

export const SIZES = [
  { width: 1280, height: 800 },
  { width: 1920, height: 1080 },
] as const;

const artifacts = () => process.env.E2E_ARTIFACTS ?? join(process.cwd(), 'e2e-artifacts');

/** How far `<main>` overflows sideways, in px (0 when it fits). */
export async function horizontalOverflow(page: Page): Promise<number> {
  return page.evaluate(() => {
    const main = document.querySelector('main');
    return main ? Math.max(0, main.scrollWidth - main.clientWidth) : Number.NaN;
  });
}

/** Resizes to each size, lets the view settle, saves `<name>-<w>x<h>.png` and returns the
 * overflow found at each size (callers assert on it, so a failure names the size). */
export async function checkLayout(
  page: Page,
  name: string,
  settle: (page: Page) => Promise<void> = async () => {},
): Promise<Record<string, number>> {
  mkdirSync(artifacts(), { recursive: true });
  const out: Record<string, number> = {};
  for (const s of SIZES) {
    await page.setViewportSize(s);
    await page.waitForTimeout(300);
    await settle(page);
    const key = `${s.width}x${s.height}`;
    out[key] = await horizontalOverflow(page);
    await page.screenshot({ path: join(artifacts(), `${name}-${key}.png`) });
  }
  return out;
}
