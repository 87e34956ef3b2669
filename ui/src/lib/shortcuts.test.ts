import { describe, expect, it } from 'vitest';
import { shortcutFor, viewKeyLabel } from './shortcuts';

const key = (k: string, extra: Partial<{ altKey: boolean; ctrlKey: boolean; target: unknown }> = {}) =>
  ({
    key: k,
    altKey: false,
    ctrlKey: false,
    metaKey: false,
    target: null as EventTarget | null,
    ...extra,
  }) as Parameters<typeof shortcutFor>[0];

describe('shortcutFor', () => {
  it('maps Alt+digits to views, Alt+0 to the tenth', () => {
    expect(shortcutFor(key('1', { altKey: true }), 10)).toEqual({ kind: 'view', index: 0 });
    expect(shortcutFor(key('0', { altKey: true }), 10)).toEqual({ kind: 'view', index: 9 });
  });
  it('ignores a digit past the last view', () => expect(shortcutFor(key('9', { altKey: true }), 3)).toBeNull());
  it('opens the key list on ?', () => expect(shortcutFor(key('?'), 10)).toEqual({ kind: 'help' }));
  it('never fires while typing in a field', () => {
    expect(shortcutFor(key('?', { target: { tagName: 'INPUT' } }), 10)).toBeNull();
    expect(shortcutFor(key('1', { altKey: true, target: { tagName: 'SELECT' } }), 10)).toBeNull();
  });
  it('leaves browser chords alone', () => expect(shortcutFor(key('1', { ctrlKey: true }), 10)).toBeNull());
});

describe('viewKeyLabel', () => {
  it('labels the first ten views', () => {
    expect(viewKeyLabel(0)).toBe('Alt+1');
    expect(viewKeyLabel(9)).toBe('Alt+0');
    expect(viewKeyLabel(10)).toBeUndefined();
  });
});
