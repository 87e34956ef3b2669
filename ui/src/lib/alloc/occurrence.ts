// Changing a repeating reservation, as calendar apps do: a drag, resize, edit or delete of one
// occurrence asks whether it applies to this occurrence or to all of them.
import type { Reservation, ReservationChange } from './wire';

export type Scope = 'occurrence' | 'series';

/** What to send: the series' id, the occurrence's key (its original start) when only it changes. */
export interface Target {
  id: string;
  occurrence: string | null;
  change: ReservationChange;
}

/** Whether a change to `r` must ask "this occurrence or all occurrences". */
export function asksScope(r: Reservation): boolean {
  return !!r.occurrence_of;
}

/** The series behind an occurrence, or the reservation itself. */
export function seriesId(r: Reservation): string {
  return r.occurrence_of ?? r.id;
}

/** The key of an occurrence: the start its series gives it, even after it was moved. */
export function occurrenceKey(r: Reservation): string {
  return r.occurrence ?? r.start_time;
}

const shift = (iso: string, ms: number) => new Date(Date.parse(iso) + ms).toISOString();
const sameList = (a: string[], b: string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * The request for `change` (a new window for occurrence `r`, maybe another node/GPUs) in `scope`.
 * One occurrence gets the window and keeps the series' node and GPUs. All occurrences: the series'
 * own window (`series`, as `GET /api/reservations/{id}` answers) shifts by as much as this
 * occurrence's start and end moved, so every occurrence takes the new time of day and length.
 */
export function scopedChange(
  r: Reservation,
  scope: Scope,
  change: ReservationChange,
  series?: Reservation,
): Target | { error: string } {
  const id = seriesId(r);
  const moves =
    (change.node != null && change.node !== r.node) || (change.gpus != null && !sameList(change.gpus, r.gpus));
  if (scope === 'occurrence') {
    if (moves)
      return {
        error: 'one occurrence keeps the series’ node and GPUs: choose all occurrences to move it to another row',
      };
    const window: ReservationChange = {};
    if (change.start_time) window.start_time = change.start_time;
    if (change.end_time) window.end_time = change.end_time;
    return { id, occurrence: occurrenceKey(r), change: window };
  }
  if (!series) return { error: `the series ${id} is not loaded` };
  const out: ReservationChange = {};
  const dStart = change.start_time ? Date.parse(change.start_time) - Date.parse(r.start_time) : 0;
  const dEnd = change.end_time ? Date.parse(change.end_time) - Date.parse(r.end_time) : 0;
  if (dStart) out.start_time = shift(series.start_time, dStart);
  if (dEnd) out.end_time = shift(series.end_time, dEnd);
  if (change.node != null && change.node !== r.node) out.node = change.node;
  if (change.gpus != null && !sameList(change.gpus, r.gpus)) out.gpus = [...change.gpus];
  return { id, occurrence: null, change: out };
}
