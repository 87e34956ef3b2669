import { describe, expect, it } from 'vitest';
import { usableLocale } from './locale';

describe('usableLocale', () => {
  it('keeps valid tags and replaces the POSIX "C" locale', () => {
    expect(usableLocale('de-DE')).toBe('de-DE');
    expect(usableLocale('C')).toBe('en-US');
    expect(usableLocale('')).toBe('en-US');
    expect(usableLocale(undefined)).toBe('en-US');
  });
});
