// The queue explains itself, against the real backend with 4 fake GPUs: an open-ended request
// for 4 GPUs while all four are idle waits because a reservation tomorrow holds two of them, and
// the reason names that reservation; the pending row shows what it asks for; the view fits
// 1280×800 and 1920×1080 with the reason column on screen. Screenshots kept as artifacts.
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
import { tomorrowAt } from './calendar';
import { overflowAtSizes } from './layout';

let server: Server | undefined;
let bp: BrowserPage | undefined;
let page: Page;
let waiting = '';

async function allocate(body: unknown): Promise<{ result: Record<string, unknown> }> {
  const res = await server!.fetch('resources/allocate', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return res.json();
}

const pendingRow = (id: string) =>
  page.locator(`[data-testid=queue-pending] [data-testid=allocation-row][data-id="${id}"]`);

describe('queue view: a pending reason naming a reservation (4 fake GPUs)', () => {
  beforeAll(async () => {
    checkPrerequisites();
    server = await startServer(fakeNvmlEnv(4));
    bp = await openBrowser();
    page = bp.page;
    const nodes = await waitFor('4 GPUs', async () => {
      const n = await (await server!.fetch('api/resources')).json();
      return n[0]?.gpus.length === 4 ? n : undefined;
    });
    const reserved = await allocate({
      allocation_type: 'reserve',
      reservation_request: {
        name: 'nightly-train',
        owner: 'ada',
        node: nodes[0].node,
        gpus: nodes[0].gpus.slice(0, 2).map((g: { id: string }) => g.id),
        start_time: tomorrowAt(9).toISOString(),
        end_time: tomorrowAt(12).toISOString(),
      },
    });
    expect(reserved.result).toMatchObject({ success: true });
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.goto(new URL('#/queue', server.baseUrl).toString());
  });

  afterAll(async () => {
    await closeBrowser(bp);
    await server?.stop();
  });

  it('an open-ended 4-GPU request waits, and the reason names the reservation', async () => {
    const body = await allocate({
      allocation_type: 'allocate',
      allocation_request: { owner: 'eve', resources: { gpus: 4 }, queue: true },
    });
    waiting = String(body.result.allocation_id);
    await pendingRow(waiting).waitFor({ timeout: 10_000 });
    const reason = (await pendingRow(waiting).locator('[data-testid=pending-reason]').textContent())!.trim();
    expect(reason).toContain('"nightly-train"');
    expect(reason).toMatch(/4 idle, 2 of them reserved/);
    expect(await pendingRow(waiting).textContent()).toContain('4 GPUs');
  });

  it('fits 1280×800 and 1920×1080 with the reason on screen', async () => {
    const over = await overflowAtSizes(page, 'queue-reasons');
    expect(over).toEqual({ '1280x800': 0, '1920x1080': 0 });
    await page.setViewportSize({ width: 1280, height: 800 });
    const cell = (await pendingRow(waiting).locator('[data-testid=pending-reason]').boundingBox())!;
    expect(cell.x + cell.width).toBeLessThanOrEqual(1280);
  });

  it('raised no page errors', () => {
    expect(bp!.pageErrors).toEqual([]);
  });
});
