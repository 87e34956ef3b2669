// The cluster view's datasets panel against a real `stewardctl serve`: empty at first, a refused
// dataset says which fields are wrong (under each input too), an added one is listed with its size and nodes and is still
// there after a reload (read back from SQLite through the API), and it can be removed.
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
let bp: BrowserPage | undefined;
let page: Page;

const row = (name: string) => page.locator(`[data-testid=dataset][data-name="${name}"]`);

async function fill(name: string, size: string, nodes: string) {
  await page.fill('[data-testid=dataset-name-input]', name);
  await page.fill('[data-testid=dataset-size-input]', size);
  await page.fill('[data-testid=dataset-nodes-input]', nodes);
  await page.click('[data-testid=dataset-add]');
}

describe('datasets panel against stewardctl serve', () => {
  beforeAll(async () => {
    checkPrerequisites();
    server = await startServer();
    bp = await openBrowser();
    page = bp.page;
    await page.goto(new URL('#/cluster', server.baseUrl).toString());
  });

  afterAll(async () => {
    await closeBrowser(bp);
    await server?.stop();
  });

  it('starts empty and shows why a dataset is refused', async () => {
    await page.locator('[data-testid=no-datasets]').waitFor({ timeout: 30_000 });
    await fill('bad name', '1 GiB', 'local, a:7443');
    // The server's reason, naming every wrong field, each also shown under its input.
    expect(await page.locator('[data-testid=dataset-error]').textContent()).toMatch(/name: "bad name" may hold only/);
    expect(await page.locator('[data-testid=dataset-name-field-error]').textContent()).toMatch(
      /^"bad name" may hold only/,
    );
    expect(await page.locator('[data-testid=dataset-nodes-field-error]').textContent()).toBe(
      'nodes[1]: "a:7443" is not a node of this cluster (`stewardctl node list` shows their ids)',
    );
    await fill('logs', 'lots', 'a:7443');
    expect(await page.locator('[data-testid=dataset-error]').textContent()).toMatch(/^Size:/);
    expect(await page.locator('[data-testid=dataset]').count()).toBe(0);
  });

  it('adds a dataset that is listed with its size and nodes, still there after a reload', async () => {
    await fill('logs', '1.5 GiB', 'local');
    await row('logs').waitFor();
    expect(await page.locator('[data-testid=dataset-error]').count()).toBe(0);
    const check = async () => {
      const r = row('logs');
      expect(await r.locator('[data-testid=dataset-size]').getAttribute('data-bytes')).toBe(String(1.5 * 2 ** 30));
      expect(await r.locator('[data-testid=dataset-size]').textContent()).toBe('1.50 GiB');
      expect(await r.locator('[data-testid=dataset-node]').allTextContents()).toEqual(['local']);
    };
    await check();
    // The API agrees (what the CLI and the desktop app read too).
    const api = await (await server!.fetch('api/datasets')).json();
    expect(api).toEqual([{ name: 'logs', bytes: 1.5 * 2 ** 30, nodes: ['local'] }]);
    await page.reload();
    await row('logs').waitFor({ timeout: 30_000 });
    await check();
  });

  it('removes it after a confirmation', async () => {
    await row('logs').locator('[data-testid=dataset-remove]').click();
    await row('logs').locator('[data-testid=dataset-remove-confirm]').click();
    await waitFor('the dataset gone', async () => (await row('logs').count()) === 0);
    await page.locator('[data-testid=no-datasets]').waitFor();
    await page.reload();
    await page.locator('[data-testid=no-datasets]').waitFor({ timeout: 30_000 });
    expect(bp!.pageErrors.filter((e) => !/Failed to load resource/.test(e))).toEqual([]);
  });
});
