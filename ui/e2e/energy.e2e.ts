// End-to-end: the Energy view against a real `stewardctl serve` sampling the fake NVML's GPUs:
// watts shown with their provenance, the stacked chart drawn, no invented zeros.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BrowserPage,
  type Server,
  checkPrerequisites,
  closeBrowser,
  fakeNvmlEnv,
  openBrowser,
  startServer,
  waitFor,
} from './harness';

let server: Server | undefined;
let bp: BrowserPage | undefined;
let page: Page;

describe('energy view against the real backend', () => {
  beforeAll(async () => {
    checkPrerequisites();
    server = await startServer(fakeNvmlEnv(2));
    bp = await openBrowser();
    page = bp.page;
    await page.goto(new URL('#/energy', server.baseUrl).toString());
  });

  afterAll(async () => {
    await closeBrowser(bp, 'E2E_ENERGY_SCREENSHOT');
    await server?.stop();
  });

  it('shows GPU watts measured by NVML, stacked in the chart', async () => {
    const row = page.locator('[data-testid="energy-source"][data-source="gpu.1"]');
    await waitFor('the GPU row', async () => (await row.count()) > 0);
    expect(await row.locator('[data-testid="energy-watts"]').innerText()).toBe('150.5 W');
    expect(await row.locator('[data-testid="energy-provenance"]').innerText()).toBe('measured (NVML)');
    expect(await row.locator('[data-testid="energy-provenance"]').getAttribute('title')).toBe('Measured by NVML');
    // The total is measured only if every counted source is; else it says modelled (or why not).
    const total = await page
      .locator('[data-testid="energy-node"][data-node="local"] [data-testid="energy-total"]')
      .innerText();
    expect(total).toMatch(/^(\d+\.\d W|[\d.]+ kW|unavailable: .+)$/);
    expect(total).not.toBe('0.0 W');
    await waitFor(
      'the stacked power chart',
      async () => (await page.locator('[data-testid="energy-chart"]').count()) > 0,
    );
    expect(await page.locator('[data-testid="power-planner-slot"]').count()).toBe(1);
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.locator('[data-testid="energy-report"]').click(),
    ]);
    expect(download.suggestedFilename()).toBe('steward-energy-report.svg');
    const { readFileSync } = await import('node:fs');
    expect(readFileSync((await download.path())!, 'utf8')).toMatch(/^<svg/);
    expect(bp!.pageErrors).toEqual([]);
  });
});
