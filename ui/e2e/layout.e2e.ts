// End-to-end: every view at 1280×800 and 1920×1080 (screenshots kept under
// ui/test-results/screens, horizontal overflow fails), and the keyboard paths through the shell.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BrowserPage,
  type Server,
  checkLayout,
  checkPrerequisites,
  closeBrowser,
  openBrowser,
  startServer,
  waitFor,
} from './harness';

const VIEWS = [
  'overview',
  'processes',
  'accelerators',
  'profiling',
  'reservations',
  'queue',
  'cluster',
  'executions',
  'degradation',
  'energy',
];

let server: Server | undefined;
let bp: BrowserPage | undefined;
let page: Page;

describe('layout and keyboard', () => {
  beforeAll(async () => {
    checkPrerequisites();
    server = await startServer();
    bp = await openBrowser();
    page = bp.page;
    await page.goto(server.baseUrl);
    await waitFor('live data', async () =>
      (await page.locator('[data-testid=live-status]').textContent())?.includes('live'),
    );
  });

  afterAll(async () => {
    await closeBrowser(bp);
    await server?.stop();
  });

  for (const view of VIEWS)
    it(`${view} fits 1280×800 and 1920×1080 without horizontal overflow`, async () => {
      await page.goto(new URL(`#/${view}`, server!.baseUrl).toString());
      await waitFor(
        `${view} active`,
        async () => (await page.locator(`[data-testid=nav-${view}]`).getAttribute('aria-current')) === 'page',
      );
      await checkLayout(page, view, 800);
    });

  it('? opens the key list, Escape closes it and gives focus back', async () => {
    await page.goto(new URL('#/overview', server!.baseUrl).toString());
    const opener = page.locator('[data-testid=keyboard-help-open]');
    await opener.focus();
    await page.keyboard.press('Enter');
    const dialog = page.locator('[data-testid=keyboard-help]');
    await dialog.waitFor({ state: 'visible' });
    expect(await dialog.getAttribute('role')).toBe('dialog');
    // focus is inside the dialog and Tab keeps it there
    for (let i = 0; i < 3; i++) {
      await page.keyboard.press('Tab');
      expect(await dialog.evaluate((d) => d.contains(document.activeElement))).toBe(true);
    }
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    expect(await opener.evaluate((e) => e === document.activeElement)).toBe(true);
    // the same from anywhere with "?"
    await page.locator('body').press('?');
    await dialog.waitFor({ state: 'visible' });
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
  });

  it('Alt+digit switches views and the new view starts at its top', async () => {
    await page.setViewportSize({ width: 1280, height: 500 });
    await page.goto(new URL('#/overview', server!.baseUrl).toString());
    await page.mouse.wheel(0, 2000);
    await page.waitForTimeout(200);
    await page.locator('body').press('Alt+2');
    await waitFor(
      'processes view',
      async () => (await page.locator('[data-testid=nav-processes]').getAttribute('aria-current')) === 'page',
    );
    expect(await page.evaluate(() => window.scrollY)).toBe(0);
    await page.locator('body').press('Alt+1');
    await waitFor(
      'overview',
      async () => (await page.locator('[data-testid=nav-overview]').getAttribute('aria-current')) === 'page',
    );
    expect(bp!.pageErrors).toEqual([]);
  });
});
