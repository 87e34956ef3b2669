// The cluster view against a real `stewardctl serve` and a real `stewardd` (TLS, loopback): the
// user adds the node by address — a wrong token and a mismatched fingerprint are refused where
// they can see it — then watches the node's live metrics, drains it and removes it.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Agent,
  type BrowserPage,
  type Server,
  checkPrerequisites,
  closeBrowser,
  fakeNvmlEnv,
  openBrowser,
  startAgent,
  startServer,
  waitFor,
} from './harness';

let server: Server | undefined;
let agent: Agent | undefined;
let bp: BrowserPage | undefined;
let page: Page;

const card = (address: string) => page.locator(`[data-testid=node-card][data-address="${address}"]`);

async function fillAndProbe(address: string, token: string) {
  if ((await page.locator('[data-testid=add-node]').count()) === 0) await page.click('[data-testid=add-node-open]');
  await page.fill('[data-testid=add-address]', address);
  await page.fill('[data-testid=add-token]', token);
  await page.click('[data-testid=add-probe]');
  await page.locator('[data-testid=add-fingerprint]').waitFor();
}

describe('cluster view against stewardctl serve and stewardd', () => {
  beforeAll(async () => {
    checkPrerequisites();
    // The agent's machine has two (fake, test-built) NVIDIA GPUs; the control center's has none.
    agent = await startAgent([], fakeNvmlEnv(2));
    server = await startServer();
    bp = await openBrowser();
    page = bp.page;
    await page.goto(new URL('#/cluster', server.baseUrl).toString());
  });

  afterAll(async () => {
    await closeBrowser(bp);
    await server?.stop();
    await agent?.stop();
  });

  it('lists this machine as the local node with live metrics', async () => {
    const local = page.locator('[data-testid=node-card][data-id=local]');
    await local.waitFor({ timeout: 30_000 });
    await waitFor(
      'local CPU sparkline',
      async () => Number(await local.locator('[data-testid=spark-cpu]').getAttribute('data-points')) >= 2,
    );
    expect(await local.locator('[data-testid=node-drain]').count()).toBe(0);
  });

  it('shows the fingerprint the agent presents and refuses one that differs from the printed one', async () => {
    expect(agent!.fingerprint).toMatch(/^sha256:[0-9a-f]{64}$/);
    await fillAndProbe(agent!.address, agent!.token);
    expect(await page.locator('[data-testid=add-fingerprint]').textContent()).toContain(agent!.fingerprint);
    const wrong = agent!.fingerprint!.slice(0, -1) + (agent!.fingerprint!.endsWith('0') ? '1' : '0');
    await page.fill('[data-testid=add-expected]', wrong);
    await page.click('[data-testid=add-confirm]');
    expect(await page.locator('[data-testid=add-error]').textContent()).toMatch(/differs/);
    expect(await card(agent!.address).count()).toBe(0);
    await page.click('[data-testid=add-cancel]');
  });

  it('makes a refused token visible', async () => {
    await fillAndProbe(agent!.address, 'not-the-token');
    await page.fill('[data-testid=add-expected]', agent!.fingerprint!);
    await page.click('[data-testid=add-confirm]');
    // Refused at once by the add, or the node is listed with the refusal as its error.
    const shown = await waitFor('the refusal', async () => {
      if ((await page.locator('[data-testid=add-error]').count()) > 0) return 'dialog';
      if ((await card(agent!.address).locator('[data-testid=node-error]').count()) > 0) return 'card';
      return null;
    });
    const text =
      shown === 'dialog'
        ? await page.locator('[data-testid=add-error]').textContent()
        : await card(agent!.address).locator('[data-testid=node-error]').textContent();
    expect(text).toMatch(/token|unauthenticated|refused/i);
    if (shown === 'card') {
      expect(await card(agent!.address).getAttribute('data-state')).not.toBe('up');
      await card(agent!.address).locator('[data-testid=node-remove]').click();
      await card(agent!.address).locator('[data-testid=node-remove-confirm]').click();
      await waitFor('the refused node removed', async () => (await card(agent!.address).count()) === 0);
    } else await page.click('[data-testid=add-cancel]');
  });

  it('adds the node by address and shows its live metrics', async () => {
    await fillAndProbe(agent!.address, agent!.token);
    await page.fill('[data-testid=add-expected]', agent!.fingerprint!);
    await page.click('[data-testid=add-confirm]');
    await card(agent!.address).waitFor();
    expect(await page.locator('[data-testid=add-node]').count()).toBe(0);
    const c = card(agent!.address);
    await waitFor('the node up', async () => (await c.getAttribute('data-state')) === 'up');
    // Live: the CPU sparkline gains points as the agent's metric stream arrives.
    await waitFor(
      'a CPU value',
      async () => (await c.locator('[data-testid=metric-cpu]').getAttribute('data-available')) === 'true',
    );
    const first = Number(await c.locator('[data-testid=spark-cpu]').getAttribute('data-points'));
    await waitFor(
      'more CPU points',
      async () =>
        Number(await c.locator('[data-testid=spark-cpu]').getAttribute('data-points')) >= Math.max(3, first + 2),
    );
    const cpu = Number(await c.locator('[data-testid=metric-cpu]').getAttribute('data-value'));
    expect(cpu).toBeGreaterThanOrEqual(0);
    expect(cpu).toBeLessThanOrEqual(100);
    expect(Number(await c.locator('[data-testid=metric-memory]').getAttribute('data-value'))).toBeGreaterThan(0);
    expect(await c.locator('[data-testid=node-detail]').textContent()).toMatch(/heartbeat/);
    // GPU and power as the node's driver reports them: mean utilization of its GPUs (10 %, 30 %)
    // and their board power (100.5 W + 150.5 W); the GPUs are listed as its accelerators.
    await waitFor(
      'GPU values',
      async () => (await c.locator('[data-testid=metric-gpu]').getAttribute('data-available')) === 'true',
    );
    expect(Number(await c.locator('[data-testid=metric-gpu]').getAttribute('data-value'))).toBeCloseTo(20, 5);
    expect(Number(await c.locator('[data-testid=metric-power]').getAttribute('data-value'))).toBeCloseTo(251, 5);
    expect(Number(await c.locator('[data-testid=spark-gpu]').getAttribute('data-points'))).toBeGreaterThan(0);
    expect(await c.locator('[data-testid=node-accelerators] .badge').allTextContents()).toEqual([
      'Fake NVIDIA GPU 0',
      'Fake NVIDIA GPU 1',
    ]);
    // Where this machine has no NVIDIA driver (CI), its card says why instead of showing a number.
    const local = page.locator('[data-testid=node-card][data-id=local] [data-testid=metric-gpu]');
    if ((await local.getAttribute('data-available')) === 'false')
      expect(await local.locator('[data-testid=metric-reason]').textContent()).toMatch(/NVIDIA|NVML|libnvidia|GPU/i);
    else expect(Number.isFinite(Number(await local.getAttribute('data-value')))).toBe(true);
  });

  it('runs a task on the cluster from the executions view, with per-partition progress and logs', async () => {
    await page.click('[data-testid=nav-executions]');
    await page.locator('[data-testid=no-executions]').waitFor();
    await page.click('[data-testid=run-open]');
    await page.fill(
      '[data-testid=run-command]',
      `sh -c 'for i in $(seq {start} $(({end}-1))); do echo "item $i"; done'`,
    );
    await page.fill('[data-testid=run-start]', '0');
    await page.fill('[data-testid=run-end]', '10');
    await page.fill('[data-testid=run-partitions]', '2');
    await page.click('[data-testid=run-submit]');
    const id = (await page.locator('[data-testid=run-started] .mono').textContent({ timeout: 20_000 }))!.trim();
    const exec = page.locator(`[data-testid=execution][data-id="${id}"]`);
    await waitFor(
      'the execution to succeed',
      async () => (await exec.getAttribute('data-status')) === 'succeeded',
      60_000,
    );
    expect(await exec.locator('[data-testid=execution-progress]').textContent()).toBe('100 %');
    const parts = exec.locator('[data-testid=partition]');
    expect(await parts.count()).toBe(2);
    for (let i = 0; i < 2; i++) expect(await parts.nth(i).getAttribute('data-state')).toBe('succeeded');
    // Every item shows up once in the partitions' log tails.
    const items: string[] = [];
    for (let i = 0; i < 2; i++) {
      await exec.locator('[data-testid=partition-log-toggle]').nth(i).click();
      items.push(...(await exec.locator('[data-testid=partition-log]').nth(i).textContent())!.split('\n'));
    }
    expect(items.sort()).toEqual(Array.from({ length: 10 }, (_, i) => `item ${i}`).sort());
    // A refused task says why.
    await page.fill('[data-testid=run-end]', '0');
    await page.click('[data-testid=run-submit]');
    expect(await page.locator('[data-testid=run-error]').textContent()).toMatch(/greater than start/);
    await page.click('[data-testid=nav-cluster]');
  });

  it('says in the profiling view why consolidation is not judged yet (two nodes, fresh history)', async () => {
    await page.click('[data-testid=nav-profiling]');
    const why = page.locator('[data-testid=not-judged]');
    await why.first().waitFor({ timeout: 30_000 });
    expect(await why.first().textContent()).toMatch(/consolidation needs 20\.0 h of usage history per node/);
    await page.click('[data-testid=nav-cluster]');
  });

  it('drains and removes the node', async () => {
    const c = card(agent!.address);
    await c.locator('[data-testid=node-drain]').click();
    await waitFor('draining', async () => (await c.getAttribute('data-state')) === 'draining');
    await c.locator('[data-testid=node-undrain]').click();
    await waitFor('up again', async () => (await c.getAttribute('data-state')) === 'up');
    await c.locator('[data-testid=node-remove]').click();
    await c.locator('[data-testid=node-remove-confirm]').click();
    await waitFor('the node gone', async () => (await c.count()) === 0);
    // Persisted: a reload still does not list it.
    await page.reload();
    await page.locator('[data-testid=node-card][data-id=local]').waitFor();
    expect(await card(agent!.address).count()).toBe(0);
    expect(bp!.pageErrors.filter((e) => !/Failed to load resource/.test(e))).toEqual([]);
  });
});
