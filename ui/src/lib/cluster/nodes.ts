// How the cluster view orders and describes nodes, and the add-node flow (address + token → probe
// → the user confirms the fingerprint, as SSH asks on first contact → add).
import { formatAge, formatBytes } from '../format';
import type { ClusterNode, EngineFacts, NodeHealth, ProbeResult } from './types';

const STATE_RANK: Record<NodeHealth, number> = { down: 0, suspect: 1, draining: 2, up: 3 };

/** The local node first, then trouble first (down, suspect, draining), then by name. */
export function sortNodes(nodes: ClusterNode[]): ClusterNode[] {
  return [...nodes].sort(
    (a, b) =>
      Number(b.id === 'local') - Number(a.id === 'local') ||
      (STATE_RANK[a.state] ?? 9) - (STATE_RANK[b.state] ?? 9) ||
      a.name.localeCompare(b.name) ||
      a.id.localeCompare(b.id),
  );
}

/** "up · heartbeat 2 s ago · φ 0.4" — what the state badge's tooltip and the card footer say.
 *  A node of an external engine (Slurm) says the engine's own state words instead. */
export function stateDetail(n: ClusterNode, nowMs: number): string {
  if (n.engine) return [`${n.engine.state.join('+') || n.state} in Slurm`, n.engine.reason].filter(Boolean).join(' · ');
  const parts: string[] = [n.state];
  if (n.last_heartbeat_ms !== null) parts.push(`heartbeat ${formatAge(n.last_heartbeat_ms, nowMs)}`);
  else parts.push('no heartbeat yet');
  if (n.phi !== null && Number.isFinite(n.phi)) parts.push(`φ ${n.phi.toFixed(1)}`);
  return parts.join(' · ');
}

/** What the engine has handed out on a node: "2 of 2 CPUs · 2 of 2 GPUs · 100 MiB of 11.8 GiB ·
 *  load 1.12", each part only where the engine reports it. */
export function engineUsage(f: EngineFacts): string {
  const of = (used: number | null, total: number | null, unit: string) =>
    used !== null && total !== null ? `${used} of ${total} ${unit}` : null;
  const memory =
    f.alloc_memory_bytes !== null && f.memory_bytes !== null
      ? `${formatBytes(f.alloc_memory_bytes)} of ${formatBytes(f.memory_bytes)} allocated`
      : null;
  const load = f.load_avg !== null ? `load ${f.load_avg.toFixed(2)}` : null;
  return [of(f.alloc_cpus, f.cpus, 'CPUs'), of(f.gpus_used, f.gpus, 'GPUs'), memory, load]
    .filter((p): p is string => p !== null)
    .join(' · ');
}

export interface AcceleratorLine {
  kind: 'gpu' | 'adapter';
  name: string;
  detail: string;
}

/** GPUs the node's telemetry reports, then the graphics adapters of its inventory (software
 *  renderers left out: they are not accelerators). */
export function accelerators(n: ClusterNode): AcceleratorLine[] {
  const out: AcceleratorLine[] = [];
  const gpus = n.latest?.gpus;
  if (gpus?.status === 'available')
    for (const g of gpus.value) out.push({ kind: 'gpu', name: g.name, detail: `GPU ${g.index}` });
  const adapters = n.inventory?.adapters;
  if (adapters?.status === 'available')
    for (const a of adapters.value) {
      if (a.device_type === 'cpu' || a.is_software) continue;
      if (out.some((o) => o.name === a.name)) continue;
      out.push({ kind: 'adapter', name: a.name, detail: a.backend });
    }
  return out;
}

/** Fingerprints compare equal whatever their spelling: case, colons, spaces, a `sha256:` prefix. */
export function normalizeFingerprint(f: string): string {
  return f
    .trim()
    .replace(/^sha-?256[:=\s]*/i, '')
    .replace(/[\s:]/g, '')
    .toLowerCase();
}

export function fingerprintsMatch(a: string, b: string): boolean {
  const x = normalizeFingerprint(a);
  return x.length > 0 && x === normalizeFingerprint(b);
}

/** Why an address cannot be used, or null: host:port, [v6]:port, optionally with a scheme. */
export function addressProblem(address: string): string | null {
  const a = address.trim().replace(/^(https?|grpcs?):\/\//, '');
  if (!a) return 'Enter the address the agent printed, e.g. 127.0.0.1:7443';
  const m = a.match(/^(\[[0-9a-fA-F:.]+\]|[^\s:/[\]]+):(\d+)\/?$/);
  if (!m) return `"${address.trim()}" is not host:port`;
  const port = Number(m[2]);
  if (port < 1 || port > 65535) return `port ${m[2]} is out of range`;
  return null;
}

/** The add-node dialog's steps. */
export type AddStep =
  | { step: 'edit'; error: string | null }
  | { step: 'probing' }
  | { step: 'confirm'; probe: ProbeResult; error: string | null }
  | { step: 'adding'; probe: ProbeResult }
  | { step: 'done' };

/** Whether the confirm step may add: the presented fingerprint must equal the one the user
 *  pasted (when they pasted one). */
export function confirmProblem(probe: ProbeResult, pasted: string): string | null {
  if (pasted.trim() && !fingerprintsMatch(probe.fingerprint, pasted))
    return 'The fingerprint the agent presents differs from the one you entered: do not add it unless you know why it changed.';
  return null;
}
