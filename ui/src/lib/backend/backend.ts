import type {
  AllocateBody,
  AllocateResponse,
  Allocation,
  NodeResources,
  Reservation,
  ReservationChange,
  StewardEvent,
} from '../alloc/wire';
import type { HistoryQuery, Inventory, SeriesHistory, Snapshot, Status } from '../types';
import type {
  DeepProfile,
  DeepProfileRequest,
  ModuleSpec,
  ProfileEvent,
  ProfileRequest,
  ProfileResponse,
} from '../profile/types';
import type { DegradationResponse } from '../bindings/DegradationResponse';
import type { EnergyResponse } from '../bindings/EnergyResponse';
import type { ErrorBody } from '../bindings/ErrorBody';
import type { ErrorKind } from '../bindings/ErrorKind';
import type { FieldError } from '../bindings/FieldError';
import type {
  AddNodeRequest,
  BackendInfo,
  ClusterNode,
  Dataset,
  DistributeResponse,
  Execution,
  ProbeResult,
} from '../cluster/types';
import type { AcceleratorsResponse } from '../accel/types';

/** The one interface the UI talks to; implemented over Tauri IPC and over HTTP + WebSocket. */
export interface Backend {
  readonly kind: 'tauri' | 'http';
  inventory(): Promise<Inventory>;
  status(): Promise<Status>;
  /** The latest snapshot, or null when none has been taken yet. */
  snapshot(): Promise<Snapshot | null>;
  history(q: HistoryQuery): Promise<SeriesHistory[]>;
  seriesNames(prefix: string): Promise<string[]>;
  setVisible(visible: boolean): Promise<void>;
  /** Live snapshots; `onError` reports stream trouble (e.g. a disconnection). Returns unsubscribe. */
  subscribe(onSnapshot: (s: Snapshot) => void, onError: (e: string) => void): () => void;

  // Allocation and reservations (issue 3).
  /** Nodes and their GPUs/accelerators: the calendar's rows. */
  resources(): Promise<NodeResources[]>;
  /** Reservations overlapping [from, to) (RFC 3339); recurring ones expanded into occurrences. */
  reservations(from: string, to: string): Promise<Reservation[]>;
  /** POST /resources/allocate. A refusal is a 200 with `result.success === false`, not a throw. */
  allocate(request: AllocateBody): Promise<AllocateResponse>;
  /** The series behind an id or occurrence id, as stored (with its changed occurrences). */
  reservation(id: string): Promise<Reservation>;
  /** Move/resize; rejects with the server's reason (409) when the change breaks a rule.
   * `occurrence` (an occurrence's original start): only that occurrence of a repeating series. */
  updateReservation(id: string, change: ReservationChange, occurrence?: string | null): Promise<Reservation>;
  /** Deletes a reservation, or with `occurrence` only that occurrence of its series. */
  deleteReservation(id: string, occurrence?: string | null): Promise<void>;
  allocations(): Promise<Allocation[]>;
  cancelAllocation(id: string): Promise<void>;
  events(kind: string | null, limit: number): Promise<StewardEvent[]>;
  /** Saves every reservation as an iCalendar file where the user finds it: a browser download
   * (answers null), or in the desktop app a file in the Downloads folder (answers its path). */
  exportReservations(): Promise<string | null>;

  // Profiling (issue 5).
  /** The energy report (SVG): downloaded in a browser (null), saved to Downloads by the app (its path). */
  exportEnergyReport(): Promise<string | null>;
  /** POST /resources/profile: bottlenecks, forecasts and suggestions for the node or a module. */
  profile(request: ProfileRequest): Promise<ProfileResponse>;
  modules(): Promise<ModuleSpec[]>;
  /** Creates or replaces a module; rejects with the server's reason (400) when it is invalid. */
  putModule(spec: ModuleSpec): Promise<ModuleSpec>;
  deleteModule(name: string): Promise<void>;
  /** Bottleneck findings that started or ended since `sinceMs`, oldest first. */
  profileEvents(sinceMs: number): Promise<ProfileEvent[]>;
  /** Starts a time-limited, higher-rate, per-thread profile of one module; it ends by itself. */
  startDeepProfile(module: string, request: DeepProfileRequest): Promise<DeepProfile>;
  /** The module's latest deep profile, running (with its remaining time) or finished; null if none. */
  deepProfile(module: string): Promise<DeepProfile | null>;

  // Cluster and distributed execution (issue 4).
  /** Which engine the control center drives (`native` or `slurm`) and how each operation is done. */
  backendInfo(): Promise<BackendInfo>;
  /** Every node (the local one included, id "local") with its state and latest metrics. */
  nodes(): Promise<ClusterNode[]>;
  /** The certificate fingerprint an agent presents, for the user to confirm before adding it. */
  probeNode(address: string): Promise<ProbeResult>;
  /** Rejects with the server's reason (a refused token or fingerprint) so the user sees it. */
  addNode(request: AddNodeRequest): Promise<void>;
  removeNode(id: string): Promise<void>;
  /** Drains a node (no new work; running work finishes), or with `draining` false takes it back. */
  drainNode(id: string, draining: boolean): Promise<void>;
  executions(): Promise<Execution[]>;
  /** Cancels an execution's running partitions. */
  cancelExecution(id: string): Promise<void>;
  /** The first `max` bytes of a succeeded partition's whole output (past its output limits, from
   *  the spill file), as text: bytes that are not UTF-8 show as U+FFFD. */
  partitionOutput(id: string, index: number, max: number): Promise<string>;
  /** POST /resources/distributed, operation `distribute`; rejects with the server's reason (400). */
  distribute(task: Record<string, unknown>): Promise<DistributeResponse>;
  /** Datasets registered with the nodes holding a copy (placement prefers those), by name. */
  datasets(): Promise<Dataset[]>;
  /** Registers a dataset or replaces one of the same name; rejects with the server's reason (400). */
  registerDataset(dataset: Dataset): Promise<Dataset>;
  removeDataset(name: string): Promise<void>;

  // Graceful degradation (issue 15).
  /** POST /resources/degradation with `request` as the envelope (`operation` status | set_policy |
   *  override | release_override | history); rejects with the server's reason (400, 404). */
  degradation(request: Record<string, unknown>): Promise<DegradationResponse>;
  // Energy (issue 14).
  /** POST /resources/energy: `monitor` (watts and joules by node and source with provenance),
   *  `plan`, `apply`, `rollback`, `journal`; rejects with the server's reason. */
  energy(request: Record<string, unknown>): Promise<EnergyResponse>;
  // Accelerators (issue 16).
  /** POST /resources/accelerators: `list`, `register`, `characterize` or `place`; rejects with
   *  the server's reason and per-field errors (400), or 404 for an unknown node or adapter. A
   *  refused placement is a 200 with `result.success === false`, not a throw. */
  accelerators(request: Record<string, unknown>): Promise<AcceleratorsResponse>;
}

/** An error whose message is fit to show the user; `kind` and `fields` come from the one error
 * shape both front doors answer with (`{kind, message, fields?}`), whichever backend runs. */
export class BackendError extends Error {
  constructor(
    message: string,
    public readonly status?: number,
    public readonly kind?: ErrorKind,
    public readonly fields: FieldError[] = [],
  ) {
    super(message);
    this.name = 'BackendError';
  }
}

/** True for the server's error shape `{kind, message, fields?}`. */
export function isErrorBody(x: unknown): x is ErrorBody {
  return (
    !!x &&
    typeof x === 'object' &&
    typeof (x as ErrorBody).kind === 'string' &&
    typeof (x as ErrorBody).message === 'string'
  );
}

/** The BackendError for what a call failed with: an ErrorBody keeps its kind and fields. */
export function backendError(what: string, e: unknown, status?: number): BackendError {
  if (isErrorBody(e)) return new BackendError(`${what}: ${e.message}`, status, e.kind, e.fields ?? []);
  return new BackendError(`${what}: ${errorMessage(e)}`, status);
}

/** A failed call as the lines a form lists: one per wrong field (`prefix` taken off), or its
 * message when it names no field. */
export function errorLines(e: unknown, prefix = ''): string[] {
  const fields = e instanceof BackendError ? e.fields : isErrorBody(e) ? (e.fields ?? []) : [];
  if (fields.length === 0) return [errorMessage(e)];
  return fields.map((f) => {
    const path = f.field.startsWith(prefix) ? f.field.slice(prefix.length) : f.field;
    return path ? `${path}: ${f.message}` : f.message;
  });
}

/**
 * Per-field messages of a failed call for a form: field → message, keyed by the field's
 * top name (`nodes[3]` and `nodes` both under `nodes`; several joined). `prefix` (e.g.
 * `allocation_request.`) is taken off first.
 */
export function fieldErrors(e: unknown, prefix = ''): Record<string, string> {
  const fields = e instanceof BackendError ? e.fields : isErrorBody(e) ? (e.fields ?? []) : [];
  const out: Record<string, string> = {};
  for (const f of fields) {
    const path = f.field.startsWith(prefix) ? f.field.slice(prefix.length) : f.field;
    const key = path.split(/[.[]/)[0];
    const said = path === key ? f.message : `${path}: ${f.message}`;
    out[key] = out[key] ? `${out[key]}; ${said}` : said;
  }
  return out;
}

/**
 * Per-field validation errors (a 400's `errors`) as one line. Accepts a list of strings or of
 * `{ field, message }`, or a map field → message(s).
 */
export function describeFieldErrors(errors: unknown): string {
  const one = (x: unknown): string => {
    if (typeof x === 'string') return x;
    if (x && typeof x === 'object') {
      const o = x as Record<string, unknown>;
      const msg = o.message ?? o.error ?? o.reason;
      if (typeof o.field === 'string' && msg !== undefined) return `${o.field}: ${one(msg)}`;
      if (msg !== undefined) return one(msg);
    }
    return JSON.stringify(x);
  };
  if (Array.isArray(errors)) return errors.map(one).join('; ');
  if (errors && typeof errors === 'object')
    return Object.entries(errors as Record<string, unknown>)
      .map(([k, v]) => `${k}: ${Array.isArray(v) ? v.map(one).join(', ') : one(v)}`)
      .join('; ');
  return one(errors);
}

export function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message;
  if (typeof e === 'string') return e;
  if (isErrorBody(e)) return e.message;
  // A 400's `error` already sums up its per-field `errors`; describe those only when it is absent.
  if (e && typeof e === 'object' && 'errors' in e && !('error' in e))
    return describeFieldErrors((e as { errors: unknown }).errors);
  if (e && typeof e === 'object' && 'error' in e && typeof (e as { error: unknown }).error === 'string')
    return (e as { error: string }).error;
  try {
    return JSON.stringify(e);
  } catch {
    return String(e);
  }
}
