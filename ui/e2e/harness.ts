// Shared e2e harness: the real `stewardctl serve` as a child process + headless Debian chromium
// via playwright-core.
//   STEWARDCTL=/path/to/stewardctl npm run test:e2e   (default: ../target/debug/stewardctl)
// The UI must be built first (`npm run build`); the server finds ui/dist by itself.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, type Page, chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const uiDir = path.resolve(here, '..');
export const repoDir = path.resolve(uiDir, '..');
const bin = path.resolve(uiDir, process.env.STEWARDCTL ?? '../target/debug/stewardctl');
const agentBin = path.resolve(uiDir, process.env.STEWARDD ?? '../target/debug/stewardd');
const chromiumPath = process.env.CHROMIUM ?? '/usr/bin/chromium';

export interface Server {
  /** The URL `serve` printed: `http://127.0.0.1:<port>/?token=…`. Opening it (or a URL built on
   *  it, e.g. `new URL('#/queue', baseUrl)`) logs the browser in with a cookie. */
  baseUrl: string;
  /** The server process, e.g. to pause it with SIGSTOP. */
  pid: number;
  /** `http://127.0.0.1:<port>/`, without the token. */
  origin: string;
  token: string;
  /** `fetch` on a path of the server (`api/...`) with `Authorization: Bearer <token>`. */
  fetch: (path: string, init?: RequestInit) => Promise<Response>;
  tmp: string;
  log: () => string;
  stop: () => Promise<void>;
}

/** Refuse to start when the binary or the built UI is missing, saying how to get them. */
export function checkPrerequisites() {
  if (!existsSync(bin))
    throw new Error(`${bin} does not exist: build it with \`cargo build -p steward-cli\` or set STEWARDCTL`);
  if (!existsSync(path.join(uiDir, 'dist/index.html')))
    throw new Error('ui/dist is not built: run `npm run build` first');
}

/** `stewardctl serve` on a fresh database in a temp dir (with `args` added, e.g. `--config`);
 *  resolves once it announces its address. */
export function startServer(env: Record<string, string> = {}, args: string[] = []): Promise<Server> {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'steward-e2e-'));
  const db = path.join(tmp, 'e2e.db');
  let log = '';
  const child: ChildProcess = spawn(
    bin,
    ['serve', '--listen', '127.0.0.1:0', '--db', db, '--token-file', path.join(tmp, 'serve-token'), ...args],
    {
      cwd: repoDir,
      env: { ...process.env, STEWARD_UI_DIR: process.env.STEWARD_UI_DIR ?? path.join(uiDir, 'dist'), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null)
      console.error(`stewardctl exited early (${child.exitCode ?? child.signalCode}):\n${log}`);
    await stopChild(child);
    rmSync(tmp, { recursive: true, force: true });
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not announce its address in 60 s:\n${log}`)), 60_000);
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      log += d.toString();
      const m = out.match(/http:\/\/127\.0\.0\.1:(\d+)\/\?token=([\w.~-]+)/);
      if (m) {
        clearTimeout(timer);
        const origin = `http://127.0.0.1:${m[1]}/`;
        const token = m[2];
        const authFetch = (p: string, init: RequestInit = {}) =>
          fetch(new URL(p, origin), {
            ...init,
            headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${token}` },
          });
        resolve({
          baseUrl: `${origin}?token=${token}`,
          pid: child.pid!,
          origin,
          token,
          fetch: authFetch,
          tmp,
          log: () => log,
          stop,
        });
      }
    });
    child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
    child.on('exit', (code, sig) => {
      clearTimeout(timer);
      reject(new Error(`server exited early (code ${code}, signal ${sig}):\n${log}`));
    });
    child.on('error', reject);
  });
}

/** Stops a child: SIGTERM, then SIGKILL after 5 s. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  await new Promise((r) => {
    const t = setTimeout(() => {
      child.kill('SIGKILL');
      r(null);
    }, 5000);
    child.once('exit', () => {
      clearTimeout(t);
      r(null);
    });
  });
}

export interface Agent {
  /** host:port it listens on. */
  address: string;
  token: string;
  /** `sha256:...`, or null when it serves plain text. */
  fingerprint: string | null;
  log: () => string;
  /** Sends a signal (SIGKILL, SIGSTOP, SIGCONT) to the agent process. */
  signal: (sig: NodeJS.Signals) => void;
  stop: () => Promise<void>;
}

/** A real `stewardd` on a free loopback port with a fresh state dir; resolves once it printed its
 *  address, token and fingerprint (what a user copies into "add node"). */
export function startAgent(extraArgs: string[] = [], env: Record<string, string> = {}): Promise<Agent> {
  if (!existsSync(agentBin))
    throw new Error(`${agentBin} does not exist: build it with \`cargo build -p steward-agent\` or set STEWARDD`);
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'stewardd-e2e-'));
  let log = '';
  const child = spawn(agentBin, ['--listen', '127.0.0.1:0', '--state-dir', tmp, '--no-adapters', ...extraArgs], {
    cwd: repoDir,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stop = async () => {
    await stopChild(child);
    rmSync(tmp, { recursive: true, force: true });
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`stewardd did not announce itself in 60 s:\n${log}`)), 60_000);
    child.stdout!.on('data', (d: Buffer) => {
      log += d.toString();
      const addr = log.match(/listening on (\S+)/)?.[1];
      const token = log.match(/^token: (\S+)$/m)?.[1];
      const fp = log.match(/^fingerprint: (.+)$/m)?.[1];
      if (addr && token && fp) {
        clearTimeout(timer);
        resolve({
          address: addr,
          token,
          fingerprint: fp.startsWith('sha256:') ? fp.trim() : null,
          log: () => log,
          signal: (sig) => child.kill(sig),
          stop,
        });
      }
    });
    child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
    child.on('exit', (code, sig) => {
      clearTimeout(timer);
      reject(new Error(`stewardd exited early (code ${code}, signal ${sig}):\n${log}`));
    });
    child.on('error', reject);
  });
}

/** Build the fake libnvidia-ml.so presenting `gpus` GPUs; returns the env that makes a server or
 *  agent load it. */
export function fakeNvmlEnv(gpus: number): Record<string, string> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'steward-nvml-'));
  const script = path.join(repoDir, 'crates/telemetry/tests/fake_nvml/build.sh');
  const lib = execFileSync('sh', [script, dir], { encoding: 'utf8' }).trim().split('\n').pop()!;
  return { STEWARD_NVML_LIB: lib, FAKE_NVML_GPU_COUNT: String(gpus) };
}

export interface BrowserPage {
  browser: Browser;
  page: Page;
  /** Uncaught page errors and console errors, for a final "no errors" check. */
  pageErrors: string[];
}

export async function openBrowser(): Promise<BrowserPage> {
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.on('console', (m) => m.type() === 'error' && pageErrors.push(m.text()));
  return { browser, page, pageErrors };
}

export async function closeBrowser(b: BrowserPage | undefined, screenshotEnv = 'E2E_SCREENSHOT') {
  if (b && process.env[screenshotEnv])
    await b.page.screenshot({ path: process.env[screenshotEnv]!, fullPage: true }).catch(() => {});
  await b?.browser.close();
}

/** Poll until `fn` yields something truthy. */
export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined | null | false>,
  timeoutMs = 20_000,
): Promise<T> {
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

/** Where `checkLayout` keeps its screenshots (kept by the suite: ui/test-results is the artifact
 *  folder CI uploads). */
export const screensDir = path.join(uiDir, 'test-results', 'screens');

/** The two window sizes every view is checked at. */
export const LAYOUT_SIZES = [
  { width: 1280, height: 800 },
  { width: 1920, height: 1080 },
] as const;

/** At each of `LAYOUT_SIZES`: screenshot the page as `<name>-<w>x<h>.png` under `screensDir` and
 *  fail when the main content (or the page) is wider than the window, naming the widest
 *  overflowing elements. Leaves the viewport at the last size. */
export async function checkLayout(page: Page, name: string, settle = 400): Promise<void> {
  mkdirSync(screensDir, { recursive: true });
  const problems: string[] = [];
  for (const size of LAYOUT_SIZES) {
    await page.setViewportSize(size);
    await page.waitForTimeout(settle);
    await page.screenshot({ path: path.join(screensDir, `${name}-${size.width}x${size.height}.png`) });
    const overflow = await page.evaluate(() => {
      const main = document.querySelector('main') ?? document.body;
      const limit = document.documentElement.clientWidth;
      const pageOver = document.documentElement.scrollWidth - limit;
      const mainOver = main.scrollWidth - main.clientWidth;
      const culprits = Array.from(main.querySelectorAll<HTMLElement>('*'))
        .filter((e) => e.getBoundingClientRect().right > limit + 1)
        .slice(0, 3)
        .map((e) => `${e.tagName.toLowerCase()}${e.dataset.testid ? `[${e.dataset.testid}]` : ''}.${e.className}`);
      return { pageOver, mainOver, culprits };
    });
    if (overflow.pageOver > 1 || overflow.mainOver > 1)
      problems.push(
        `${name} at ${size.width}x${size.height}: page ${overflow.pageOver}px, main ${overflow.mainOver}px wider ` +
          `than the window (${overflow.culprits.join(', ')})`,
      );
  }
  if (problems.length) throw new Error(`horizontal overflow: ${problems.join('; ')}`);
}
