// Wire types of the cluster and of distributed executions, as the contract of issue 4 states them.
// Hand-written until the Rust side exports them through ts-rs (then these become re-exports of
// ../bindings/, like ../alloc/wire.ts).
import type { Inventory, Snapshot } from '../types';

export type NodeState = 'up' | 'suspect' | 'down' | 'draining';

/** One node as `GET /api/nodes` lists it (the local machine included, id "local"). */
export interface ClusterNode {
  id: string;
  address: string;
  name: string;
  state: NodeState;
  /** Suspicion level of the phi-accrual failure detector; null before enough heartbeats. */
  phi: number | null;
  last_heartbeat_ms: number | null;
  /** Why the node is unreachable or refused (bad token, fingerprint mismatch, ...). */
  error: string | null;
  inventory: Inventory | null;
  latest: Snapshot | null;
}

/** `POST /api/nodes/probe`: the certificate fingerprint the agent presents (null: plain text). */
export interface ProbeResult {
  fingerprint: string | null;
}

/** `POST /api/nodes`. */
export interface AddNodeRequest {
  address: string;
  token: string;
  fingerprint: string | null;
}

export interface PartitionStatus {
  index: number;
  node: string | null;
  state: string;
  progress: number;
  attempts: number;
  straggler: boolean;
  speculative: boolean;
  log_tail: string[];
  error?: string | null;
}

/** One execution as `GET /api/executions` lists it. */
export interface Execution {
  execution_id: string;
  task_id: string;
  status: string;
  progress: number;
  created_ms: number;
  finished_ms?: number | null;
  error?: string | null;
  partitions: PartitionStatus[];
}

/** The answer of `POST /resources/distributed` with operation `distribute`. */
export interface DistributeResponse {
  request_id: string;
  timestamp: string | number;
  operation: 'distribute';
  result: { task_id: string; execution_id: string; partitions: unknown; assignments: unknown };
}
