// The Degradation view against a real `stewardctl serve` with a real `steward-example-module`
// registered on its module socket: the module is listed with its criticality and quality; an
// override forcing a level is applied (the module reports the level it was told) and shown
// with who set it; released, the module goes back to full quality. A policy is written with the
// form, and one the server refuses shows its reason.
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BrowserPage,
  type Server,
  checkPrerequisites,
  closeBrowser,
  openBrowser,
  repoDir,
  startServer,
  waitFor,
} from './harness';

let server: Server | undefined;
let bp: BrowserPage | undefined;
let page: Page;
let module: ChildProcess | undefined;

const exampleModule = process.env.STEWARD_EXAMPLE_MODULE ?? path.join(repoDir, 'target/debug/steward-example-module');

async function reportedLevel(name: string): Promise<number | undefined> {
  const res = await server!.fetch('api/registered-modules');
  const list = (await res.json()) as { registration: { name: string }; report: { quality_level: number } | null }[];
  return list.find((m) => m.registration.name === name)?.report?.quality_level;
}

describe('degradation view against stewardctl serve', () => {
  beforeAll(async () => {
    checkPrerequisites();
    const socketDir = path.join(repoDir, 'target');
    const socket = path.join(socketDir, `e2e-modules-${process.pid}.sock`);
    // Only the override moves the module: no constraint policy may (a busy test machine would
    // saturate the CPU, and the node's memory is whatever it is).
    const config = path.join(socketDir, `e2e-degradation-${process.pid}.toml`);
    writeFileSync(config, '[degradation]\npolicies = []\n');
    server = await startServer({ STEWARD_MODULE_SOCKET: socket, STEWARD_CONFIG: config });
    module = spawn(
      exampleModule,
      ['--role', 'learning', '--report-ms', '300', '--scale-mib', '4', '--socket', socket, '--token-file'].concat(
        path.join(server.tmp, 'serve-token'),
      ),
      { stdio: 'ignore' },
    );
    bp = await openBrowser();
    page = bp.page;
    await page.goto(new URL('#/degradation', server.baseUrl).toString());
  });

  afterAll(async () => {
    module?.kill('SIGKILL');
    await closeBrowser(bp);
    await server?.stop();
  });

  it('applies an override and releases it', async () => {
    await waitFor('the module to register', async () => (await reportedLevel('learning')) !== undefined, 30_000);
    const row = page.locator('[data-testid=module-learning]');
    await row.waitFor({ timeout: 10_000 }).catch(async (e) => {
      throw new Error(`${e}\n${await page.locator('[data-testid=degradation-view]').textContent()}`);
    });
    expect(await row.textContent()).toContain('sheddable');
    expect(await page.locator('[data-testid=quality-learning]').textContent()).toContain('level 0 of');

    await page.selectOption('[data-testid=level-learning]', '2');
    await page.click('[data-testid=override-submit-learning]');
    await page.locator('[data-testid=override-learning]').waitFor({ timeout: 10_000 });
    expect(await page.locator('[data-testid=override-learning]').textContent()).toMatch(/level forced to 2 by ui/);
    expect(await page.locator('[data-testid=quality-learning]').textContent()).toContain('level 2 of');
    // The module itself follows: it reports the level it was told.
    expect(await waitFor('level 2 reported', async () => (await reportedLevel('learning')) === 2, 10_000)).toBe(true);
    expect(await page.locator('[data-testid=timeline]').textContent()).toContain('override of learning');

    await page.click('[data-testid=release-learning]');
    await page.locator('[data-testid=override-learning]').waitFor({ state: 'detached', timeout: 10_000 });
    expect(await page.locator('[data-testid=quality-learning]').textContent()).toContain('level 0 of');
    expect(await waitFor('level 0 reported', async () => (await reportedLevel('learning')) === 0, 10_000)).toBe(true);
    expect(await page.locator('[data-testid=timeline]').textContent()).toContain('override of learning released by ui');
  });

  it('writes a policy with the form, and shows the server refusing one that cannot work', async () => {
    await page.fill('[data-testid=policy-name]', 'cpu-shed');
    await page.selectOption('[data-testid=policy-constraint]', 'cpu');
    const step = page.locator('[data-testid=policy-step-0]');
    await step.locator('select[aria-label=action]').selectOption('suspend_allocations');
    await step.locator('select[aria-label=target]').selectOption('burstable');
    await page.click('[data-testid=policy-save]');
    const policies = page.locator('[data-testid=policies]');
    await policies.getByText('cpu-shed').waitFor({ timeout: 10_000 });
    expect(await policies.textContent()).toContain('suspend_allocations {"qos":"burstable"}');

    // A name the server cannot keep: refused, saying why, and nothing saved.
    await page.fill('[data-testid=policy-name]', 'cpu deep!');
    await page.click('[data-testid=policy-save]');
    const error = page.locator('[data-testid=degradation-error]');
    await error.waitFor({ timeout: 10_000 });
    expect(await error.textContent()).toContain('letters, digits');
    expect(await policies.textContent()).not.toContain('cpu deep');
  });
});
