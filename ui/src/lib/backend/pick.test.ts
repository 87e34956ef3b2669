import { describe, expect, it } from 'vitest';
import { pickBackend } from './index';

const win = (href: string, extra: object = {}) => ({ location: { href }, ...extra }) as unknown as Window;

describe('pickBackend', () => {
  it('uses Tauri IPC inside the desktop shell', () => {
    expect(pickBackend(win('tauri://localhost/', { __TAURI_INTERNALS__: {} })).kind).toBe('tauri');
  });
  it('uses HTTP against the page origin otherwise', () => {
    expect(pickBackend(win('http://127.0.0.1:7878/')).kind).toBe('http');
  });
});
