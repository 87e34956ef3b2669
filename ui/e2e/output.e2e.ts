// What a task's end and output look like in the executions view, against a real `stewardctl
// serve` and `stewardd`: a task nobody can run is refused with why; output past its limits is
// cut where the view says, with how much was left out, and the whole of it is one click away;
// a killed partition names the signal.
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
let agent: Agent | undefined;
let bp: BrowserPage | undefined;
let page: Page;

async function distribute(task: Record<string, unknown>): Promise<string> {
  const res = await server!.fetch('resources/distributed', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ operation: 'distribute', task }),
  });
  const body = await res.json();
  expect(res.status, JSON.stringify(body)).toBe(200);
  return body.result.execution_id;
}

describe('task output and endings in the executions view', () => {
  beforeAll(async () => {
    checkPrerequisites();
    agent = await startAgent();
    server = await startServer();
    bp = await openBrowser();
    page = bp.page;
    await page.goto(new URL('#/executions', server.baseUrl).toString());
  });

  afterAll(async () => {
    await closeBrowser(bp);
    await server?.stop();
    await agent?.stop();
  });

  it('refuses a task no node can take, saying why', async () => {
    await page.click('[data-testid=run-open]');
    await page.fill('[data-testid=run-command]', 'true');
    await page.click('[data-testid=run-submit]');
    expect(await page.locator('[data-testid=run-error]').textContent()).toMatch(
      /no node accepts work: no node is added/,
    );
    // Asked to wait, it is queued, and its partition says why it waits.
    await page.check('[data-testid=run-wait]');
    await page.click('[data-testid=run-submit]');
    const id = (await page.locator('[data-testid=run-started] .mono').textContent({ timeout: 20_000 }))!.trim();
    const waiting = page.locator(`[data-testid=execution][data-id="${id}"] [data-testid=partition-waiting]`);
    await waitFor('the pending partition to say why', async () => (await waiting.count()) > 0);
    expect(await waiting.first().textContent()).toBe(
      'pending: no node accepts work: no node is added (stewardctl node add)',
    );
    await page.click(`[data-testid=execution][data-id="${id}"] [data-testid=execution-cancel]`);
  });

  it('shows where output was cut, how much was left out, the whole output, and a killed partition', async () => {
    const res = await server!.fetch('api/nodes', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ address: agent!.address, token: agent!.token, fingerprint: agent!.fingerprint }),
    });
    expect(res.status, await res.clone().text()).toBe(201);
    await waitFor('the node up', async () => {
      const nodes: { address: string; state: string; latest: unknown }[] = await (
        await server!.fetch('api/nodes')
      ).json();
      return nodes.some((n) => n.address === agent!.address && n.state === 'up' && n.latest) || undefined;
    });
    const cut = await distribute({
      command: ['sh', '-c', "seq 1 9; printf 'x\\377y\\n'"],
      input: { type: 'shards', count: 1 },
      output: { max_lines: 3 },
      reuse: false,
    });
    const killed = await distribute({
      command: ['sh', '-c', 'kill -9 $$'],
      input: { type: 'shards', count: 1 },
      max_attempts: 1,
      reuse: false,
    });

    const exec = page.locator(`[data-testid=execution][data-id="${cut}"]`);
    await waitFor(
      'the cut execution to succeed',
      async () => (await exec.getAttribute('data-status')) === 'succeeded',
      60_000,
    );
    expect(await exec.locator('[data-testid=execution-output-limits]').textContent()).toMatch(
      /^output kept: 3 lines \/ .* per partition$/,
    );
    expect(await exec.locator('[data-testid=partition-output-cut]').textContent()).toMatch(
      /^output cut after 3 lines \(3 B\) of 10 lines \(12 B\), at the line limit; 22 B in the output file/,
    );
    await exec.locator('[data-testid=partition-output-show]').click();
    expect(await exec.locator('[data-testid=partition-output]').textContent()).toBe(
      '1\n2\n3\n4\n5\n6\n7\n8\n9\nx\uFFFDy\n',
    );

    const failed = page.locator(`[data-testid=execution][data-id="${killed}"]`);
    await waitFor(
      'the killed execution to fail',
      async () => (await failed.getAttribute('data-status')) === 'failed',
      60_000,
    );
    expect(await failed.locator('[data-testid=partition-error]').textContent()).toBe('killed by SIGKILL');
    expect(bp!.pageErrors.filter((e) => !/Failed to load resource/.test(e))).toEqual([]);
  });
});
