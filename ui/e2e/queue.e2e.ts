// The queue view against the real backend with 4 fake GPUs: a best-effort allocation holding every
// GPU is preempted by a critical one submitted through the form; the queue shows who runs, who
// waits and why, and the preemption history; cancelling the critical one lets the other run again.
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
let victim = '';
let critical = '';

const row = (section: string, id: string) =>
  page.locator(`[data-testid=queue-${section}] [data-testid=allocation-row][data-id="${id}"]`);

describe('queue view: preemption against the real backend (4 fake GPUs)', () => {
  beforeAll(async () => {
    checkPrerequisites();
    server = await startServer(fakeNvmlEnv(4));
    bp = await openBrowser();
    page = bp.page;
    await waitFor('4 GPUs', async () => {
      const n = await (await server!.fetch('api/resources')).json();
      return n[0]?.gpus.length === 4;
    });
    await page.goto(new URL('#/queue', server.baseUrl).toString());
  });

  afterAll(async () => {
    await closeBrowser(bp);
    await server?.stop();
  });

  it('shows a best-effort allocation holding every GPU as running', async () => {
    const res = await server!.fetch('resources/allocate', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        allocation_type: 'allocate',
        allocation_request: { owner: 'eve', resources: { gpus: 4 }, priority: 'scavenger', qos: 'best_effort' },
      }),
    });
    const body = await res.json();
    expect(body.result.success).toBe(true);
    victim = body.result.allocation_id;
    await row('running', victim).waitFor({ timeout: 10_000 });
    expect(await row('running', victim).textContent()).toMatch(/best-effort/);
  });

  it('submits a critical allocation through the form and watches it preempt the best-effort one', async () => {
    await page.click('[data-testid=new-allocation]');
    await page.fill('[data-testid=alloc-owner]', 'ada');
    await page.fill('[data-testid=alloc-gpus]', '4');
    await page.fill('[data-testid=alloc-priority]', 'critical');
    await page.selectOption('[data-testid=alloc-qos]', 'guaranteed');
    await page.click('[data-testid=alloc-submit]');
    const granted = await waitFor('granted', async () =>
      (await page.locator('text=/^Granted /').textContent())?.trim(),
    );
    critical = granted.replace(/^Granted /, '');
    await row('running', critical).waitFor({ timeout: 10_000 });
    // requeued (the default preemption mode): pending again, with the reason it waits
    await row('pending', victim).waitFor({ timeout: 10_000 });
    expect((await row('pending', victim).locator('[data-testid=pending-reason]').textContent())!.trim()).toMatch(/\S/);
    expect(await row('running', victim).count()).toBe(0);
    const history = page.locator('[data-testid=preemption-event]');
    await waitFor('preemption in the history', async () => (await history.count()) > 0);
    expect(await history.first().textContent()).toContain(victim);
    expect(await history.first().textContent()).toContain(critical);
  });

  it('cancelling the critical allocation lets the requeued one run again', async () => {
    await row('running', critical).locator('[data-testid=cancel-allocation]').click();
    await row('done', critical).waitFor({ timeout: 10_000 });
    // The "Granted" banner goes with the allocation it announced.
    await waitFor('banner gone', async () => (await page.locator('text=/^Granted /').count()) === 0);
    await row('running', victim).waitFor({ timeout: 15_000 });
  });

  it('raised no page errors', () => {
    expect(bp!.pageErrors).toEqual([]);
  });
});
