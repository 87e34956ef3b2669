// The reservation calendar against the real backend, with the fake libnvidia-ml.so presenting
// 4 GPUs: drag to create, move to another GPU row, an overlapping reservation refused with its
// reason (both as a new one and as a move, which snaps back), and a reload that finds it again.
// Then a daily reservation: one occurrence moved on its own (the "this occurrence / all
// occurrences" dialog), found moved alone after a reload, and in the .ics export.
import { readFileSync } from 'node:fs';
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
import { calendarPoint, drag, showTomorrow, tomorrowAt } from './calendar';

interface Gpu {
  id: string;
  index: number;
}
interface Res {
  id: string;
  occurrence: string | null;
  name: string;
  node: string;
  gpus: string[];
  start_time: string;
  end_time: string;
}

let server: Server | undefined;
let bp: BrowserPage | undefined;
let page: Page;
let gpus: Gpu[] = [];
let node = '';

async function api<T>(path: string): Promise<T> {
  const res = await server!.fetch(path);
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

async function reservations(): Promise<Res[]> {
  const from = tomorrowAt(0).toISOString();
  const to = tomorrowAt(24).toISOString();
  return api(`api/reservations?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`);
}

/** Drag across a row from `h0` to `h1` (local hours) and fill the form that opens. */
async function dragToReserve(gpu: Gpu, h0: number, h1: number, name: string) {
  // A hair inside the slots so the 15-min snapping lands on the hours.
  await drag(page, await calendarPoint(page, gpu.id, h0 + 0.02), await calendarPoint(page, gpu.id, h1 - 0.02));
  await page.locator('[data-testid=reservation-form]').waitFor({ state: 'visible', timeout: 10_000 });
  expect(await page.inputValue('[data-testid=res-start]')).toBe(local(tomorrowAt(h0)));
  expect(await page.inputValue('[data-testid=res-end]')).toBe(local(tomorrowAt(h1)));
  expect(await page.isChecked(`[data-testid=res-gpu-${gpu.index}]`)).toBe(true);
  await page.fill('[data-testid=res-name]', name);
  await page.fill('[data-testid=res-owner]', 'ada');
  await page.click('[data-testid=res-submit]');
}

const local = (d: Date) => {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
};

const shown = (name: string) => page.locator(`[data-testid=reservation][data-name="${name}"]`);

describe('reservation calendar against the real backend (4 fake GPUs)', () => {
  beforeAll(async () => {
    checkPrerequisites();
    server = await startServer(fakeNvmlEnv(4));
    bp = await openBrowser();
    page = bp.page;
    await page.goto(new URL('#/reservations', server.baseUrl).toString());
  });

  afterAll(async () => {
    await closeBrowser(bp);
    await server?.stop();
  });

  it('shows this node with its 4 GPUs as rows', async () => {
    const nodes = await waitFor('4 GPUs in /api/resources', async () => {
      const n = await api<{ node: string; gpus: Gpu[] }[]>('api/resources');
      return n.length && n[0].gpus.length === 4 ? n : undefined;
    });
    node = nodes[0].node;
    gpus = nodes[0].gpus;
    await page.reload();
    await waitFor('calendar rows', async () => (await page.locator('[data-testid=calendar-row]').count()) === 5);
    const rows = await page
      .locator('[data-testid=calendar-row]')
      .evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.rowId));
    expect(rows).toEqual([node, ...gpus.map((g) => g.id)]);
  });

  it('creates a reservation by dragging tomorrow 09:00–12:00 on a GPU row', async () => {
    await showTomorrow(page);
    await dragToReserve(gpus[1], 9, 12, 'train');
    await shown('train').waitFor({ timeout: 10_000 });
    expect(await shown('train').getAttribute('data-gpus')).toBe(gpus[1].id);
    const [r] = (await reservations()).filter((x) => x.name === 'train');
    expect(r).toMatchObject({ node, gpus: [gpus[1].id] });
    expect(Date.parse(r.start_time)).toBe(tomorrowAt(9).getTime());
    expect(Date.parse(r.end_time)).toBe(tomorrowAt(12).getTime());
  });

  it('moves it to another GPU row', async () => {
    const box = (await shown('train').boundingBox())!;
    const to = await calendarPoint(page, gpus[3].id, 0);
    await drag(page, { x: box.x + box.width / 2, y: box.y + box.height / 2 }, { x: box.x + box.width / 2, y: to.y });
    await waitFor('moved to GPU 3', async () => (await shown('train').getAttribute('data-gpus')) === gpus[3].id);
    const [r] = (await reservations()).filter((x) => x.name === 'train');
    expect(r.gpus).toEqual([gpus[3].id]);
    expect(Date.parse(r.start_time)).toBe(tomorrowAt(9).getTime());
  });

  it('resizes it by dragging its end edge', async () => {
    const ev = shown('train');
    await ev.hover();
    const handle = ev.locator('.ec-resizer:not(.ec-start)');
    const b = (await handle.boundingBox())!;
    const to = await calendarPoint(page, gpus[3].id, 13);
    await drag(page, { x: b.x + b.width / 2, y: b.y + b.height / 2 }, { x: to.x - 1, y: b.y + b.height / 2 });
    await waitFor('ends at 13:00', async () => {
      const [r] = (await reservations()).filter((x) => x.name === 'train');
      return Date.parse(r.end_time) === tomorrowAt(13).getTime();
    });
    const [r] = (await reservations()).filter((x) => x.name === 'train');
    expect(Date.parse(r.start_time)).toBe(tomorrowAt(9).getTime());
    expect(r.gpus).toEqual([gpus[3].id]);
  });

  it('refuses an overlapping reservation entered in the form and says why', async () => {
    // Dragging over an existing reservation moves it, so the overlapping one goes through the form.
    await page.click('[data-testid=new-reservation]');
    await page.fill('[data-testid=res-name]', 'clash');
    await page.fill('[data-testid=res-owner]', 'bob');
    await page.selectOption('[data-testid=res-node]', node);
    await page.check(`[data-testid=res-gpu-${gpus[3].index}]`);
    await page.fill('[data-testid=res-start]', local(tomorrowAt(10)));
    await page.fill('[data-testid=res-end]', local(tomorrowAt(11)));
    await page.click('[data-testid=res-submit]');
    const why = await waitFor('refusal', async () =>
      (await page.locator('[data-testid=res-error]').textContent())?.trim(),
    );
    expect(why.length).toBeGreaterThan(5);
    expect((await reservations()).filter((x) => x.name === 'clash')).toEqual([]);
    expect(await shown('clash').count()).toBe(0);
    await page.click('[data-testid=reservation-form] button:has-text("Close")');
  });

  it('refuses an overlapping move: the reservation snaps back and the reason is shown', async () => {
    await dragToReserve(gpus[0], 10, 11, 'side');
    await shown('side').waitFor({ timeout: 10_000 });
    const box = (await shown('side').boundingBox())!;
    const to = await calendarPoint(page, gpus[3].id, 0);
    await drag(page, { x: box.x + box.width / 2, y: box.y + box.height / 2 }, { x: box.x + box.width / 2, y: to.y });
    const why = await waitFor('refusal banner', async () =>
      (await page.locator('[data-testid=calendar-error]').textContent())?.trim(),
    );
    expect(why).toMatch(/^Refused: \S/);
    await waitFor(
      'snapped back onto GPU 0',
      async () => {
        const el = shown('side');
        const b = await el.boundingBox();
        const row = await calendarPoint(page, gpus[0].id, 0);
        return (await el.getAttribute('data-gpus')) === gpus[0].id && b && Math.abs(b.y + b.height / 2 - row.y) < 10;
      },
      3_000,
    ); // at once, not by the view's periodic refetch (15 s)
    const [r] = (await reservations()).filter((x) => x.name === 'side');
    expect(r.gpus).toEqual([gpus[0].id]);
  });

  it('finds the reservation where it was left after a reload', async () => {
    await page.reload();
    await showTomorrow(page);
    await shown('train').waitFor({ timeout: 10_000 });
    expect(await shown('train').getAttribute('data-gpus')).toBe(gpus[3].id);
    expect(Date.parse((await shown('train').getAttribute('data-start'))!)).toBe(tomorrowAt(9).getTime());
    expect(Date.parse((await shown('train').getAttribute('data-end'))!)).toBe(tomorrowAt(13).getTime());
    const b = (await shown('train').boundingBox())!;
    const row = await calendarPoint(page, gpus[3].id, 9);
    expect(Math.abs(b.y + b.height / 2 - row.y)).toBeLessThan(10);
    expect(Math.abs(b.x - row.x)).toBeLessThan(4);
  });

  it('moves one occurrence of a daily reservation on its own and finds only it moved after a reload', async () => {
    // Daily 15:00–16:00 from tomorrow on GPU 2, entered in the form.
    await page.click('[data-testid=new-reservation]');
    await page.fill('[data-testid=res-name]', 'daily');
    await page.fill('[data-testid=res-owner]', 'ada');
    await page.selectOption('[data-testid=res-node]', node);
    await page.check(`[data-testid=res-gpu-${gpus[2].index}]`);
    await page.fill('[data-testid=res-start]', local(tomorrowAt(15)));
    await page.fill('[data-testid=res-end]', local(tomorrowAt(16)));
    await page.selectOption('[data-testid=res-repeat]', 'daily');
    await page.click('[data-testid=res-submit]');
    await shown('daily').waitFor({ timeout: 10_000 });

    // Drag tomorrow's occurrence two hours later on its row; the dialog asks; "this occurrence".
    const box = (await shown('daily').boundingBox())!;
    const to = await calendarPoint(page, gpus[2].id, 17.5);
    await drag(page, { x: box.x + box.width / 2, y: box.y + box.height / 2 }, { x: to.x, y: box.y + box.height / 2 });
    await page.locator('[data-testid=scope-dialog]').waitFor({ timeout: 5_000 });
    await page.click('[data-testid=scope-occurrence]');
    await waitFor('tomorrow’s occurrence at 17:00', async () => {
      const [r] = (await reservations()).filter((x) => x.name === 'daily');
      return r && Date.parse(r.start_time) === tomorrowAt(17).getTime();
    });

    // The series stays: the day after, and the one after that, are still 15:00–16:00.
    const later = async () => {
      const from = tomorrowAt(24).toISOString();
      const to = new Date(tomorrowAt(24).getTime() + 2 * 86_400_000).toISOString();
      const list: Res[] = await api(`api/reservations?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`);
      return list
        .filter((x) => x.name === 'daily')
        .map((x) => [new Date(x.start_time).getHours(), new Date(x.end_time).getHours()]);
    };
    expect(await later()).toEqual([
      [15, 16],
      [15, 16],
    ]);

    await page.reload();
    await showTomorrow(page);
    await shown('daily').waitFor({ timeout: 10_000 });
    expect(Date.parse((await shown('daily').getAttribute('data-start'))!)).toBe(tomorrowAt(17).getTime());
    expect(Date.parse((await shown('daily').getAttribute('data-end'))!)).toBe(tomorrowAt(18).getTime());
    // Still the occurrence the series starts tomorrow at 15:00, on its own row.
    expect(Date.parse((await shown('daily').getAttribute('data-occurrence'))!)).toBe(tomorrowAt(15).getTime());
    const b = (await shown('daily').boundingBox())!;
    const row = await calendarPoint(page, gpus[2].id, 17);
    expect(Math.abs(b.y + b.height / 2 - row.y)).toBeLessThan(10);
    expect(Math.abs(b.x - row.x)).toBeLessThan(4);
    expect(await later()).toEqual([
      [15, 16],
      [15, 16],
    ]);
  });

  it('exports the calendar as .ics with the moved occurrence as an override', async () => {
    const [download] = await Promise.all([
      page.waitForEvent('download', { timeout: 10_000 }),
      page.click('[data-testid=ics-export]'),
    ]);
    expect(download.suggestedFilename()).toBe('steward-reservations.ics');
    const text = readFileSync((await download.path())!, 'utf8');
    expect(text).toMatch(/^BEGIN:VCALENDAR\r\n/);
    expect(text).toContain('RRULE:FREQ=DAILY');
    expect(text).toMatch(/\r\nRECURRENCE-ID;TZID=[^:]+:\d{8}T150000\r\n/);
    await page.locator('[data-testid=calendar-notice]:has-text("Downloaded")').waitFor({ timeout: 5_000 });
  });

  it('shows it in the week view too', async () => {
    await page.click('.ec-resourceTimelineWeek');
    await waitFor('week view', async () => (await page.locator('.ec-week-view').count()) > 0);
    await shown('train').waitFor({ timeout: 10_000 });
    expect(await shown('train').getAttribute('data-gpus')).toBe(gpus[3].id);
  });

  it('raised no page errors (refusals aside)', () => {
    // Chromium logs every non-2xx fetch; the refused move's 409 is expected.
    expect(bp!.pageErrors.filter((e) => !/status of 409/.test(e))).toEqual([]);
  });
});
