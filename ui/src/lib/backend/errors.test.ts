// Both backends surface the server's one error shape the same way: kind, message and every
// wrong field, so a form shows per-field errors whichever backend the UI runs on.
import { describe, expect, it, vi } from 'vitest';
import type { ErrorBody } from '../bindings/ErrorBody';
import { BackendError, errorLines, fieldErrors } from './backend';
import { HttpBackend } from './http';

const refusal: ErrorBody = {
  kind: 'invalid_request',
  message:
    'invalid request: bytes: must be a whole number from 0 to 18446744073709551615 (got -1); nodes[1]: "x" is not a node of this cluster',
  fields: [
    { field: 'bytes', message: 'must be a whole number from 0 to 18446744073709551615 (got -1)' },
    { field: 'nodes[1]', message: '"x" is not a node of this cluster' },
  ],
};

const invoke = vi.fn();
vi.mock('@tauri-apps/api/core', () => ({ invoke: (...args: unknown[]) => invoke(...args), Channel: class {} }));

async function viaHttp(): Promise<BackendError> {
  const f = (async () => Response.json(refusal, { status: 400 })) as unknown as typeof fetch;
  return new HttpBackend('http://h/', f).registerDataset({ name: 'd', bytes: -1, nodes: ['a', 'x'] }).catch((e) => e);
}

async function viaTauri(): Promise<BackendError> {
  const { TauriBackend } = await import('./tauri');
  invoke.mockRejectedValueOnce(refusal);
  return new TauriBackend().registerDataset({ name: 'd', bytes: -1, nodes: ['a', 'x'] }).catch((e) => e);
}

describe('the one error shape', () => {
  it('keeps kind and fields on both backends', async () => {
    for (const err of [await viaHttp(), await viaTauri()]) {
      expect(err).toBeInstanceOf(BackendError);
      expect(err.kind).toBe('invalid_request');
      expect(err.fields).toEqual(refusal.fields);
      expect(err.message).toContain('nodes[1]: "x" is not a node of this cluster');
    }
    expect((await viaHttp()).status).toBe(400);
  });
  it('gives a form one message per field, whichever backend answered', async () => {
    const expected = {
      bytes: 'must be a whole number from 0 to 18446744073709551615 (got -1)',
      nodes: 'nodes[1]: "x" is not a node of this cluster',
    };
    expect(fieldErrors(await viaHttp())).toEqual(expected);
    expect(fieldErrors(await viaTauri())).toEqual(expected);
  });
  it('lists one line per wrong field for the forms that list errors', async () => {
    const lines = [
      'bytes: must be a whole number from 0 to 18446744073709551615 (got -1)',
      'nodes[1]: "x" is not a node of this cluster',
    ];
    expect(errorLines(await viaHttp())).toEqual(lines);
    expect(errorLines(await viaTauri())).toEqual(lines);
    expect(errorLines(new BackendError('allocate: refused', 409, 'conflict'))).toEqual(['allocate: refused']);
  });
  it('takes a prefix off and joins several errors of one field', () => {
    const e = new BackendError('x', 400, 'invalid_request', [
      { field: 'allocation_request.owner', message: 'must not be empty' },
      { field: 'allocation_request.resources.gpus', message: 'too many' },
      { field: 'allocation_request.resources.cores', message: 'too few' },
    ]);
    expect(fieldErrors(e, 'allocation_request.')).toEqual({
      owner: 'must not be empty',
      resources: 'resources.gpus: too many; resources.cores: too few',
    });
  });
});
