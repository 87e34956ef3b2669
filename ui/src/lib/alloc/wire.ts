// Wire types of allocation and reservations, generated from the engine's Rust types by ts-rs
// (../bindings/), plus the few shapes the server takes as free-form JSON.
import type { ReservationChange as ChangeFields } from '../bindings/ReservationChange';
import type { ReservationRequest } from '../bindings/ReservationRequest';

export type { AllocateResponse } from '../bindings/AllocateResponse';
export type { AllocateResult } from '../bindings/AllocateResult';
export type { Allocation } from '../bindings/Allocation';
export type { AllocState as AllocationState } from '../bindings/AllocState';
export type { Event as StewardEvent } from '../bindings/Event';
export type { GpuResource } from '../bindings/GpuResource';
export type { NodeResources } from '../bindings/NodeResources';
export type { Qos } from '../bindings/Qos';
export type { Recurrence } from '../bindings/Recurrence';
export type { Reservation } from '../bindings/Reservation';
export type { ReservationRequest } from '../bindings/ReservationRequest';

/** A move/resize: only the fields that change (absent = unchanged). */
export type ReservationChange = Partial<ChangeFields>;

/** The body of POST /resources/allocate. */
export type AllocateBody =
  | { allocation_type: 'reserve'; reservation_request: ReservationRequest }
  | { allocation_type: 'allocate'; allocation_request: Record<string, unknown> };
