import type { HistoryQuery, Inventory, SeriesHistory, Snapshot, Status } from '../types';

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
}

/** An error whose message is fit to show the user. */
export class BackendError extends Error {
  constructor(
    message: string,
    public readonly status?: number,
  ) {
    super(message);
    this.name = 'BackendError';
  }
}

export function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message;
  if (typeof e === 'string') return e;
  if (e && typeof e === 'object' && 'error' in e && typeof (e as { error: unknown }).error === 'string')
    return (e as { error: string }).error;
  try {
    return JSON.stringify(e);
  } catch {
    return String(e);
  }
}
