// Pure mapping between the reservation model and the calendar (@event-calendar/core resource
// timeline): rows are nodes with their GPUs/accelerators as children (and a GPU in MIG mode with
// its MIG instances as its own children); a reservation is one event
// spanning the rows of the GPUs it holds (or its node's row when it holds no GPU). Times on the
// wire are RFC 3339 UTC; the calendar works with local `Date`s, so everything crosses here.
import { formatBytes } from '../format';
import type { NodeResources, Reservation, ReservationChange, ReservationRequest } from './wire';

/** What a calendar row stands for. */
export interface Row {
  id: string;
  node: string;
  /** Set on a GPU row (and on a MIG instance row, with its GPU's index). */
  gpu?: { id: string; index: number };
  /** Set on a MIG instance row: its profile. */
  mig?: string;
  /** Set on an accelerator row. */
  accelerator?: string;
}

export interface CalendarResource {
  id: string;
  title: string;
  expanded?: boolean;
  extendedProps: { kind: 'node' | 'gpu' | 'mig' | 'accelerator' };
  children?: CalendarResource[];
}

export interface CalendarEvent {
  id: string;
  start: Date;
  end: Date;
  resourceIds: string[];
  title: string;
  editable: boolean;
  classNames: string[];
  extendedProps: { reservation: Reservation };
}

/** Node rows (expanded) with one child per GPU (a GPU in MIG mode with one child per instance)
 * and per other accelerator. */
export function resourceRows(nodes: NodeResources[]): CalendarResource[] {
  return nodes.map((n) => ({
    id: n.node,
    title: `${n.node} · ${n.cores} cores · ${formatBytes(n.memory_bytes, 1)}`,
    expanded: true,
    extendedProps: { kind: 'node' as const },
    children: [
      ...n.gpus.map((g) => ({
        id: g.id,
        title: `GPU ${g.index} · ${g.name} · ${formatBytes(g.memory_bytes, 0)}${g.mig.length ? ' · MIG mode' : ''}`,
        extendedProps: { kind: 'gpu' as const },
        ...(g.mig.length
          ? {
              expanded: true,
              children: g.mig.map((m) => ({
                id: m.id,
                title: `MIG ${m.profile} · ${formatBytes(m.memory_bytes, 1)}`,
                extendedProps: { kind: 'mig' as const },
              })),
            }
          : {}),
      })),
      ...n.accelerators.map((a) => ({
        id: a.id,
        title: `${a.kind} · ${a.name}`,
        extendedProps: { kind: 'accelerator' as const },
      })),
    ],
  }));
}

/** Row id → what it stands for. */
export function rowIndex(nodes: NodeResources[]): Map<string, Row> {
  const m = new Map<string, Row>();
  for (const n of nodes) {
    m.set(n.node, { id: n.node, node: n.node });
    for (const g of n.gpus) {
      m.set(g.id, { id: g.id, node: n.node, gpu: { id: g.id, index: g.index } });
      for (const i of g.mig) m.set(i.id, { id: i.id, node: n.node, gpu: { id: i.id, index: g.index }, mig: i.profile });
    }
    for (const a of n.accelerators) m.set(a.id, { id: a.id, node: n.node, accelerator: a.id });
  }
  return m;
}

/** The rows a reservation occupies: its GPUs, or its node when it holds none. */
export function reservationRows(r: Reservation): string[] {
  return r.gpus.length ? [...r.gpus] : [r.node];
}

/** The event id of a reservation; occurrences of one series get distinct ids (keyed by the start
 * the series gives them, so a moved occurrence keeps its id). */
export function eventId(r: Reservation): string {
  return r.occurrence_of ? `${r.occurrence_of}@${r.occurrence ?? r.start_time}` : r.id;
}

export function reservationEvents(list: Reservation[]): CalendarEvent[] {
  return list.map((r) => {
    const recurring = !!(r.occurrence_of || r.recurrence);
    return {
      id: eventId(r),
      start: new Date(r.start_time),
      end: new Date(r.end_time),
      resourceIds: reservationRows(r),
      title: `${r.name} (${r.owner})${recurring ? ' ↻' : ''}`,
      // An occurrence is dragged like any event; the view then asks: this one or all of them.
      editable: true,
      classNames: ['steward-reservation', ...(recurring ? ['recurring'] : []), ...(r.flags.overlap ? ['overlap'] : [])],
      extendedProps: { reservation: r },
    };
  });
}

/** The GPU id with the same index on another node ("<node>/gpu<index>" from the inventory). */
function sameIndexOn(nodes: NodeResources[], node: string, index: number): string | undefined {
  return nodes.find((n) => n.node === node)?.gpus.find((g) => g.index === index)?.id;
}

export type ChangeOrError = { change: ReservationChange } | { error: string };

/**
 * The change a drag-and-drop asks for. Dropping one GPU's piece on another GPU row swaps that GPU;
 * moving to another node carries every GPU to the same index there (refused when it has none).
 */
export function dropChange(
  r: Reservation,
  fromRow: string | undefined,
  toRow: string | undefined,
  start: Date,
  end: Date,
  nodes: NodeResources[],
): ChangeOrError {
  const change: ReservationChange = { start_time: start.toISOString(), end_time: end.toISOString() };
  if (!fromRow || !toRow || fromRow === toRow) return { change };
  const rows = rowIndex(nodes);
  const to = rows.get(toRow);
  if (!to) return { error: `unknown row ${toRow}` };
  if (to.accelerator) return { error: `${to.accelerator} cannot hold a GPU reservation` };
  if (to.mig && to.node !== r.node) return { error: `a MIG instance takes reservations from its own node only` };
  const indexOf = (id: string) => nodes.flatMap((n) => n.gpus).find((g) => g.id === id)?.index;
  let gpus: string[];
  if (to.gpu && to.node === r.node) {
    if (r.gpus.includes(to.gpu.id)) return { error: `${r.name} already holds ${to.gpu.id}` };
    gpus = r.gpus.length ? r.gpus.map((g) => (g === fromRow ? to.gpu!.id : g)) : [to.gpu.id];
  } else {
    // Another node: the same GPU indices there, the dragged piece landing on the target GPU.
    gpus = [];
    for (const g of r.gpus) {
      const idx = g === fromRow && to.gpu ? to.gpu.index : indexOf(g);
      const there = idx === undefined ? undefined : sameIndexOn(nodes, to.node, idx);
      if (!there) return { error: `${to.node} has no GPU ${idx ?? g} to take ${g}` };
      gpus.push(there);
    }
    if (!r.gpus.length && to.gpu) gpus = [to.gpu.id];
    if (new Set(gpus).size !== gpus.length) return { error: `${r.name} would hold the same GPU twice on ${to.node}` };
  }
  if (to.node !== r.node) change.node = to.node;
  if (gpus.join() !== r.gpus.join()) change.gpus = gpus;
  return { change };
}

/** What the reservation form edits; times are the `<input type="datetime-local">` strings. */
export interface Draft {
  name: string;
  owner: string;
  node: string;
  gpus: string[];
  cores: number;
  memory_gib: number;
  start: string;
  end: string;
  overlap: boolean;
  ignore_running: boolean;
  repeat: 'none' | 'daily' | 'weekly';
  until: string;
}

/** The form, prefilled from a drag over a row (or empty for precise entry). */
export function draftFor(row: Row | undefined, start: Date, end: Date, owner = ''): Draft {
  return {
    name: '',
    owner,
    node: row?.node ?? '',
    gpus: row?.gpu ? [row.gpu.id] : [],
    cores: 0,
    memory_gib: 0,
    start: toLocalInput(start),
    end: toLocalInput(end),
    overlap: false,
    ignore_running: false,
    repeat: 'none',
    until: '',
  };
}

/** `YYYY-MM-DDTHH:MM` in local time, the value an `<input type="datetime-local">` takes. */
export function toLocalInput(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** A form time ("2030-01-02 09:30", 24-hour local wall time, or with a "T" as datetime-local
 * writes it) → RFC 3339 UTC, or null when it is not a date. */
export function fromLocalInput(v: string): string | null {
  const m = v.trim().match(/^(\d{4})-(\d{2})-(\d{2})[T ](\d{1,2}):(\d{2})(?::(\d{2}))?$/);
  if (!m) return null;
  const d = new Date(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +(m[6] ?? 0));
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

/** The IANA zone of this UI: recurring reservations keep their wall-clock time in it. */
export function localZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

/** The reservation request a draft stands for, or the problems that keep it from being one. */
export function draftRequest(d: Draft, tz = localZone()): { request: ReservationRequest } | { errors: string[] } {
  const errors: string[] = [];
  const start = fromLocalInput(d.start);
  const end = fromLocalInput(d.end);
  if (!d.name.trim()) errors.push('name: required');
  if (!d.owner.trim()) errors.push('owner: required');
  if (!d.node) errors.push('node: choose one');
  if (!start) errors.push('start: not a date');
  if (!end) errors.push('end: not a date');
  if (start && end && end <= start) errors.push('end: must be after start');
  if (!d.gpus.length && !(d.cores > 0) && !(d.memory_gib > 0))
    errors.push('resources: reserve at least one GPU, core or byte');
  if (d.cores < 0 || !Number.isInteger(d.cores)) errors.push('cores: a whole number ≥ 0');
  if (!(d.memory_gib >= 0)) errors.push('memory: ≥ 0');
  const until = d.until ? fromLocalInput(d.until) : null;
  if (d.repeat !== 'none' && d.until && !until) errors.push('until: not a date');
  if (errors.length) return { errors };
  return {
    request: {
      id: null,
      name: d.name.trim(),
      owner: d.owner.trim(),
      node: d.node,
      gpus: [...d.gpus],
      cores: d.cores,
      memory_bytes: Math.round(d.memory_gib * 1024 ** 3),
      start_time: start!,
      end_time: end!,
      flags: { overlap: d.overlap, ignore_running: d.ignore_running },
      recurrence: d.repeat === 'none' ? null : { freq: d.repeat, until: until, tz },
    },
  };
}

/** "Tue 09:00–12:00" style local range for messages and tooltips. */
export function formatLocalRange(startIso: string, endIso: string, locale?: string): string {
  const s = new Date(startIso);
  const e = new Date(endIso);
  const day = new Intl.DateTimeFormat(locale, { weekday: 'short', month: 'short', day: 'numeric' });
  const time = new Intl.DateTimeFormat(locale, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  const sameDay = s.toDateString() === e.toDateString();
  return sameDay
    ? `${day.format(s)} ${time.format(s)}–${time.format(e)}`
    : `${day.format(s)} ${time.format(s)} – ${day.format(e)} ${time.format(e)}`;
}

/** A fresh idempotency key (randomUUID needs a secure context; loopback and Tauri are ones). */
export function requestId(): string {
  const c = globalThis.crypto;
  if (c && typeof c.randomUUID === 'function') return c.randomUUID();
  return `ui-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
}

const RFC3339 = /\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})/g;

/** Server messages carry RFC 3339 instants; show them in local time like the calendar does. */
export function localizeTimes(msg: string, locale?: string): string {
  const fmt = new Intl.DateTimeFormat(locale, {
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  });
  return msg.replace(RFC3339, (iso) => {
    const t = Date.parse(iso);
    return Number.isNaN(t) ? iso : fmt.format(t);
  });
}

const UUID =
  /\b(?:(allocation|reservation)\s+)?"?([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})(?:@\S+?)?"?(?=[\s,.;:)]|$)/gi;

/** A server message in words: no request path in front, ids shown as the names they stand for
 * (`names`: id → name), unknown ones as "an allocation"/"a reservation", times local. */
export function inWords(msg: string, names: Map<string, string> = new Map(), locale?: string): string {
  const bare = msg.replace(/^(?:[A-Z]+ )?\/?api\/\S*?:\s*/, '');
  const named = bare.replace(UUID, (_all, kind: string | undefined, id: string) => {
    const name = names.get(id.toLowerCase());
    if (name) return `${kind ? `${kind} ` : ''}"${name}"`;
    if (kind?.toLowerCase() === 'allocation') return 'an allocation';
    return kind ? 'a reservation' : 'another one';
  });
  return localizeTimes(named, locale);
}
