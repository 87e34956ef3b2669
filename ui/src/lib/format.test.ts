import { describe, expect, it } from 'vitest';
import {
  DASH,
  formatAge,
  formatBytes,
  formatClock,
  formatCount,
  formatDateTime,
  formatDuration,
  formatEnergy,
  formatMHz,
  formatPct,
  formatRate,
  formatUnit,
  formatWatts,
} from './format';

describe('format', () => {
  it('formats bytes in binary units', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1023)).toBe('1023 B');
    expect(formatBytes(1024)).toBe('1.00 KiB');
    expect(formatBytes(1536)).toBe('1.50 KiB');
    expect(formatBytes(16 * 1024 ** 3)).toBe('16.0 GiB');
    expect(formatBytes(512 * 1024 ** 2)).toBe('512 MiB');
    expect(formatBytes(-2048)).toBe('-2.00 KiB');
  });
  it('formats rates in decimal units per second', () => {
    expect(formatRate(999)).toBe('999 B/s');
    expect(formatRate(2_500_000)).toBe('2.50 MB/s');
    expect(formatRate(1_000)).toBe('1.00 kB/s');
    expect(formatRate(3.2e9)).toBe('3.20 GB/s');
  });
  it('never invents numbers for missing values', () => {
    for (const f of [formatBytes, formatRate, formatPct, formatWatts, formatMHz, formatCount, formatClock]) {
      expect(f(null)).toBe(DASH);
      expect(f(undefined)).toBe(DASH);
      expect(f(NaN)).toBe(DASH);
    }
    expect(formatUnit('rate', null)).toBe(DASH);
  });
  it('formats percent, watts, energy, frequency', () => {
    expect(formatPct(12.345)).toBe('12.3 %');
    expect(formatPct(100)).toBe('100.0 %');
    expect(formatWatts(45.678)).toBe('45.7 W');
    expect(formatWatts(1234)).toBe('1.23 kW');
    expect(formatEnergy(12)).toBe('12.0 J');
    expect(formatEnergy(7200)).toBe('2.00 Wh');
    expect(formatEnergy(3_600_000)).toBe('1.00 kWh');
    expect(formatMHz(800)).toBe('800 MHz');
    expect(formatMHz(2400)).toBe('2.40 GHz');
  });
  it('formats durations and ages', () => {
    expect(formatDuration(250)).toBe('250 ms');
    expect(formatDuration(1500)).toBe('1.5 s');
    expect(formatDuration(2000)).toBe('2 s');
    expect(formatDuration(90_000)).toBe('1 min 30 s');
    expect(formatDuration(120_000)).toBe('2 min');
    expect(formatDuration(3_700_000)).toBe('1 h 1 min');
    expect(formatDuration(2 * 86_400_000 + 3_600_000)).toBe('2 d 1 h');
    expect(formatAge(1000, 1500)).toBe('just now');
    expect(formatAge(1000, 4200)).toBe('3 s ago');
  });
  it('formats counts and local times', () => {
    expect(formatCount(1234567)).toBe('1,234,567');
    const ts = new Date(2024, 4, 1, 14, 3, 7).getTime(); // local time
    expect(formatClock(ts)).toBe('14:03:07');
    expect(formatDateTime(ts)).toBe('2024-05-01 14:03:07');
  });
});

import { timeTicks } from './format';
describe('timeTicks', () => {
  const t = (h: number, m: number, s = 0, day = 1) => new Date(2024, 4, day, h, m, s).getTime() / 1000;
  it('picks the detail from the span', () => {
    expect(timeTicks([t(9, 0, 0), t(9, 0, 30)])).toEqual(['09:00:00', '09:00:30']);
    expect(timeTicks([t(9, 0), t(10, 0)])).toEqual(['09:00', '10:00']);
    expect(timeTicks([t(9, 0, 0, 1), t(9, 0, 0, 5)])).toEqual(['05-01 09:00', '05-05 09:00']);
    expect(timeTicks([])).toEqual([]);
  });
});
