import type { DegradationResponse } from '../bindings/DegradationResponse';
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
import { backoffMs } from '../backoff';
import type { EnergyResponse } from '../bindings/EnergyResponse';
import { type Backend, BackendError, backendError, errorMessage, isErrorBody } from './backend';

/** Turn a non-2xx response into a BackendError carrying the server's `{kind, message, fields?}`. */
export async function responseError(res: Response, what: string): Promise<BackendError> {
  let text = '';
  try {
    text = await res.text();
    const body = JSON.parse(text);
    if (isErrorBody(body)) return backendError(what, body, res.status);
  } catch {
    /* not JSON: the text itself, below */
  }
  const msg = text.trim().slice(0, 300);
  return new BackendError(`${what}: ${msg || `HTTP ${res.status} ${res.statusText}`.trim()}`, res.status);
}

/** ws(s)://host/base/api/live from an http(s) page URL. */
export function liveUrl(base: string): string {
  const u = new URL('api/live', base);
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  return u.toString();
}

type FetchFn = typeof fetch;

/** `api/reservations/{id}`, with `?occurrence=` when only one occurrence is meant. */
function reservationPath(id: string, occurrence?: string | null): string {
  const path = `api/reservations/${encodeURIComponent(id)}`;
  return occurrence ? `${path}?occurrence=${encodeURIComponent(occurrence)}` : path;
}

/** Hands `blob` to the browser as a download named `name` (a click on a temporary link). */
export function downloadBlob(blob: Blob, name: string, doc: Pick<Document, 'createElement' | 'body'> = document): void {
  const url = URL.createObjectURL(blob);
  const a = doc.createElement('a');
  a.href = url;
  a.download = name;
  doc.body.append(a);
  a.click();
  a.remove();
  // The download has its own reference once started; give it a moment before letting go.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Tells the server over a live feed whether this tab can be seen (sent once the socket is open). */
function sendVisibility(ws: WebSocket, visible: boolean) {
  if (ws.readyState === 1) ws.send(JSON.stringify({ visible }));
}

export class HttpBackend implements Backend {
  readonly kind = 'http' as const;
  private visible = true;
  private readonly sockets = new Set<WebSocket>();
  /** `base` is the directory the app is served from (ends with '/'). */
  constructor(
    private readonly base: string,
    private readonly fetchFn: FetchFn = (...a) => fetch(...a),
    private readonly wsCtor: typeof WebSocket = globalThis.WebSocket,
  ) {}

  private url(path: string): string {
    return new URL(path, this.base).toString();
  }

  private async request(path: string, init?: RequestInit): Promise<Response> {
    let res: Response;
    try {
      res = await this.fetchFn(this.url(path), init);
    } catch (e) {
      throw new BackendError(`${path}: cannot reach the Steward server (${(e as Error).message ?? e})`);
    }
    if (!res.ok) throw await responseError(res, path);
    return res;
  }

  private async json<T>(path: string, init?: RequestInit): Promise<T> {
    const res = await this.request(path, init);
    return (await res.json()) as T;
  }

  private send<T>(path: string, method: string, body: unknown): Promise<T> {
    return this.json(path, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  }

  inventory(): Promise<Inventory> {
    return this.json('api/inventory');
  }
  status(): Promise<Status> {
    return this.json('api/status');
  }
  async snapshot(): Promise<Snapshot | null> {
    const res = await this.request('api/snapshot');
    if (res.status === 204) return null;
    const text = await res.text();
    return text ? (JSON.parse(text) as Snapshot) : null;
  }
  history(q: HistoryQuery): Promise<SeriesHistory[]> {
    return this.json('api/history', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(q),
    });
  }
  seriesNames(prefix: string): Promise<string[]> {
    return this.json(`api/series?prefix=${encodeURIComponent(prefix)}`);
  }
  /** Said on this tab's own live feed (and again after a reconnect): the server slows sampling
   *  only when every tab is hidden, so a tab closing never slows another one. */
  async setVisible(visible: boolean): Promise<void> {
    this.visible = visible;
    for (const ws of this.sockets) sendVisibility(ws, visible);
  }

  resources(): Promise<NodeResources[]> {
    return this.json('api/resources');
  }
  reservations(from: string, to: string): Promise<Reservation[]> {
    return this.json(`api/reservations?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`);
  }
  allocate(request: AllocateBody): Promise<AllocateResponse> {
    // Beside /api, at the path the issue names.
    return this.send('resources/allocate', 'POST', request);
  }
  reservation(id: string): Promise<Reservation> {
    return this.json(`api/reservations/${encodeURIComponent(id)}`);
  }
  updateReservation(id: string, change: ReservationChange, occurrence?: string | null): Promise<Reservation> {
    return this.send(reservationPath(id, occurrence), 'PATCH', change);
  }
  async deleteReservation(id: string, occurrence?: string | null): Promise<void> {
    await this.request(reservationPath(id, occurrence), { method: 'DELETE' });
  }
  allocations(): Promise<Allocation[]> {
    return this.json('api/allocations');
  }
  async cancelAllocation(id: string): Promise<void> {
    await this.request(`api/allocations/${encodeURIComponent(id)}`, { method: 'DELETE' });
  }
  events(kind: string | null, limit: number): Promise<StewardEvent[]> {
    const q = new URLSearchParams({ limit: String(limit) });
    if (kind) q.set('kind', kind);
    return this.json(`api/events?${q}`);
  }
  async exportReservations(): Promise<string | null> {
    const res = await this.request('api/reservations.ics');
    downloadBlob(new Blob([await res.text()], { type: 'text/calendar' }), 'steward-reservations.ics');
    return null;
  }

  async exportEnergyReport(): Promise<string | null> {
    const res = await this.request('api/energy/report.svg');
    downloadBlob(new Blob([await res.text()], { type: 'image/svg+xml' }), 'steward-energy-report.svg');
    return null;
  }
  profile(request: ProfileRequest): Promise<ProfileResponse> {
    return this.send('resources/profile', 'POST', request);
  }
  modules(): Promise<ModuleSpec[]> {
    return this.json('api/modules');
  }
  putModule(spec: ModuleSpec): Promise<ModuleSpec> {
    return this.send('api/modules', 'PUT', spec);
  }
  async deleteModule(name: string): Promise<void> {
    await this.request(`api/modules/${encodeURIComponent(name)}`, { method: 'DELETE' });
  }
  profileEvents(sinceMs: number): Promise<ProfileEvent[]> {
    return this.json(`api/profile/events?since_ms=${Math.floor(sinceMs)}`);
  }
  startDeepProfile(module: string, request: DeepProfileRequest): Promise<DeepProfile> {
    return this.send(`api/modules/${encodeURIComponent(module)}/deep-profile`, 'POST', request);
  }
  deepProfile(module: string): Promise<DeepProfile | null> {
    return this.json(`api/modules/${encodeURIComponent(module)}/deep-profile`);
  }

  backendInfo(): Promise<BackendInfo> {
    return this.json('api/backend');
  }
  nodes(): Promise<ClusterNode[]> {
    return this.json('api/nodes');
  }
  probeNode(address: string): Promise<ProbeResult> {
    return this.send('api/nodes/probe', 'POST', { address });
  }
  async addNode(request: AddNodeRequest): Promise<void> {
    await this.request('api/nodes', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(request),
    });
  }
  async removeNode(id: string): Promise<void> {
    await this.request(`api/nodes/${encodeURIComponent(id)}`, { method: 'DELETE' });
  }
  async drainNode(id: string, draining: boolean): Promise<void> {
    await this.request(`api/nodes/${encodeURIComponent(id)}/${draining ? 'drain' : 'undrain'}`, { method: 'POST' });
  }
  energy(request: Record<string, unknown>): Promise<EnergyResponse> {
    return this.send('resources/energy', 'POST', request);
  }
  distribute(task: Record<string, unknown>): Promise<DistributeResponse> {
    // Beside /api, at the path the issue names.
    return this.send('resources/distributed', 'POST', { operation: 'distribute', task });
  }
  accelerators(request: Record<string, unknown>): Promise<AcceleratorsResponse> {
    return this.send('resources/accelerators', 'POST', request);
  }
  executions(): Promise<Execution[]> {
    return this.json('api/executions');
  }
  async cancelExecution(id: string): Promise<void> {
    await this.request(`api/executions/${encodeURIComponent(id)}/cancel`, { method: 'POST' });
  }
  async partitionOutput(id: string, index: number, max: number): Promise<string> {
    const res = await this.request(`api/executions/${encodeURIComponent(id)}/partitions/${index}/output`);
    return new TextDecoder().decode(await readAtMost(res, max));
  }
  datasets(): Promise<Dataset[]> {
    return this.json('api/datasets');
  }
  registerDataset({ name, bytes, nodes }: Dataset): Promise<Dataset> {
    return this.send(`api/datasets/${encodeURIComponent(name)}`, 'PUT', { bytes, nodes });
  }
  degradation(request: Record<string, unknown>): Promise<DegradationResponse> {
    return this.send('resources/degradation', 'POST', request);
  }
  async removeDataset(name: string): Promise<void> {
    await this.request(`api/datasets/${encodeURIComponent(name)}`, { method: 'DELETE' });
  }

  subscribe(onSnapshot: (s: Snapshot) => void, onError: (e: string) => void): () => void {
    let closed = false;
    let attempt = 0;
    let ws: WebSocket | null = null;
    let timer: ReturnType<typeof setTimeout> | null = null;
    const url = liveUrl(this.base);

    const connect = () => {
      if (closed) return;
      const socket = new this.wsCtor(url);
      ws = socket;
      this.sockets.add(socket);
      socket.onopen = () => {
        attempt = 0;
        if (!this.visible) sendVisibility(socket, false);
      };
      socket.onmessage = (ev) => {
        if (typeof ev.data !== 'string') return;
        try {
          onSnapshot(JSON.parse(ev.data) as Snapshot);
        } catch (e) {
          onError(`live stream sent a malformed message: ${(e as Error).message}`);
        }
      };
      socket.onclose = (ev) => {
        this.sockets.delete(socket);
        ws = null;
        if (closed) return;
        const delay = backoffMs(attempt++);
        const why = ev.reason ? `: ${ev.reason}` : ev.code && ev.code !== 1006 ? ` (code ${ev.code})` : '';
        onError(`Live stream disconnected${why}; reconnecting in ${(delay / 1000).toFixed(1)} s`);
        timer = setTimeout(connect, delay);
      };
    };
    connect();
    return () => {
      closed = true;
      if (timer) clearTimeout(timer);
      ws?.close();
    };
  }
}

/** The first `max` bytes of a streamed body; the rest is never read (it may be gigabytes). */
export async function readAtMost(res: Response, max: number): Promise<Uint8Array> {
  const reader = res.body?.getReader();
  if (!reader) return new Uint8Array(await res.arrayBuffer()).subarray(0, max);
  const out = new Uint8Array(max);
  let n = 0;
  while (n < max) {
    const { done, value } = await reader.read();
    if (done) break;
    const take = value.subarray(0, max - n);
    out.set(take, n);
    n += take.length;
  }
  await reader.cancel().catch(() => undefined);
  return out.subarray(0, n);
}
