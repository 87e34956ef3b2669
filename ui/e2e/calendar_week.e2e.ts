// The reservation calendar as a daily tool, against the real backend with 4 fake GPUs: a short
// (2-hour) reservation in week view is moved by its middle (not resized), a resize says so, the
// drag preview shows its times, the day timeline fits its box at 1280 and fills it at 1920, and
// name and owner are edited in the form. Screenshots of both sizes are kept as artifacts.
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

interface Res {
  id: string;
  name: string;
  owner: string;
  gpus: string[];
  start_time: string;
  end_time: string;
}

let server: Server | undefined;
let bp: BrowserPage | undefined;
let page: Page;
let gpu = '';

async function api<T>(path: string, init?: RequestInit): Promise<T> {
  const res = await server!.fetch(path, init);
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

async function byName(name: string): Promise<Res> {
  const from = tomorrowAt(0).toISOString();
  const to = tomorrowAt(24 * 3).toISOString();
  const list = await api<Res[]>(`api/reservations?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`);
  return list.find((r) => r.name === name)!;
}

const shown = (name: string) => page.locator(`[data-testid=reservation][data-name="${name}"]`);

/** Width of one week-view slot (3 hours): a day cell holds 8. */
async function weekSlot(): Promise<number> {
  return page.evaluate(() => document.querySelector('.ec-body .ec-grid .ec-day')!.getBoundingClientRect().width / 8);
}

describe('reservation calendar: week view and sizes (4 fake GPUs)', () => {
  beforeAll(async () => {
    checkPrerequisites();
    server = await startServer(fakeNvmlEnv(4));
    bp = await openBrowser();
    page = bp.page;
    const nodes = await waitFor('4 GPUs', async () => {
      const n = await api<{ node: string; gpus: { id: string }[] }[]>('api/resources');
      return n[0]?.gpus.length === 4 ? n : undefined;
    });
    gpu = nodes[0].gpus[2].id;
    const body = await api<{ result: { success: boolean; error?: string } }>('resources/allocate', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        allocation_type: 'reserve',
        reservation_request: {
          name: 'short',
          owner: 'ada',
          node: nodes[0].node,
          gpus: [gpu],
          start_time: tomorrowAt(9).toISOString(),
          end_time: tomorrowAt(11).toISOString(),
        },
      }),
    });
    expect(body.result).toMatchObject({ success: true });
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.goto(new URL('#/reservations', server.baseUrl).toString());
    await page.locator('[data-testid=calendar-row]').first().waitFor({ timeout: 20_000 });
  });

  afterAll(async () => {
    await closeBrowser(bp);
    await server?.stop();
  });

  it('day view: the timeline fits its box at 1280 and fills it at 1920', async () => {
    for (const width of [1280, 1920]) {
      await page.setViewportSize({ width, height: width === 1280 ? 800 : 1080 });
      const fit = await waitFor(`day fits at ${width}`, async () => {
        const m = await page.evaluate(() => {
          const main = document.querySelector<HTMLElement>('.ec-main')!;
          const day = document.querySelector('.ec-body .ec-grid .ec-day')!.getBoundingClientRect();
          const box = main.getBoundingClientRect();
          return { scroll: main.scrollWidth - main.clientWidth, dayRight: day.right, boxRight: box.right };
        });
        // No sideways scrolling, and the day reaches the box's right edge (within a slot's rounding).
        return m.scroll <= 1 && m.boxRight - m.dayRight < 30 ? m : undefined;
      });
      expect(fit.scroll).toBeLessThanOrEqual(1);
    }
  });

  it('week view: a 2-hour reservation is moved by its middle, keeping its length', async () => {
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.click('button.ec-resourceTimelineWeek');
    if (!(await shown('short').count())) await page.click('.ec-next');
    await shown('short').waitFor({ timeout: 10_000 });
    const box = (await shown('short').boundingBox())!;
    // Short enough that the old 8-px handles covered it whole.
    expect(box.width).toBeLessThan(40);
    const slot = await weekSlot();
    const from = { x: box.x + box.width / 2, y: box.y + box.height / 2 };
    await page.mouse.move(from.x, from.y);
    await page.mouse.down();
    await page.mouse.move(from.x + slot / 2, from.y, { steps: 4 });
    await page.mouse.move(from.x + slot, from.y, { steps: 4 });
    // The preview says where it would land.
    const preview = page.locator('.ec-event.ec-preview .res-time');
    expect((await preview.textContent())?.trim()).toBe('12:00–14:00');
    await page.mouse.up();
    await waitFor(
      'moved to 12:00',
      async () => Date.parse((await byName('short')).start_time) === tomorrowAt(12).getTime(),
    );
    const r = await byName('short');
    expect(Date.parse(r.end_time)).toBe(tomorrowAt(14).getTime());
    const notice = (await page.locator('[data-testid=calendar-notice]').textContent())!;
    expect(notice).toMatch(/^Moved short /);
    expect(notice).not.toMatch(/[0-9a-f]{8}-[0-9a-f]{4}/);
  });

  it('week view: dragging its end edge resizes it and says "Resized"', async () => {
    const ev = shown('short');
    await ev.hover();
    const handle = (await ev.locator('.ec-resizer:not(.ec-start)').boundingBox())!;
    expect(handle.width).toBeLessThanOrEqual(5);
    const slot = await weekSlot();
    const y = handle.y + handle.height / 2;
    await page.mouse.move(handle.x + handle.width / 2, y);
    await page.mouse.down();
    await page.mouse.move(handle.x + slot / 3, y, { steps: 4 });
    await page.mouse.move(handle.x + handle.width / 2 + slot / 3, y, { steps: 4 });
    await page.mouse.up();
    await waitFor(
      'ends at 15:00',
      async () => Date.parse((await byName('short')).end_time) === tomorrowAt(15).getTime(),
    );
    expect(Date.parse((await byName('short')).start_time)).toBe(tomorrowAt(12).getTime());
    expect(await page.locator('[data-testid=calendar-notice]').textContent()).toMatch(/^Resized short /);
  });

  it('renames it and gives it to another owner in the form; Escape closes the form', async () => {
    await shown('short').click();
    const form = page.locator('[data-testid=reservation-form]');
    await form.waitFor({ timeout: 5_000 });
    expect(await page.inputValue('[data-testid=res-start]')).toMatch(/^\d{4}-\d{2}-\d{2} 12:00$/);
    await page.fill('[data-testid=res-name]', 'finetune');
    await page.fill('[data-testid=res-owner]', 'bob');
    await page.click('[data-testid=res-submit]');
    await waitFor('renamed', async () => (await byName('finetune'))?.owner === 'bob');
    await shown('finetune').click();
    await form.waitFor({ timeout: 5_000 });
    await page.keyboard.press('Escape');
    await form.waitFor({ state: 'hidden', timeout: 5_000 });
  });

  it('Delete asks once more before deleting', async () => {
    await shown('finetune').click();
    await page.click('[data-testid=res-delete]');
    expect(await page.locator('[data-testid=res-delete]').textContent()).toContain('Delete finetune?');
    expect(await byName('finetune')).toBeDefined();
    await page.click('[data-testid=res-delete]');
    await waitFor('deleted', async () => (await byName('finetune')) === undefined);
  });

  it('fits 1280×800 and 1920×1080 in day and week view without sideways overflow', async () => {
    for (const view of ['resourceTimelineDay', 'resourceTimelineWeek']) {
      await page.click(`button.ec-${view}`);
      const over = await overflowAtSizes(page, `reservations-${view}`);
      expect(over).toEqual({ '1280x800': 0, '1920x1080': 0 });
    }
  });

  it('raised no page errors', () => {
    expect(bp!.pageErrors).toEqual([]);
  });
});
