// Wire types of the cluster and of distributed executions: the node and execution views are
// generated from the Rust types by ts-rs (../bindings/).
export type { NodeHealth } from '../bindings/NodeHealth';
export type { NodeView as ClusterNode } from '../bindings/NodeView';
export type { BackendInfo } from '../bindings/BackendInfo';
export type { EngineFacts } from '../bindings/EngineFacts';
export type { ExecStatus } from '../bindings/ExecStatus';
export type { ExecutionSummary as Execution } from '../bindings/ExecutionSummary';
export type { PartState } from '../bindings/PartState';
export type { PartitionSummary as PartitionStatus } from '../bindings/PartitionSummary';
export type { AddNode as AddNodeRequest } from '../bindings/AddNode';
export type { ProbeResult } from '../bindings/ProbeResult';
export type { DistributedResponse as DistributeResponse } from '../bindings/DistributedResponse';
export type { Dataset } from '../bindings/Dataset';
