// Driving the reservation calendar's day view with the mouse: where an hour of tomorrow is on a
// row, and a drag made of small moves (so the calendar sees a drag, not a click).
import type { Page } from 'playwright-core';
import { waitFor } from './harness';

/** Tomorrow at `hour` local time (what the calendar shows after one "next"). */
export function tomorrowAt(hour: number): Date {
  const d = new Date();
  d.setDate(d.getDate() + 1);
  d.setHours(hour, 0, 0, 0);
  return d;
}

/** Viewport point of `hour` (local, fractional) on a calendar row in the day view. */
export async function calendarPoint(page: Page, rowId: string, hour: number): Promise<{ x: number; y: number }> {
  // The fraction of tomorrow's length (23 or 25 hours on a DST change) that `hour` is into it.
  const day0 = tomorrowAt(0).getTime();
  const t = day0 + hour * 3_600_000 + (tomorrowAt(Math.floor(hour)).getTime() - (day0 + Math.floor(hour) * 3_600_000));
  const frac = (t - day0) / (tomorrowAt(24).getTime() - day0);
  const p = await page.evaluate(
    ([rowId, frac]) => {
      const ids = [...document.querySelectorAll<HTMLElement>('[data-testid=calendar-row]')].map((e) => e.dataset.rowId);
      const i = ids.indexOf(rowId as string);
      // One day cell per row in the day view; its width is the whole day.
      const cell = document.querySelectorAll('.ec-body .ec-grid .ec-day')[i];
      if (i < 0 || !cell) return null;
      const r = cell.getBoundingClientRect();
      return { x: r.left + r.width * (frac as number), y: r.top + r.height / 2 };
    },
    [rowId, frac] as const,
  );
  if (!p) throw new Error(`no calendar row ${rowId}`);
  return p;
}

export async function drag(page: Page, from: { x: number; y: number }, to: { x: number; y: number }) {
  await page.mouse.move(from.x, from.y);
  await page.mouse.down();
  await page.mouse.move((from.x + to.x) / 2, (from.y + to.y) / 2, { steps: 6 });
  await page.mouse.move(to.x, to.y, { steps: 6 });
  await page.mouse.up();
}

/** Pages the calendar to tomorrow. */
export async function showTomorrow(page: Page) {
  await page.locator('[data-testid=calendar-row]').first().waitFor({ timeout: 20_000 });
  await page.click('.ec-next');
  await waitFor('tomorrow shown', async () =>
    (await page.locator('.ec-title').textContent())?.includes(String(tomorrowAt(0).getDate())),
  );
}
