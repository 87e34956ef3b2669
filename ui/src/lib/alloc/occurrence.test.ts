import { describe, expect, it } from 'vitest';
import { asksScope, occurrenceKey, scopedChange, seriesId } from './occurrence';
import type { Reservation } from './wire';

// A daily 09:00–12:00 Berlin series that started in winter (08:00Z), and its occurrence of
// Mon 1 April 2030, after the DST change (07:00Z).
const series: Reservation = {
  id: 'd',
  name: 'standup',
  owner: 'ada',
  node: 'vm',
  gpus: ['vm/gpu0'],
  cores: 0,
  memory_bytes: 0,
  start_time: '2030-01-07T08:00:00Z',
  end_time: '2030-01-07T11:00:00Z',
  flags: { overlap: false, ignore_running: false },
  recurrence: { freq: 'daily', until: null, tz: 'Europe/Berlin' },
  occurrence_of: null,
  occurrence: null,
  exceptions: [],
};
const occ: Reservation = {
  ...series,
  id: 'd@2030-04-01T07:00:00Z',
  occurrence_of: 'd',
  occurrence: '2030-04-01T07:00:00Z',
  start_time: '2030-04-01T07:00:00Z',
  end_time: '2030-04-01T10:00:00Z',
};
// Dragged an hour later (10:00–13:00 local).
const later = { start_time: '2030-04-01T08:00:00.000Z', end_time: '2030-04-01T11:00:00.000Z' };

describe('one occurrence or the whole series', () => {
  it('asks only for occurrences of a repeating reservation', () => {
    expect(asksScope(occ)).toBe(true);
    expect(asksScope({ ...series, recurrence: null })).toBe(false);
    expect(seriesId(occ)).toBe('d');
    expect(occurrenceKey({ ...occ, start_time: '2030-04-01T12:00:00Z' })).toBe('2030-04-01T07:00:00Z');
  });
  it('moves this occurrence alone, keyed by its original start', () => {
    expect(scopedChange(occ, 'occurrence', later)).toEqual({
      id: 'd',
      occurrence: '2030-04-01T07:00:00Z',
      change: later,
    });
    // A moved occurrence keeps its key when moved again.
    const moved = { ...occ, start_time: '2030-04-01T12:00:00Z', end_time: '2030-04-01T13:00:00Z' };
    expect(scopedChange(moved, 'occurrence', later)).toMatchObject({ occurrence: '2030-04-01T07:00:00Z' });
    // Its own node and GPUs are no change; others are refused with the reason.
    expect(scopedChange(occ, 'occurrence', { ...later, node: 'vm', gpus: ['vm/gpu0'] })).toMatchObject({
      change: later,
    });
    expect(scopedChange(occ, 'occurrence', { ...later, gpus: ['vm/gpu1'] })).toMatchObject({
      error: expect.stringContaining('all occurrences'),
    });
  });
  it('shifts the series by as much as the occurrence moved, keeping wall-clock time across DST', () => {
    // +1 h on the summer occurrence = +1 h on the winter start: 10:00 local on both sides.
    expect(scopedChange(occ, 'series', later, series)).toEqual({
      id: 'd',
      occurrence: null,
      change: { start_time: '2030-01-07T09:00:00.000Z', end_time: '2030-01-07T12:00:00.000Z' },
    });
    // A resize of the end only; a move to another GPU carried as is.
    const resized = scopedChange(occ, 'series', { end_time: '2030-04-01T11:00:00.000Z', gpus: ['vm/gpu2'] }, series);
    expect(resized).toEqual({
      id: 'd',
      occurrence: null,
      change: { end_time: '2030-01-07T12:00:00.000Z', gpus: ['vm/gpu2'] },
    });
    expect(scopedChange(occ, 'series', later)).toMatchObject({ error: expect.any(String) });
  });
});
