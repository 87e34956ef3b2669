import { Channel, invoke } from '@tauri-apps/api/core';
import type { DegradationResponse } from '../bindings/DegradationResponse';
import type { EnergyResponse } from '../bindings/EnergyResponse';
import type { OutputChunk } from '../bindings/OutputChunk';
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
import { type Backend, backendError, errorMessage } from './backend';

async function call<T>(cmd: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(cmd, args);
  } catch (e) {
    throw backendError(cmd, e);
  }
}

/** Tauri IPC: commands and a `Channel<Snapshot>` for the live stream. */
export class TauriBackend implements Backend {
  readonly kind = 'tauri' as const;
  inventory(): Promise<Inventory> {
    return call('inventory');
  }
  status(): Promise<Status> {
    return call('status');
  }
  snapshot(): Promise<Snapshot | null> {
    return call('snapshot');
  }
  history(query: HistoryQuery): Promise<SeriesHistory[]> {
    return call('history', { query });
  }
  seriesNames(prefix: string): Promise<string[]> {
    return call('series_names', { prefix });
  }
  setVisible(visible: boolean): Promise<void> {
    return call('set_visible', { visible });
  }
  resources(): Promise<NodeResources[]> {
    return call('resources');
  }
  reservations(from: string, to: string): Promise<Reservation[]> {
    return call('reservations', { from, to });
  }
  allocate(request: AllocateBody): Promise<AllocateResponse> {
    return call('allocate', { request });
  }
  reservation(id: string): Promise<Reservation> {
    return call('reservation', { id });
  }
  updateReservation(id: string, change: ReservationChange, occurrence?: string | null): Promise<Reservation> {
    return call('update_reservation', { id, change, occurrence: occurrence ?? null });
  }
  deleteReservation(id: string, occurrence?: string | null): Promise<void> {
    return call('delete_reservation', { id, occurrence: occurrence ?? null });
  }
  allocations(): Promise<Allocation[]> {
    return call('allocations');
  }
  exportEnergyReport(): Promise<string | null> {
    // WebKitGTK drops blob downloads (tauri-apps/tauri#2225): the backend writes the file.
    return call('save_energy_report');
  }
  profile(request: ProfileRequest): Promise<ProfileResponse> {
    return call('profile', { request });
  }
  modules(): Promise<ModuleSpec[]> {
    return call('modules');
  }
  putModule(spec: ModuleSpec): Promise<ModuleSpec> {
    return call('put_module', { spec });
  }
  deleteModule(name: string): Promise<void> {
    return call('delete_module', { name });
  }
  profileEvents(sinceMs: number): Promise<ProfileEvent[]> {
    return call('profile_events', { sinceMs: Math.floor(sinceMs) });
  }
  startDeepProfile(module: string, request: DeepProfileRequest): Promise<DeepProfile> {
    return call('start_deep_profile', { module, request });
  }
  deepProfile(module: string): Promise<DeepProfile | null> {
    return call('deep_profile', { module });
  }
  cancelAllocation(id: string): Promise<void> {
    return call('cancel_allocation', { id });
  }
  events(kind: string | null, limit: number): Promise<StewardEvent[]> {
    return call('events', { kind, limit });
  }
  backendInfo(): Promise<BackendInfo> {
    return call('backend');
  }
  nodes(): Promise<ClusterNode[]> {
    return call('nodes');
  }
  probeNode(address: string): Promise<ProbeResult> {
    return call('probe_node', { request: { address } });
  }
  addNode(request: AddNodeRequest): Promise<void> {
    return call('add_node', { request });
  }
  removeNode(id: string): Promise<void> {
    return call('remove_node', { id });
  }
  drainNode(id: string, draining: boolean): Promise<void> {
    return call('drain_node', { id, draining });
  }
  distribute(task: Record<string, unknown>): Promise<DistributeResponse> {
    return call('distributed', { request: { operation: 'distribute', task } });
  }
  energy(request: Record<string, unknown>): Promise<EnergyResponse> {
    return call('energy', { request });
  }
  accelerators(request: Record<string, unknown>): Promise<AcceleratorsResponse> {
    return call('accelerators', { request });
  }
  executions(): Promise<Execution[]> {
    return call('executions');
  }
  async cancelExecution(id: string): Promise<void> {
    await call('cancel_execution', { id });
  }
  async partitionOutput(id: string, index: number, max: number): Promise<string> {
    const chunk = await call<OutputChunk>('partition_output', { id, index, offset: 0, max });
    return chunk.text;
  }
  datasets(): Promise<Dataset[]> {
    return call('datasets');
  }
  registerDataset(dataset: Dataset): Promise<Dataset> {
    return call('register_dataset', { dataset });
  }
  degradation(request: Record<string, unknown>): Promise<DegradationResponse> {
    return call('degradation', { request });
  }
  removeDataset(name: string): Promise<void> {
    return call('remove_dataset', { name });
  }
  exportReservations(): Promise<string | null> {
    // WebKitGTK drops blob downloads (tauri-apps/tauri#2225): the backend writes the file.
    return call('save_reservations_ics');
  }
  subscribe(onSnapshot: (s: Snapshot) => void, onError: (e: string) => void): () => void {
    let active = true;
    const channel = new Channel<Snapshot>();
    channel.onmessage = (s) => {
      if (active) onSnapshot(s);
    };
    call('subscribe', { channel }).catch((e) => {
      if (active) onError(errorMessage(e));
    });
    return () => {
      active = false;
      channel.onmessage = () => {};
    };
  }
}
