// Desktop smoke test: the real Steward window (target/debug/steward) driven through tauri-driver
// and WebKitWebDriver under Xvfb. It checks the window shows the same live values the backend
// measures: the logical core count, MemTotal, and a sample timestamp that advances; and that a
// module registers with the window through its module socket, as with `stewardctl serve`.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const APP = resolve(process.env.STEWARD_DESKTOP ?? '../target/debug/steward');
const PORT = 4444 + Math.floor(Math.random() * 1000);
const BASE = `http://127.0.0.1:${PORT}`;
const ELEMENT = 'element-6066-11e4-a52e-4f741124def6';

let driver: ChildProcess;
let session: string;
let module: ChildProcess | undefined;
let dbDir: string;
// The app keeps its access token in the user's data directory: a fresh one for this test.
const dataHome = mkdtempSync(join(tmpdir(), 'steward-desktop-data-'));

async function wd(method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(`${BASE}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json.value;
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${last}` : ''}`);
}

async function find(testid: string): Promise<string> {
  const el = await wd('POST', `/session/${session}/element`, {
    using: 'css selector',
    value: `[data-testid="${testid}"]`,
  });
  // W3C's key, or the legacy one some drivers still use.
  return el[ELEMENT] ?? el.ELEMENT ?? Object.values(el)[0];
}

const attr = async (testid: string, name: string): Promise<string | null> =>
  wd('GET', `/session/${session}/element/${await find(testid)}/attribute/${name}`);
const text = async (testid: string): Promise<string> =>
  wd('GET', `/session/${session}/element/${await find(testid)}/text`);

beforeAll(async () => {
  dbDir = mkdtempSync(join(tmpdir(), 'steward-desktop-'));
  const db = join(dbDir, 'desktop.db');
  driver = spawn('tauri-driver', ['--port', String(PORT), '--native-port', String(PORT + 1000)], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, XDG_DATA_HOME: dataHome },
  });
  await waitFor('tauri-driver', async () => ((await fetch(`${BASE}/status`)).ok ? true : undefined));
  const created = await wd('POST', '/session', {
    capabilities: { alwaysMatch: { 'tauri:options': { application: APP, args: ['--db', db] } } },
  });
  session = created.sessionId;
}, 60_000);

afterAll(async () => {
  module?.kill('SIGKILL');
  if (session) await wd('DELETE', `/session/${session}`).catch(() => {});
  driver?.kill();
});

describe('desktop window', () => {
  it('shows this machine live', async () => {
    const cores = await waitFor('core count', async () => {
      const t = (await text('core-count')).trim();
      return t ? Number(t) : undefined;
    });
    expect(cores).toBe(availableParallelism());

    const memTotalKib = Number(/MemTotal:\s+(\d+)/.exec(readFileSync('/proc/meminfo', 'utf8'))![1]);
    const bytes = await waitFor('memory total', async () => (await attr('mem-total', 'data-bytes')) ?? undefined);
    expect(Number(bytes)).toBe(memTotalKib * 1024);

    const first = await waitFor('a sample', async () => Number((await attr('sample-ts', 'data-ts')) || 0) || undefined);
    const later = await waitFor('a newer sample', async () => {
      const ts = Number((await attr('sample-ts', 'data-ts')) || 0);
      return ts > first ? ts : undefined;
    });
    expect(later).toBeGreaterThan(first);

    const png = await wd('GET', `/session/${session}/screenshot`);
    mkdirSync('test-results', { recursive: true });
    writeFileSync('test-results/desktop.png', Buffer.from(png, 'base64'));
  }, 90_000);

  it('lets a module register through its socket, behind the access token', async () => {
    const example = resolve(process.env.STEWARD_EXAMPLE_MODULE ?? '../target/debug/steward-example-module');
    const tokenFile = join(dataHome, 'steward', 'serve-token');
    await waitFor('the access token', async () => (existsSync(tokenFile) ? true : undefined));
    module = spawn(
      example,
      ['--role', 'learning', '--socket', join(dbDir, 'modules.sock'), '--token-file', tokenFile],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
    await wd('POST', `/session/${session}/execute/sync`, { script: "location.hash = '#/degradation'", args: [] });
    const row = await waitFor('the module in the Degradation view', async () => {
      const t = await text('module-learning');
      return t.includes('learning') ? t : undefined;
    });
    expect(row).toContain('sheddable');
  }, 60_000);
});
