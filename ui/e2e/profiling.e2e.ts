// The profiling view against the real `stewardctl serve`: with the CPU line drawn at 0 % (through
// the config file) a CPU finding shows with its evidence and culprits; forecasts say they lack
// history; modules are created, profiled (also deeply, per thread), refused when invalid, and deleted.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BrowserPage,
  type Server,
  checkPrerequisites,
  closeBrowser,
  openBrowser,
  startServer,
  waitFor,
} from './harness';

let server: Server | undefined;
let bp: BrowserPage | undefined;
let page: Page;

describe('profiling view against stewardctl serve', () => {
  beforeAll(async () => {
    checkPrerequisites();
    const config = join(mkdtempSync(join(tmpdir(), 'steward-profile-')), 'steward.toml');
    writeFileSync(
      config,
      '[profile]\nwindow_ms = 5000\n[profile.thresholds]\ncpu_util_pct = 0\nculprit_min_share_pct = 0\nmin_samples = 2\n',
    );
    server = await startServer({ STEWARD_CONFIG: config });
    bp = await openBrowser();
    page = bp.page;
    await page.goto(new URL('#/profiling', server.baseUrl).toString());
  });

  afterAll(async () => {
    await closeBrowser(bp);
    await server?.stop();
  });

  it('shows the CPU finding with its evidence and culprits', async () => {
    const finding = page.locator('[data-testid=finding][data-key=cpu]');
    await finding.waitFor({ timeout: 30_000 });
    expect(await finding.textContent()).toMatch(/CPU is saturated/);
    expect(await finding.locator('[data-testid=evidence]').first().textContent()).toMatch(
      /cpu\.total mean .* \(line 0\.0 %\) over .*samples/,
    );
    await waitFor('a culprit with a PID', async () => (await finding.locator('[data-testid=culprit]').count()) > 0);
    const pid = Number(await finding.locator('[data-testid=culprit]').first().getAttribute('data-pid'));
    expect(pid).toBeGreaterThan(0);
    // The finding gives rise to a suggestion that names the top culprit.
    await waitFor(
      'a suggestion',
      async () => (await page.locator('[data-testid=suggestion][data-kind=limit_culprit]').count()) > 0,
    );
  });

  it('says forecasts lack history instead of guessing', async () => {
    const cpu = page.locator('[data-testid=forecast][data-series="cpu.total"]');
    await cpu.waitFor();
    expect(await cpu.getAttribute('data-status')).toBe('insufficient_history');
    expect(await cpu.locator('[data-testid=lacking]').textContent()).toMatch(/needs 3\.0 h of history/);
  });

  it('creates, profiles and deletes a module, refusing an invalid one', async () => {
    await page.fill('[data-testid=module-name]', 'bad.name');
    await page.selectOption('[data-testid=module-kind]', 'executable');
    await page.fill('[data-testid=module-value]', 'stewardctl');
    await page.click('[data-testid=module-save]');
    expect(await page.locator('[data-testid=module-error]').textContent()).toMatch(/letters, digits/);

    await page.fill('[data-testid=module-name]', 'steward');
    await page.click('[data-testid=module-save]');
    await page.locator('[data-testid=module][data-name=steward]').waitFor();
    expect(await page.locator('[data-testid=module][data-name=steward]').textContent()).toContain(
      'executable stewardctl',
    );

    await page.selectOption('[data-testid=profile-target]', 'steward');
    await page.locator('[data-testid=forecast][data-series="module.steward.cpu"]').waitFor();

    // A deep profile of the module (the server itself, multi-threaded) shows its remaining time,
    // then ends by itself with a per-thread table.
    await page.fill('[data-testid=deep-seconds]', '3');
    await page.click('[data-testid=deep-start]');
    const status = page.locator('[data-testid=deep-status]');
    await status.waitFor();
    expect(await status.textContent()).toMatch(/running, [1-3] s left/);
    await page.locator('[data-testid=deep-status][data-state=finished]').waitFor({ timeout: 10_000 });
    expect(await status.textContent()).toMatch(/finished after 3 s, \d+ samples/);
    expect(await page.locator('[data-testid=deep-thread]').count()).toBeGreaterThan(1);
    // Module usage reaches history like every other series.
    await waitFor('module series in history', async () => {
      const names = await (await server!.fetch('api/series?prefix=module.steward.')).json();
      return names.includes('module.steward.cpu');
    });

    await page.click('[data-testid=module][data-name=steward] [data-testid=module-delete]');
    await page.locator('[data-testid=no-modules]').waitFor();
    expect(await page.locator('[data-testid=profile-target]').inputValue()).toBe('');
    expect(bp!.pageErrors).toEqual([]);
  });
});
