// End-to-end: the real `stewardctl serve` + headless Debian chromium via playwright-core.
//   STEWARDCTL=/path/to/stewardctl npm run test:e2e   (default: ../target/debug/stewardctl)
// The UI must be built first (`npm run build`); the server finds ui/dist by itself.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, type Page, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const here = path.dirname(fileURLToPath(import.meta.url));
const uiDir = path.resolve(here, '..');
const bin = path.resolve(uiDir, process.env.STEWARDCTL ?? '../target/debug/stewardctl');
const chromiumPath = process.env.CHROMIUM ?? '/usr/bin/chromium';

let server: ChildProcess | undefined;
let serverLog = '';
let baseUrl = '';
let tmp = '';
let browser: Browser | undefined;
let page: Page;
const pageErrors: string[] = [];

function startServer(): Promise<string> {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'steward-e2e-'));
  const db = path.join(tmp, 'e2e.db');
  return new Promise((resolve, reject) => {
    const child = spawn(bin, ['serve', '--listen', '127.0.0.1:0', '--db', db], {
      cwd: path.resolve(uiDir, '..'),
      env: { ...process.env, STEWARD_UI_DIR: process.env.STEWARD_UI_DIR ?? path.join(uiDir, 'dist') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    server = child;
    const timer = setTimeout(() => reject(new Error(`server did not announce its address in 60 s:\n${serverLog}`)), 60_000);
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      serverLog += d.toString();
      const m = out.match(/http:\/\/127\.0\.0\.1:(\d+)\//);
      if (m) {
        clearTimeout(timer);
        resolve(`http://127.0.0.1:${m[1]}/`);
      }
    });
    child.stderr!.on('data', (d: Buffer) => (serverLog += d.toString()));
    child.on('exit', (code, sig) => {
      clearTimeout(timer);
      reject(new Error(`server exited early (code ${code}, signal ${sig}):\n${serverLog}`));
    });
    child.on('error', reject);
  });
}

function cpuCount(): number {
  if (typeof os.availableParallelism === 'function') return os.availableParallelism();
  return readFileSync('/proc/cpuinfo', 'utf8').split('\n').filter((l) => /^processor\s*:/.test(l)).length;
}

function memTotalBytes(): number {
  const m = readFileSync('/proc/meminfo', 'utf8').match(/^MemTotal:\s+(\d+)\s+kB/m);
  if (!m) throw new Error('no MemTotal in /proc/meminfo');
  return Number(m[1]) * 1024;
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined | null | false>, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as T;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? `: ${last}` : ''}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const attr = (sel: string, name: string) => page.locator(sel).first().getAttribute(name);

describe('overview against the real backend', () => {
  beforeAll(async () => {
    if (!existsSync(bin)) throw new Error(`${bin} does not exist: build it with \`cargo build -p steward-cli\` or set STEWARDCTL`);
    if (!existsSync(path.join(uiDir, 'dist/index.html'))) throw new Error('ui/dist is not built: run `npm run build` first');
    baseUrl = await startServer();
    browser = await chromium.launch({
      executablePath: chromiumPath,
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    page.on('console', (m) => m.type() === 'error' && pageErrors.push(m.text()));
    await page.goto(baseUrl);
  });

  afterAll(async () => {
    if (server && server.exitCode !== null) console.error(`stewardctl exited early (${server.exitCode}):\n${serverLog}`);
    if (page && process.env.E2E_SCREENSHOT) await page.screenshot({ path: process.env.E2E_SCREENSHOT, fullPage: true }).catch(() => {});
    await browser?.close();
    if (server && server.exitCode === null) {
      server.kill('SIGTERM');
      await new Promise((r) => {
        const t = setTimeout(() => {
          server?.kill('SIGKILL');
          r(null);
        }, 5000);
        server!.once('exit', () => {
          clearTimeout(t);
          r(null);
        });
      });
    }
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('shows this machine: core count and memory total equal the kernel’s', async () => {
    const cores = await waitFor('core-count', async () => (await page.locator('[data-testid=core-count]').textContent())?.trim());
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

  it('reloads charts from history when the range changes, then keeps appending', async () => {
    await page.click('[data-testid=range-1h]');
    await waitFor('1h active', async () => (await attr('[data-testid=range-1h]', 'aria-pressed')) === 'true');
    const n = Number(await waitFor('history points', async () => {
      const v = Number(await attr('[data-testid=chart-cpu]', 'data-points'));
      return v > 0 ? String(v) : undefined;
    }));
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
    const pids = (await rows.evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-pid')))));
    expect(pids).toEqual([...pids].sort((a, b) => a - b));
    await rows.first().click();
    const hist = page.locator('[data-testid=proc-history]');
    await hist.waitFor({ state: 'visible', timeout: 10_000 });
    expect(await hist.getAttribute('data-pid')).toBe(String(pids[0]));
    await page.locator('[data-testid=chart-proc-cpu]').waitFor({ state: 'attached' });
    await waitFor('process history points', async () => Number(await attr('[data-testid=chart-proc-rss]', 'data-points')) > 0);
  });

  it('lists the wgpu adapters or says why there are none', async () => {
    await page.click('[data-testid=nav-accelerators]');
    await waitFor('adapters section', async () => (await page.locator('[data-testid=adapter], [data-testid=unavailable-adapters], [data-testid=no-adapters]').count()) > 0);
    const inv = await (await fetch(new URL('api/inventory', baseUrl))).json();
    if (inv.adapters.status === 'available') {
      const names = await page.locator('[data-testid=adapter-name]').allTextContents();
      expect(names).toEqual(inv.adapters.value.map((a: { name: string }) => a.name));
      const software = inv.adapters.value.filter((a: { is_software: boolean }) => a.is_software).length;
      expect(await page.locator('[data-testid=software-badge]').count()).toBe(software);
    } else {
      expect(await page.locator('[data-testid=unavailable-adapters]').textContent()).toContain(inv.adapters.reason);
    }
    // GPUs: either cards or an honest reason
    expect(await page.locator('[data-testid=gpu], [data-testid=unavailable-gpus], [data-testid=no-gpus]').count()).toBeGreaterThan(0);
  });

  it('shows the status footer and raised no page errors', async () => {
    await waitFor('status footer', async () => (await page.locator('[data-testid=sampling-mode]').count()) > 0);
    expect(await page.locator('[data-testid=sampling-mode]').textContent()).toMatch(/^(active|hidden|idle)$/);
    expect(pageErrors).toEqual([]);
  });
});
