// The power planner in the Energy view against a real `stewardctl serve` whose machine has two
// fake NVIDIA GPUs with a power model (the Zeus V100 ResNet-50 curve): plan at 15 %, apply —
// the GPUs' limits change and the journal shows both changes — then roll the plan back.
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

/** Limit W, 1e4 / epoch seconds, average W (Zeus NSDI '23 trace, V100, ResNet-50 batch 256). */
const CURVE = [
  [100, 1.4747, 98.38],
  [150, 2.4104, 144.59],
  [200, 2.702, 184.94],
  [250, 2.845, 220.25],
]
  .map(([l, t, p]) => `* ${l} ${t} ${p}`)
  .join(';');

let server: Server | undefined;
let bp: BrowserPage | undefined;
let page: Page;

/** The GPUs' power limits as the server's latest snapshot reports them. */
async function limits(): Promise<number[]> {
  const snap = await (await server!.fetch('api/snapshot')).json();
  return (snap?.gpus?.value ?? []).map((g: { power_limit_w: { value?: number } }) => g.power_limit_w.value ?? NaN);
}

describe('power planner against stewardctl serve on fake GPUs', () => {
  beforeAll(async () => {
    checkPrerequisites();
    server = await startServer({ ...fakeNvmlEnv(2), FAKE_NVML_POWER_MODEL: CURVE });
    bp = await openBrowser();
    page = bp.page;
    await page.goto(new URL('#/energy', server.baseUrl).toString());
  });

  afterAll(async () => {
    await closeBrowser(bp);
    await server?.stop();
  });

  it('plans at 15 %, applies the plan and rolls it back', async () => {
    await page.locator('[data-testid=power-planner]').waitFor({ timeout: 30_000 });
    await page.fill('[data-testid=planner-target]', '15');
    await page.fill('[data-testid=planner-seconds]', '0.3');
    await page.click('[data-testid=planner-plan]');
    const plan = page.locator('[data-testid=planner-plan-result]');
    await plan.waitFor({ timeout: 60_000 });
    expect(await page.locator('[data-testid=planner-device]').count()).toBe(2);
    expect(await page.locator('[data-testid=planner-summary]').textContent()).toMatch(
      /estimated 1\d\.\d % less energy/,
    );

    await page.click('[data-testid=planner-apply]');
    await waitFor('the plan applied', async () => (await plan.getAttribute('data-state')) === 'applied', 60_000);
    expect(await page.locator('[data-testid=planner-outcome]').first().textContent()).toMatch(/measured .* less/);
    await waitFor('the limits lowered', async () => (await limits()).every((l) => l < 250 && l >= 150), 15_000);
    const applied = page.locator('[data-testid=journal-row][data-state=applied]');
    await waitFor('two applied changes in the journal', async () => (await applied.count()) === 2);

    await page.click('[data-testid=planner-rollback-plan]');
    await waitFor(
      'the plan rolled back',
      async () => (await plan.getAttribute('data-state')) === 'rolled_back',
      30_000,
    );
    await waitFor('the limits restored', async () => (await limits()).every((l) => l === 250), 15_000);
    expect(await page.locator('[data-testid=journal-row][data-state=rolled_back]').count()).toBeGreaterThanOrEqual(2);
    expect(await page.locator('[data-testid=journal-rollback]').count()).toBe(0);
  });
});
