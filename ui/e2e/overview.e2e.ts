// End-to-end: the real `stewardctl serve` + headless Debian chromium via playwright-core
// (see harness.ts for how to run it).
import { readFileSync } from 'node:fs';
import os from 'node:os';
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
let baseUrl = '';
let bp: BrowserPage | undefined;
let page: Page;
let pageErrors: string[] = [];

function cpuCount(): number {
  if (typeof os.availableParallelism === 'function') return os.availableParallelism();
  return readFileSync('/proc/cpuinfo', 'utf8')
    .split('\n')
    .filter((l) => /^processor\s*:/.test(l)).length;
}

function memTotalBytes(): number {
  const m = readFileSync('/proc/meminfo', 'utf8').match(/^MemTotal:\s+(\d+)\s+kB/m);
  if (!m) throw new Error('no MemTotal in /proc/meminfo');
  return Number(m[1]) * 1024;
}

const attr = (sel: string, name: string) => page.locator(sel).first().getAttribute(name);

describe('overview against the real backend', () => {
  beforeAll(async () => {
    checkPrerequisites();
    server = await startServer();
    baseUrl = server.baseUrl;
    bp = await openBrowser();
    ({ page, pageErrors } = bp);
    await page.goto(baseUrl);
  });

  afterAll(async () => {
    await closeBrowser(bp);
    await server?.stop();
  });

  it('shows this machine: core count and memory total equal the kernel’s', async () => {
    const cores = await waitFor('core-count', async () =>
      (await page.locator('[data-testid=core-count]').textContent())?.trim(),
    );
    expect(Number(cores)).toBe(cpuCount());
    const bytes = await waitFor('mem-total', () => attr('[data-testid=mem-total]', 'data-bytes'));
    expect(Number(bytes)).toBe(memTotalBytes());
    expect((await page.locator('[data-testid=mem-total]').textContent())!).toMatch(/\d+(\.\d+)? (GiB|MiB|TiB)/);
  });

  it('advances the last sample time', async () => {
    const first = Number(await waitFor('first sample', () => attr('[data-testid=sample-ts]', 'data-ts')));
    expect(first).toBeGreaterThan(Date.now() - 5 * 60_000);
    const later = await waitFor('a newer sample', async () => {
      const v = Number(await attr('[data-testid=sample-ts]', 'data-ts'));
      return v > first ? v : undefined;
    });
    expect(later).toBeGreaterThan(first);
  });

  it('grows the CPU chart from the live stream', async () => {
    const before = Number(await waitFor('cpu chart', () => attr('[data-testid=chart-cpu]', 'data-points')));
    const after = await waitFor('cpu chart to grow', async () => {
      const v = Number(await attr('[data-testid=chart-cpu]', 'data-points'));
      return v > before ? v : undefined;
    });
    expect(after).toBeGreaterThan(before);
    expect(Number(await attr('[data-testid=chart-cpu]', 'data-series'))).toBe(cpuCount() + 1);
    await expect(page.locator('[data-testid=chart-memory]').count()).resolves.toBe(1);
  });

  it('legends show the latest values without hovering', async () => {
    await waitFor('cpu chart', () => attr('[data-testid=chart-cpu]', 'data-points'));
    const total = page.locator('[data-testid=chart-cpu] .u-legend .u-series').nth(1).locator('.u-value');
    const text = await waitFor('a legend value', async () => {
      const t = (await total.textContent())?.trim();
      return t && t !== '—' && t !== '--' ? t : undefined;
    });
    expect(text).toMatch(/^\d+(\.\d+)? ?%$/);
  });

  it('breaks a line where the sampler paused instead of drawing a ramp across it', async () => {
    expect(Number(await attr('[data-testid=chart-cpu]', 'data-gaps'))).toBe(0);
    process.kill(server!.pid, 'SIGSTOP'); // the whole control center stops: no samples for 15 s
    await new Promise((r) => setTimeout(r, 15_000));
    process.kill(server!.pid, 'SIGCONT');
    const gaps = await waitFor('a gap in the CPU chart', async () => {
      const g = Number(await attr('[data-testid=chart-cpu]', 'data-gaps'));
      return g > 0 ? g : undefined;
    });
    expect(gaps).toBe(1);
  }, 60_000);

  it('reloads charts from history when the range changes, then keeps appending', async () => {
    await page.click('[data-testid=range-1h]');
    await waitFor('1h active', async () => (await attr('[data-testid=range-1h]', 'aria-pressed')) === 'true');
    const n = Number(
      await waitFor('history points', async () => {
        const v = Number(await attr('[data-testid=chart-cpu]', 'data-points'));
        return v > 0 ? String(v) : undefined;
      }),
    );
    expect(n).toBeGreaterThan(0);
    await page.click('[data-testid=range-5m]');
  });

  it('shows unavailable sources with their reason, never as zeros', async () => {
    const cards = page.locator('[data-testid^=unavailable-]');
    for (let i = 0; i < (await cards.count()); i++) {
      expect(await cards.nth(i).textContent()).toMatch(/unavailable: \S/);
    }
  });

  it('lists processes and opens a process history chart', async () => {
    await page.click('[data-testid=nav-processes]');
    const rows = page.locator('[data-testid=process-row]');
    await waitFor('process rows', async () => (await rows.count()) > 0);
    const pid = await rows.first().getAttribute('data-pid');
    expect(Number(pid)).toBeGreaterThan(0);
    // sorting by PID ascending puts the smallest PID first
    await page.click('[data-testid=sort-pid]');
    const pids = await rows.evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-pid'))));
    expect(pids).toEqual([...pids].sort((a, b) => a - b));
    await rows.first().click();
    const hist = page.locator('[data-testid=proc-history]');
    await hist.waitFor({ state: 'visible', timeout: 10_000 });
    expect(await hist.getAttribute('data-pid')).toBe(String(pids[0]));
    await page.locator('[data-testid=chart-proc-cpu]').waitFor({ state: 'attached' });
    await waitFor(
      'process history points',
      async () => Number(await attr('[data-testid=chart-proc-rss]', 'data-points')) > 0,
    );
  });

  it('lists the wgpu adapters or says why there are none', async () => {
    await page.click('[data-testid=nav-accelerators]');
    await waitFor(
      'adapters section',
      async () =>
        (await page
          .locator('[data-testid=adapter], [data-testid=unavailable-adapters], [data-testid=no-adapters]')
          .count()) > 0,
    );
    const inv = await (await server!.fetch('api/inventory')).json();
    if (inv.adapters.status === 'available') {
      const names = await page.locator('[data-testid=adapter-name]').allTextContents();
      expect(names).toEqual(inv.adapters.value.map((a: { name: string }) => a.name));
      const software = inv.adapters.value.filter((a: { is_software: boolean }) => a.is_software).length;
      expect(await page.locator('[data-testid=software-badge]').count()).toBe(software);
    } else {
      expect(await page.locator('[data-testid=unavailable-adapters]').textContent()).toContain(inv.adapters.reason);
    }
    // GPUs: either cards or an honest reason
    expect(
      await page.locator('[data-testid=gpu], [data-testid=unavailable-gpus], [data-testid=no-gpus]').count(),
    ).toBeGreaterThan(0);
  });

  it('shows the status footer and raised no page errors', async () => {
    await waitFor('status footer', async () => (await page.locator('[data-testid=sampling-mode]').count()) > 0);
    expect(await page.locator('[data-testid=sampling-mode]').textContent()).toMatch(/^(active|hidden|idle)$/);
    expect(pageErrors).toEqual([]);
  });
});
