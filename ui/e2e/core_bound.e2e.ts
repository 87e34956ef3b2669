// One single-threaded process pinning a core is the most common bottleneck, yet on a machine of
// several cores it never reaches the machine-wide CPU line: the profiling view names it as
// bound to one core, with the advice to use more threads rather than to cap it.
import { type ChildProcess, spawn } from 'node:child_process';
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
let busy: ChildProcess | undefined;

describe('a process bound to one core', () => {
  beforeAll(async () => {
    checkPrerequisites();
    const config = join(mkdtempSync(join(tmpdir(), 'steward-core-bound-')), 'steward.toml');
    // Other test files share this machine's cores: the lines leave room for their load, so the
    // test checks the rule, not how busy the machine happens to be.
    writeFileSync(
      config,
      '[profile]\nwindow_ms = 5000\n[profile.thresholds]\nmin_samples = 2\ncpu_util_pct = 100\ncore_bound_pct = 50\n',
    );
    server = await startServer({ STEWARD_CONFIG: config });
    busy = spawn('sh', ['-c', 'while :; do :; done'], { stdio: 'ignore' });
    bp = await openBrowser();
    page = bp.page;
    await page.goto(new URL('#/profiling', server.baseUrl).toString());
  });

  afterAll(async () => {
    busy?.kill('SIGKILL');
    await closeBrowser(bp);
    await server?.stop();
  });

  it('is named with its evidence, and the advice is to use more cores', async () => {
    const finding = page.locator('[data-testid=finding][data-key="cpu.core_bound"]');
    await waitFor('the core-bound finding', async () => (await finding.count()) > 0, 60_000);
    const pids = await finding
      .locator('[data-testid=culprit]')
      .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-pid')));
    expect(pids).toContain(String(busy!.pid));
    expect(await finding.locator('[data-testid=evidence]').count()).toBe(3);
    const advice = page.locator('[data-testid=suggestion][data-kind=use_more_cores]');
    await waitFor('the advice', async () => (await advice.count()) > 0);
    expect(await advice.first().textContent()).toContain('is bound to one core');
  }, 90_000);
});
