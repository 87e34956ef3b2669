// Memory soak benchmark (not a test): the desktop app and the browser UI left on the Overview,
// their memory sampled each minute. Prints each series, the growth slope after the charts have
// filled (least squares, MiB per hour) and the final total. Run through scripts/soak-memory.
//
//   desktop: `steward --db <tmp>` under Xvfb; PSS of it and every descendant (the WebKit web and
//            network processes) from /proc/<pid>/smaps_rollup.
//   browser: `stewardctl serve` + headless Chromium on the Overview; the page's JS heap from the
//            DevTools protocol (Runtime.getHeapUsage) and PSS of the Chromium processes.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';

const MIB = 1024 * 1024;
const { values: opts } = parseArgs({
  options: {
    minutes: { type: 'string', default: '60' },
    'fill-minutes': { type: 'string', default: '5' },
    'interval-s': { type: 'string', default: '60' },
    desktop: { type: 'string' },
    stewardctl: { type: 'string' },
    ui: { type: 'string' },
    only: { type: 'string' },
  },
});
const minutes = Number(opts.minutes);
const fillMin = Number(opts['fill-minutes']);
const intervalMs = Number(opts['interval-s']) * 1000;
if (!(minutes > 0) || !(intervalMs > 0)) throw new Error('--minutes and --interval-s must be positive numbers');

/** pid → parent pid for every process. */
function parents() {
  const map = new Map();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      // the command name may hold spaces and parens: the fields start after the last ')'
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      map.set(Number(d), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      /* exited meanwhile */
    }
  }
  return map;
}

/** `root` and all its descendants. */
function tree(root) {
  const pp = parents();
  const out = [root];
  for (let i = 0; i < out.length; i++) for (const [pid, ppid] of pp) if (ppid === out[i]) out.push(pid);
  return out;
}

/** PSS in bytes and the command name of a process, or null when it is gone. */
function pss(pid) {
  try {
    const m = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    const comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    return m ? { comm, bytes: Number(m[1]) * 1024 } : null;
  } catch {
    return null;
  }
}

/** PSS of a process tree, in total and by command name. */
function treePss(root) {
  const byName = {};
  let total = 0;
  for (const pid of tree(root)) {
    const p = pss(pid);
    if (!p) continue;
    byName[p.comm] = (byName[p.comm] ?? 0) + p.bytes;
    total += p.bytes;
  }
  return { total, byName };
}

/** Least-squares slope of (minute, bytes) in MiB per hour. */
export function slopeMibPerHour(points) {
  if (points.length < 2) return NaN;
  const n = points.length;
  const mx = points.reduce((s, p) => s + p[0], 0) / n;
  const my = points.reduce((s, p) => s + p[1], 0) / n;
  const sxx = points.reduce((s, p) => s + (p[0] - mx) ** 2, 0);
  const sxy = points.reduce((s, p) => s + (p[0] - mx) * (p[1] - my), 0);
  return sxx === 0 ? NaN : ((sxy / sxx) * 60) / MIB;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const mib = (b) => (b / MIB).toFixed(1);

/** Sample `measure()` every interval for the run's length; print and summarise the series. */
async function soak(name, measure) {
  const series = [];
  const start = Date.now();
  for (;;) {
    const min = (Date.now() - start) / 60_000;
    const m = await measure();
    series.push([min, m]);
    const parts = Object.entries(m.parts)
      .map(([k, v]) => `${k} ${mib(v)}`)
      .join(', ');
    console.log(`${name} t=${min.toFixed(1)} min  total ${mib(m.total)} MiB  (${parts})`);
    if (min >= minutes) break;
    await sleep(Math.min(intervalMs, Math.max(1000, start + minutes * 60_000 - Date.now())));
  }
  const filled = series.filter(([t]) => t >= fillMin).map(([t, m]) => [t, m.total]);
  const last = series[series.length - 1][1];
  console.log(
    `${name} summary: total ${mib(last.total)} MiB after ${series[series.length - 1][0].toFixed(1)} min; ` +
      `slope after ${fillMin} min: ${filled.length >= 2 ? slopeMibPerHour(filled).toFixed(2) + ' MiB/h' : 'n/a (run longer)'} ` +
      `over ${filled.length} samples`,
  );
  return series;
}

function waitForLine(child, re, what) {
  return new Promise((resolve, reject) => {
    let buf = '';
    const on = (d) => {
      buf += d;
      const m = re.exec(buf);
      if (m) resolve(m);
    };
    child.stdout?.on('data', on);
    child.stderr?.on('data', on);
    child.on('exit', (c) => reject(new Error(`${what} exited (${c}) before it was ready:\n${buf}`)));
  });
}

async function desktopSoak(bin, tmp) {
  const child = spawn('xvfb-run', ['-a', '-s', '-screen 0 1400x900x24', bin, '--db', path.join(tmp, 'desktop.db')], {
    stdio: ['ignore', 'ignore', 'inherit'],
    detached: true,
  });
  children.push(() => process.kill(-child.pid, 'SIGTERM'));
  try {
    // the app is the xvfb-run script's grandchild: wait until a WebKit web process exists
    const webkit = () => tree(child.pid).some((p) => pss(p)?.comm.startsWith('WebKitWeb'));
    for (let i = 0; !webkit(); i++) {
      if (i > 120 || child.exitCode !== null) throw new Error('the desktop app did not open a window');
      await sleep(500);
    }
    return await soak('desktop', async () => {
      const { byName } = treePss(child.pid);
      // Xvfb and the xvfb-run shell are the test rig, not the app
      const parts = Object.fromEntries(
        Object.entries(byName).filter(([k]) => !/^(Xvfb|xvfb-run|sh|bash|xauth)$/.test(k)),
      );
      return { total: Object.values(parts).reduce((s, v) => s + v, 0), parts };
    });
  } finally {
    process.kill(-child.pid, 'SIGTERM');
  }
}

async function browserSoak(ctl, uiDist, tmp) {
  const server = spawn(
    ctl,
    ['serve', '--listen', '127.0.0.1:0', '--db', path.join(tmp, 'serve.db'), '--token-file', path.join(tmp, 'token')],
    { env: { ...process.env, STEWARD_UI_DIR: uiDist }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.push(() => server.kill('SIGTERM'));
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--no-first-run',
      '--disable-background-networking',
    ],
  });
  try {
    const [url] = await waitForLine(server, /http:\/\/127\.0\.0\.1:\d+\/\?token=\S+/, 'stewardctl serve');
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(url);
    await page.locator('[data-testid=core-count]').waitFor();
    const cdp = await page.context().newCDPSession(page);
    return await soak('browser', async () => {
      await cdp.send('HeapProfiler.collectGarbage');
      const heap = await cdp.send('Runtime.getHeapUsage');
      const parts = { 'js-heap': heap.usedSize };
      // playwright starts Chromium as this script's child
      parts['chromium-pss'] = Object.entries(treePss(process.pid).byName)
        .filter(([k]) => /chrom/i.test(k))
        .reduce((s, [, v]) => s + v, 0);
      parts['stewardctl-pss'] = treePss(server.pid).total;
      return { total: heap.usedSize, parts };
    });
  } finally {
    await browser.close();
    server.kill('SIGTERM');
  }
}

const children = [];
for (const sig of ['SIGINT', 'SIGTERM'])
  process.on(sig, () => {
    for (const kill of children) kill();
    process.exit(130);
  });

const tmp = mkdtempSync(path.join(os.tmpdir(), 'steward-soak-'));
try {
  console.log(`soak: ${minutes} min, a sample every ${intervalMs / 1000} s, slope from minute ${fillMin}`);
  const runs = [];
  if (opts.only !== 'browser') runs.push(desktopSoak(opts.desktop, tmp));
  if (opts.only !== 'desktop') runs.push(browserSoak(opts.stewardctl, opts.ui, tmp));
  await Promise.all(runs);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
