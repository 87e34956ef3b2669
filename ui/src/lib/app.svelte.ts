// Application state shared by the views (Svelte 5 runes).
import { type Backend, errorMessage } from './backend';
import type { RangeKey } from './charts/defs';
import type { Inventory, Snapshot, Status } from './types';

export class AppState {
  inventory = $state.raw<Inventory | null>(null);
  inventoryError = $state<string | null>(null);
  status = $state.raw<Status | null>(null);
  statusError = $state<string | null>(null);
  snapshot = $state.raw<Snapshot | null>(null);
  /** Live stream trouble (disconnected, reconnecting); cleared by the next snapshot. */
  liveError = $state<string | null>(null);
  /** Other errors worth showing (history loads, visibility). */
  errors = $state<string[]>([]);
  range = $state<RangeKey>('5m');
  private listeners = new Set<(s: Snapshot) => void>();
  private stops: (() => void)[] = [];

  constructor(readonly backend: Backend) {}

  onSnapshot(fn: (s: Snapshot) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  report(e: unknown) {
    const msg = errorMessage(e);
    if (!this.errors.includes(msg)) this.errors = [...this.errors.slice(-4), msg];
  }

  dismiss(msg: string) {
    this.errors = this.errors.filter((m) => m !== msg);
  }

  private accept(s: Snapshot) {
    if (this.snapshot && s.ts_ms <= this.snapshot.ts_ms) return;
    this.snapshot = s;
    this.liveError = null;
    for (const l of this.listeners) l(s);
  }

  async refreshStatus() {
    try {
      this.status = await this.backend.status();
      this.statusError = null;
    } catch (e) {
      // A status that can no longer be confirmed is not shown as if current.
      this.status = null;
      this.statusError = errorMessage(e);
    }
  }

  start() {
    this.backend.inventory().then(
      (inv) => (this.inventory = inv),
      (e) => (this.inventoryError = errorMessage(e)),
    );
    this.refreshStatus();
    this.backend.snapshot().then(
      (s) => s && this.accept(s),
      (e) => this.report(e),
    );
    this.stops.push(
      this.backend.subscribe(
        (s) => this.accept(s),
        (e) => (this.liveError = e),
      ),
    );
    const timer = setInterval(() => this.refreshStatus(), 5000);
    this.stops.push(() => clearInterval(timer));
    const onVis = () => {
      const visible = document.visibilityState !== 'hidden';
      this.backend.setVisible(visible).catch((e) => this.report(e));
      if (visible) this.refreshStatus();
    };
    document.addEventListener('visibilitychange', onVis);
    this.stops.push(() => document.removeEventListener('visibilitychange', onVis));
    onVis();
  }

  stop() {
    for (const s of this.stops.splice(0)) s();
  }
}
