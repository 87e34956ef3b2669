// The executions view while a node dies: two real `stewardd` agents, a task distributed from the
// view, one agent SIGKILLed mid-partition. The user sees the node go down in the cluster view and,
// in the executions view, the lost attempt retried on the other node and every item in the logs.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Agent,
  type BrowserPage,
  type Server,
  checkPrerequisites,
  closeBrowser,
  openBrowser,
  startAgent,
  startServer,
  waitFor,
} from './harness';

let server: Server | undefined;
let agents: Agent[] = [];
let bp: BrowserPage | undefined;
let page: Page;

const ITEMS = 6;

describe('executions view with a node killed mid-run', () => {
  beforeAll(async () => {
    checkPrerequisites();
    agents = await Promise.all([startAgent(), startAgent()]);
    server = await startServer();
    // Adding nodes through the dialog is the cluster test's subject; here the API does it.
    for (const a of agents) {
      const res = await server!.fetch('api/nodes', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ address: a.address, token: a.token, fingerprint: a.fingerprint }),
      });
      expect(res.status, await res.clone().text()).toBe(201);
    }
    // The cluster view can only show "last known values" of a node that has sent some.
    await waitFor('metrics from every agent', async () => {
      const nodes: { address: string; latest: unknown }[] = await (await server!.fetch('api/nodes')).json();
      return agents.every((a) => nodes.find((n) => n.address === a.address)?.latest) || undefined;
    });
    bp = await openBrowser();
    page = bp.page;
    await page.goto(new URL('#/executions', server.baseUrl).toString());
  });

  afterAll(async () => {
    await closeBrowser(bp);
    await server?.stop();
    await Promise.all(agents.map((a) => a.stop()));
  });

  it('closes the run form on Escape', async () => {
    await page.click('[data-testid=run-open]');
    await page.locator('[data-testid=run-command]').waitFor();
    await page.keyboard.press('Escape');
    await waitFor('the form to close', async () => (await page.locator('[data-testid=run-command]').count()) === 0);
  });

  it('shows the lost attempt retried on the other node, and every item', async () => {
    await page.click('[data-testid=run-open]');
    // Slow enough (≈ 0.8 s an item) to kill a node while its partition runs.
    await page.fill(
      '[data-testid=run-command]',
      `sh -c 'for i in $(seq {start} $(({end}-1))); do sleep 0.8; echo "item $i"; done'`,
    );
    await page.fill('[data-testid=run-start]', '0');
    await page.fill('[data-testid=run-end]', String(ITEMS));
    await page.fill('[data-testid=run-partitions]', '2');
    await page.click('[data-testid=run-submit]');
    const id = (await page.locator('[data-testid=run-started] .mono').textContent({ timeout: 20_000 }))!.trim();
    const exec = page.locator(`[data-testid=execution][data-id="${id}"]`);
    const p0 = exec.locator('[data-testid=partition][data-index="0"]');
    await waitFor(
      'partition 0 running on a node',
      async () => (await p0.getAttribute('data-state')) === 'running' && !!(await p0.getAttribute('data-node')),
    );
    const victimAddr = (await p0.getAttribute('data-node'))!;
    const victim = agents.find((a) => a.address === victimAddr)!;
    expect(victim, `partition 0 runs on ${victimAddr}`).toBeDefined();
    const survivor = agents.find((a) => a !== victim)!;
    victim.signal('SIGKILL');

    // The cluster view says the node is down, with the reason.
    await page.click('[data-testid=nav-cluster]');
    const card = page.locator(`[data-testid=node-card][data-address="${victim.address}"]`);
    await waitFor('the killed node down', async () => (await card.getAttribute('data-state')) === 'down', 10_000);
    expect(await card.locator('[data-testid=stale]').textContent()).toMatch(/Last known values/);
    await page.click('[data-testid=nav-executions]');

    await waitFor(
      'the execution to succeed',
      async () => (await exec.getAttribute('data-status')) === 'succeeded',
      90_000,
    );
    expect(Number(await p0.getAttribute('data-attempts'))).toBeGreaterThanOrEqual(2);
    const tries = (await p0.locator('[data-testid=partition-tries]').textContent())!;
    expect(tries).toContain(`${victim.address} lost`);
    expect(tries).toMatch(new RegExp(`${survivor.address.replace(/\./g, '\\.')} succeeded$`));
    expect(await exec.locator('[data-testid=execution-summary]').textContent()).toMatch(/retr(y|ies)/);

    const items = new Set<string>();
    const parts = exec.locator('[data-testid=partition]');
    for (let i = 0; i < (await parts.count()); i++) {
      expect(await parts.nth(i).getAttribute('data-state')).toBe('succeeded');
      await exec.locator('[data-testid=partition-log-toggle]').nth(i).click();
    }
    for (const text of await exec.locator('[data-testid=partition-log]').allTextContents())
      for (const l of text.split('\n')) if (l) items.add(l);
    expect([...items].sort()).toEqual(Array.from({ length: ITEMS }, (_, i) => `item ${i}`).sort());
    expect(bp!.pageErrors.filter((e) => !/Failed to load resource/.test(e))).toEqual([]);
  });
});
