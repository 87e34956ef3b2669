// One import point for the wire types. Everything below `bindings/` is generated from the Rust
// types by ts-rs (`cargo test -p steward-core`); never edit those by hand.
export type { Adapter } from './bindings/Adapter';
export type { CpuStats } from './bindings/CpuStats';
export type { DiskStats } from './bindings/DiskStats';
export type { GpuProcess } from './bindings/GpuProcess';
export type { GpuStats } from './bindings/GpuStats';
export type { HistoryPoint } from './bindings/HistoryPoint';
export type { HistoryQuery } from './bindings/HistoryQuery';
export type { Inventory } from './bindings/Inventory';
export type { MemoryStats } from './bindings/MemoryStats';
export type { NetStats } from './bindings/NetStats';
export type { Pressure } from './bindings/Pressure';
export type { ProcessStats } from './bindings/ProcessStats';
export type { ProcessTable } from './bindings/ProcessTable';
export type { PsiResource } from './bindings/PsiResource';
export type { RaplDomain } from './bindings/RaplDomain';
export type { Reading } from './bindings/Reading';
export type { SeriesHistory } from './bindings/SeriesHistory';
export type { Snapshot } from './bindings/Snapshot';
export type { Temperature } from './bindings/Temperature';

export type { SamplingMode } from './bindings/SamplingMode';
export type { Status } from './bindings/Status';

import type { Reading } from './bindings/Reading';

/** The value of a reading, or undefined when unavailable. */
export function valueOf<T>(r: Reading<T> | null | undefined): T | undefined {
  return r && r.status === 'available' ? r.value : undefined;
}

/** The reason a reading is unavailable, or undefined when it is available. */
export function reasonOf<T>(r: Reading<T> | null | undefined): string | undefined {
  if (!r) return 'no data yet';
  return r.status === 'unavailable' ? r.reason : undefined;
}
