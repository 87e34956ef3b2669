// Wire types of the cluster and of distributed executions: the node and execution views are
// generated from the Rust types by ts-rs (../bindings/); the rest is as the api crate states it.
export type { NodeState } from '../bindings/NodeState';
export type { NodeView as ClusterNode } from '../bindings/NodeView';
export type { ExecStatus } from '../bindings/ExecStatus';
export type { ExecutionSummary as Execution } from '../bindings/ExecutionSummary';
export type { PartState } from '../bindings/PartState';
export type { PartitionSummary as PartitionStatus } from '../bindings/PartitionSummary';

/** `POST /api/nodes/probe`: the certificate fingerprint the agent presents (`sha256:…`). */
export interface ProbeResult {
  address: string;
  fingerprint: string;
}

/** `POST /api/nodes`: the fingerprint the user confirmed (omitted only for a plain-text
 *  agent on loopback). */
export interface AddNodeRequest {
  address: string;
  token: string;
  fingerprint?: string;
}

/** The answer of `POST /resources/distributed` with operation `distribute`. */
export interface DistributeResponse {
  request_id: string;
  timestamp: string | number;
  operation: 'distribute';
  result: { task_id: string; execution_id: string; partitions: unknown; assignments: unknown };
}
