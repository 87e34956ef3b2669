// The accelerator view against a real `stewardctl serve` and a real `stewardd` on the fake NVML
// library (two GPUs joined by two NVLinks) with an NPU registered on the agent: the topology is
// drawn from what the agent reports, with live figures; a pending allocation dragged onto a
// busy GPU is refused with the scheduler's reason, onto a free one it is placed; a drag onto a
// software rasterizer is refused as never offered; the register form names wrong fields.
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Agent,
  type BrowserPage,
  type Server,
  checkPrerequisites,
  closeBrowser,
  fakeNvmlEnv,
  openBrowser,
  startAgent,
  startServer,
  waitFor,
} from './harness';

let server: Server | undefined;
let agent: Agent | undefined;
let bp: BrowserPage | undefined;
let page: Page;
let nodeId = '';

async function allocate(request: Record<string, unknown>) {
  const res = await server!.fetch('resources/allocate', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ allocation_type: 'allocate', allocation_request: request }),
  });
  return (await res.json()) as { result: { state?: string; success: boolean } };
}

const gpuJob = (id: string) => ({
  id,
  owner: 'ann',
  resources: { gpus: 1, cores: 1, memory_bytes: 1 << 20 },
  constraints: { gpu_model: 'Fake NVIDIA GPU 1' },
});

const accel = (gpu: string) => page.locator(`[data-testid=accel-node][data-gpu="${gpu}"]`);

describe('accelerator view against stewardctl serve and stewardd on the fake NVML', () => {
  beforeAll(async () => {
    checkPrerequisites();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'steward-accel-'));
    const npu = path.join(dir, 'accelerators.json');
    writeFileSync(
      npu,
      JSON.stringify([
        {
          id: 'npu0',
          kind: 'npu',
          model: 'Hailo-8',
          memory_bytes: 1 << 30,
          precisions: ['int8'],
          peak_tflops: { int8: 26 },
        },
      ]),
    );
    agent = await startAgent(['--accelerators', npu], fakeNvmlEnv(2));
    server = await startServer();
    const res = await server.fetch('api/nodes', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ address: agent.address, token: agent.token, fingerprint: agent.fingerprint }),
    });
    expect(res.status, await res.clone().text()).toBe(201);
    nodeId = await waitFor('the agent up with a sample', async () => {
      const nodes: { id: string; address: string; latest: unknown }[] = await (await server!.fetch('api/nodes')).json();
      const n = nodes.find((x) => x.address === agent!.address);
      return n?.latest ? n.id : undefined;
    });
    // GPU 1 is held; the waiter asks for GPU 1's model and waits although GPU 0 is free.
    await waitFor('the holder running', async () => (await allocate(gpuJob('holder'))).result.state === 'running');
    expect((await allocate(gpuJob('waiter'))).result.state).toBe('pending');
    bp = await openBrowser();
    page = bp.page;
    await page.goto(new URL('#/accelerators', server.baseUrl).toString());
  });

  afterAll(async () => {
    await closeBrowser(bp);
    await server?.stop();
    await agent?.stop();
  });

  it("draws the agent's GPUs with their NVLink and live figures, and its registered NPU", async () => {
    await accel(`${nodeId}/gpu0`).waitFor({ timeout: 30_000 });
    expect(await page.locator(`[data-testid=accel-host][data-node="${nodeId}"]`).count()).toBe(1);
    // The fake's GPU 0 is 10 % busy and draws 100.5 W (rounded as the card shows it).
    await waitFor('live utilization', async () =>
      (await accel(`${nodeId}/gpu0`).locator('[data-testid=accel-live]').allTextContents()).includes('util 10 %'),
    );
    expect(await accel(`${nodeId}/gpu1`).locator('[data-testid=accel-live]').allTextContents()).toContain(
      'power 151 W',
    );
    await waitFor('the NVLink edge', async () => (await page.locator('.svelte-flow__edge').count()) === 1);
    expect(await page.locator('.svelte-flow__edge-label').allTextContents()).toEqual(['2× NVLink']);
    const npu = page.locator('[data-testid=registered-row][data-id=npu0]');
    await npu.waitFor();
    // Reported by the agent, so it is on the agent's node whatever the file said.
    expect(await npu.locator('td').allTextContents()).toEqual(
      expect.arrayContaining([nodeId, 'npu0', 'npu', 'Hailo-8', 'agent']),
    );
    expect(await page.locator(`[data-testid=accel-node][data-node="${nodeId}"][data-kind=registered]`).count()).toBe(1);
  });

  it('explains a refused drag onto a busy GPU and places the task on a free one', async () => {
    const task = page.locator('[data-testid=pending-task][data-id=waiter]');
    await task.waitFor();
    await task.dragTo(accel(`${nodeId}/gpu1`));
    const result = page.locator('[data-testid=placement-result]');
    await result.waitFor();
    expect(await result.getAttribute('data-ok')).toBe('false');
    expect(await result.textContent()).toContain(`waiter was not placed on ${nodeId}/gpu1: cannot start now`);
    await task.dragTo(accel(`${nodeId}/gpu0`));
    await waitFor('placed', async () => (await result.getAttribute('data-ok')) === 'true');
    expect(await result.textContent()).toContain(`placed on ${nodeId}/gpu0`);
    await waitFor('the waiter left the pending list', async () => (await task.count()) === 0);
    const all: { id: string; state: string; gpus: string[] }[] = await (await server!.fetch('api/allocations')).json();
    const placed = all.find((a) => a.id.startsWith('waiter-placed-'));
    expect(placed?.state).toBe('running');
    expect(placed?.gpus).toEqual([`${nodeId}/gpu0`]);
  });

  it('refuses a drag onto a software rasterizer as never offered', async () => {
    const software = page.locator('[data-testid=accel-node][data-offered=false]').first();
    if ((await software.count()) === 0) return; // no Vulkan/GL software adapter on this machine
    expect((await allocate({ ...gpuJob('second'), constraints: { gpu_model: 'none such' } })).result.success).toBe(
      false,
    );
    await allocate(gpuJob('third'));
    const task = page.locator('[data-testid=pending-task][data-id=third]');
    await task.waitFor();
    await task.dragTo(software);
    await waitFor('refusal', async () =>
      ((await page.locator('[data-testid=placement-result]').textContent()) ?? '').includes('never offered'),
    );
  });

  it('names the wrong fields of a registration and lists a good one', async () => {
    await page.click('[data-testid=register-open]');
    await page.fill('[data-testid=reg-id]', 'bad id');
    await page.fill('[data-testid=reg-model]', 'Cloud TPU v5e');
    await page.fill('[data-testid=reg-memory]', '16');
    await page.click('[data-testid=reg-submit]');
    await waitFor('field errors', async () => (await page.locator('[data-testid=reg-field-error]').count()) >= 2);
    const errs = await page
      .locator('[data-testid=reg-field-error]')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-field')));
    expect(errs).toEqual(['id', 'precisions']);
    await page.fill('[data-testid=reg-id]', 'tpu0');
    await page.check('[data-testid=reg-precision-bf16]');
    await page.fill('[data-testid=reg-health]', 'true');
    await page.click('[data-testid=reg-submit]');
    await page.locator('[data-testid=reg-done]').waitFor();
    expect(await page.locator('[data-testid=reg-done]').textContent()).toContain(
      'Registered tpu0 — health: exit status 0',
    );
    await page.locator('[data-testid=registered-row][data-id=tpu0]').waitFor();
    // The refused registration is a 400 the browser logs as a failed load; nothing else.
    expect(bp!.pageErrors.filter((e) => !/Failed to load resource/.test(e))).toEqual([]);
  });
});
