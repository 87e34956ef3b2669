import { describe, expect, it } from 'vitest';
import { AppState } from './app.svelte';
import type { Backend } from './backend';
import type { Status } from './types';

const status = { node: 'vm', sampling: { mode: 'active', interval_ms: 1000 } } as unknown as Status;

describe('AppState', () => {
  it('stops showing the last status as current once the server cannot be reached', async () => {
    let up = true;
    const backend = {
      status: () => (up ? Promise.resolve(status) : Promise.reject(new Error('Failed to fetch'))),
    } as unknown as Backend;
    const app = new AppState(backend);
    await app.refreshStatus();
    expect(app.status?.sampling.mode).toBe('active');
    up = false;
    await app.refreshStatus();
    expect(app.status).toBeNull();
    expect(app.statusError).toBe('Failed to fetch');
  });
});
