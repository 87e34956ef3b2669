// The control center over a real single-node Slurm (scripts/slurm/up.sh): the cluster view says
// which engine it drives and shows Slurm's node with its partitions, and a reservation dragged
// in the calendar moves in Slurm itself (`scontrol show reservation`). Needs root and Debian's
// Slurm packages; where they are missing it is skipped, unless STEWARD_REQUIRE_SLURM=1.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { calendarPoint, drag, showTomorrow, tomorrowAt } from './calendar';
import {
  type BrowserPage,
  type Server,
  checkPrerequisites,
  closeBrowser,
  openBrowser,
  repoDir,
  startServer,
  waitFor,
} from './harness';

const scripts = path.join(repoDir, 'scripts/slurm');
const daemons = ['slurmctld', 'slurmd', 'slurmrestd', 'munged'];
const installed = daemons.every((d) => {
  try {
    execFileSync('sh', ['-c', `command -v ${d}`]);
    return true;
  } catch {
    return false;
  }
});
const usable = installed && process.getuid?.() === 0;
if (!usable && process.env.STEWARD_REQUIRE_SLURM)
  throw new Error('Slurm is required here but not installed (or not root)');

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

let tmp = '';
let slurmEnv: Record<string, string> = {};
let server: Server | undefined;
let bp: BrowserPage | undefined;

const scontrol = (...args: string[]) =>
  execFileSync('scontrol', args, { env: { ...process.env, SLURM_CONF: slurmEnv.SLURM_CONF, TZ: 'UTC' } }).toString();

describe.skipIf(!usable)('the control center over a real Slurm', () => {
  beforeAll(async () => {
    checkPrerequisites();
    tmp = mkdtempSync(path.join(os.tmpdir(), 'steward-slurm-e2e-'));
    chmodSync(tmp, 0o755); // slurmrestd reads the config below it as nobody
    const ports = {
      SLURMCTLD_PORT: await freePort(),
      SLURMD_PORT: await freePort(),
      SLURMRESTD_PORT: await freePort(),
    };
    const out = execFileSync(path.join(scripts, 'up.sh'), [path.join(tmp, 'slurm')], {
      env: { ...process.env, ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])) },
    }).toString();
    slurmEnv = Object.fromEntries(
      out
        .split('\n')
        .filter((l) => l.includes('='))
        .map((l) => l.split(/=(.*)/s, 2)),
    );
    const work = path.join(tmp, 'work');
    mkdirSync(work);
    chmodSync(work, 0o777);
    const config = path.join(tmp, 'steward.toml');
    writeFileSync(
      config,
      `[backend]\nkind = "slurm"\n[backend.slurm]\nrest_url = "${slurmEnv.SLURMRESTD_URL}"\n` +
        `user = "${slurmEnv.SLURM_USER}"\ntoken_file = "${slurmEnv.SLURM_JWT_FILE}"\n` +
        `conf = "${slurmEnv.SLURM_CONF}"\nwork_dir = "${work}"\n`,
    );
    server = await startServer({}, ['--config', config]);
    bp = await openBrowser();
  }, 120_000);

  afterAll(async () => {
    await closeBrowser(bp);
    await server?.stop();
    if (tmp && existsSync(path.join(tmp, 'slurm')))
      execFileSync(path.join(scripts, 'down.sh'), [path.join(tmp, 'slurm')]);
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it("says it drives Slurm and shows Slurm's node with its partitions", async () => {
    const page = bp!.page;
    await page.goto(new URL('#/cluster', server!.baseUrl).toString());
    const kind = page.locator('[data-testid=backend-kind]');
    await kind.waitFor({ timeout: 20_000 });
    expect(await kind.getAttribute('data-kind')).toBe('slurm');
    expect(await kind.textContent()).toMatch(/Slurm 2\d\.\d\d/);
    const facts = page.locator('[data-testid=node-card] [data-testid=engine-facts]');
    await facts.waitFor({ timeout: 20_000 });
    expect(await facts.textContent()).toContain('low, high');
    expect(await facts.textContent()).toMatch(/of 2 GPUs/);
    expect(await page.isDisabled('[data-testid=add-node-open]')).toBe(true);
  });

  it('moves a reservation in Slurm when it is dragged in the calendar', async () => {
    const page = bp!.page;
    const nodes = (await (await server!.fetch('api/resources')).json()) as { node: string }[];
    const node = nodes[0].node;
    const body = {
      allocation_type: 'reserve',
      reservation_request: {
        id: 'maint',
        owner: slurmEnv.SLURM_USER,
        node,
        cores: 1,
        start_time: tomorrowAt(9).toISOString(),
        end_time: tomorrowAt(10).toISOString(),
      },
    };
    const made = await server!.fetch('resources/allocate', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(((await made.json()) as { result: { success: boolean } }).result.success).toBe(true);

    await page.goto(new URL('#/reservations', server!.baseUrl).toString());
    await showTomorrow(page);
    const shown = page.locator('[data-testid=reservation][data-name="maint"]');
    await shown.waitFor({ timeout: 20_000 });
    const box = (await shown.boundingBox())!;
    const from = { x: box.x + box.width / 2, y: box.y + box.height / 2 };
    const to = await calendarPoint(page, node, 11.5);
    await drag(page, from, { x: to.x, y: from.y });
    // Slurm prints times in the zone it runs with: UTC here.
    const start = tomorrowAt(11).toISOString().slice(0, 19);
    await waitFor('the move in scontrol', async () =>
      scontrol('show', 'reservation', 'maint').includes(`StartTime=${start}`),
    );
  });
});
