// Wire types of allocation/reservation (issue 3). Hand-declared from the contract with the engine
// side until its ts-rs bindings land in ../bindings/; then these become re-exports of those.

export interface GpuResource {
  /** "<node>/gpu<index>" */
  id: string;
  index: number;
  name: string;
  memory_bytes: number;
}

export interface AcceleratorResource {
  id: string;
  name?: string;
  kind?: string;
  [k: string]: unknown;
}

export interface NodeResources {
  node: string;
  cores: number;
  memory_bytes: number;
  labels: Record<string, string>;
  gpus: GpuResource[];
  accelerators: AcceleratorResource[];
}

export interface ReservationFlags {
  overlap: boolean;
  ignore_running: boolean;
}

export interface Recurrence {
  freq: 'daily' | 'weekly';
  until?: string | null;
  tz: string;
}

export interface Reservation {
  id: string;
  name: string;
  owner: string;
  node: string;
  gpus: string[];
  cores: number;
  memory_bytes: number;
  /** RFC 3339 UTC */
  start_time: string;
  end_time: string;
  flags: ReservationFlags;
  recurrence: Recurrence | null;
  /** Set on an expanded occurrence of a recurring reservation: the series' id. */
  occurrence_of?: string | null;
}

export interface ReservationChange {
  start_time?: string;
  end_time?: string;
  node?: string;
  gpus?: string[];
}

export type AllocationState = 'running' | 'pending' | 'preempted' | 'suspended' | 'finished' | 'cancelled';
export type Qos = 'guaranteed' | 'burstable' | 'best_effort';

export interface Allocation {
  id: string;
  owner: string;
  state: AllocationState;
  pending_reason: string | null;
  priority: number;
  priority_class: string;
  qos: Qos;
  node: string | null;
  gpus: string[];
  cores: number;
  memory_bytes: number;
  start_time: string | null;
  end_time: string | null;
  reservation: string | null;
  submitted_time: string;
  /** Set while it runs out its grace period after being chosen as a preemption victim. */
  preemption?: { by: string; at: string; reason: string } | null;
  /** How often it has been preempted. */
  preemptions?: number;
}

export interface StewardEvent {
  id: number;
  time: string;
  kind: string;
  subject: string;
  message: string;
  details: Record<string, string>;
}

/** The reservation part of POST /resources/allocate (allocation_type "reserve"). */
export interface ReservationRequest {
  /** Idempotency key: a retry with the same id returns the original result. */
  id?: string | null;
  name?: string | null;
  owner: string;
  node: string;
  gpus: string[];
  cores: number;
  memory_bytes: number;
  start_time: string;
  end_time: string;
  flags: ReservationFlags;
  recurrence: Recurrence | null;
}

/** The body of POST /resources/allocate. */
export type AllocateBody =
  | { allocation_type: 'reserve'; reservation_request: ReservationRequest }
  | { allocation_type: 'allocate'; allocation_request: Record<string, unknown> };

export type AllocateResult =
  | {
      success: true;
      allocation_id?: string;
      reservation_id?: string;
      allocated_resources?: unknown;
      reserved_resources?: unknown;
      start_time: string;
      end_time: string | null;
    }
  | { success: false; error: string; availability?: unknown };

export interface AllocateResponse {
  request_id: string;
  timestamp: string;
  allocation_type: 'allocate' | 'reserve';
  result: AllocateResult;
}
