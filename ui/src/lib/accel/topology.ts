// The accelerator topology as a graph: one group per node, inside it each NVIDIA GPU (with its
// live utilization, memory and power), each registered accelerator and each hardware adapter
// NVML does not cover; edges are the NVLink/PCIe paths between a node's GPUs. Pure: the view
// hands it the list and the latest snapshots.
import type { ClusterNode } from '../cluster/types';
import type { GpuStats } from '../bindings/GpuStats';
import { valueOf } from '../types';
import type { GpuLink, NodeAccelerators } from './types';

export type AccelKind = 'gpu' | 'registered' | 'adapter';

export interface AccelData extends Record<string, unknown> {
  /** What a placement names: the scheduler's GPU id (`node/gpuN`), or null when it is no GPU. */
  gpuId: string | null;
  node: string;
  kind: AccelKind;
  title: string;
  subtitle: string;
  /** Live lines (utilization, memory, power), or the reason they are unavailable. */
  live: string[];
  /** Software adapters are benchmarked but never offered for placement. */
  offered: boolean;
  health: string | null;
}

export interface GraphNode {
  id: string;
  type: 'host' | 'accel';
  position: { x: number; y: number };
  data: AccelData | { label: string; node: string };
  parentId?: string;
  extent?: 'parent';
  width?: number;
  height?: number;
  draggable: boolean;
  style?: string;
}

export interface GraphEdge {
  id: string;
  source: string;
  target: string;
  label: string;
  kind: 'nvlink' | 'pcie';
  style: string;
  animated: boolean;
}

export const CARD_W = 190;
export const CARD_H = 112;
/** Room between cards for a link's label (`2× NVLink`). */
const GAP = 80;
const PAD = 16;
const HEADER = 34;
const PER_ROW = 3;

const pct = (v: number | undefined) => (v === undefined ? '—' : `${Math.round(v)} %`);
const gib = (b: number) => `${(b / 2 ** 30).toFixed(1)} GiB`;

function liveLines(g: GpuStats | undefined): string[] {
  if (!g) return ['no live sample yet'];
  const used = valueOf(g.memory_used_bytes);
  const total = valueOf(g.memory_total_bytes);
  const power = valueOf(g.power_w);
  return [
    `util ${pct(valueOf(g.utilization_pct))}`,
    used !== undefined && total !== undefined ? `mem ${gib(used)} / ${gib(total)}` : 'mem unavailable',
    power !== undefined ? `power ${power.toFixed(0)} W` : `power unavailable`,
  ];
}

function accelNodes(n: NodeAccelerators, live: ClusterNode | undefined): AccelData[] {
  const gpus = valueOf(n.gpus) ?? [];
  const stats = valueOf(live?.latest?.gpus) ?? [];
  const out: AccelData[] = gpus.map((g) => ({
    gpuId: `${n.node}/gpu${g.index}`,
    node: n.node,
    kind: 'gpu',
    title: `GPU ${g.index} · ${g.name}`,
    subtitle: `cc ${valueOf(g.compute_capability) ?? '?'} · ${valueOf(g.memory_total_bytes) !== undefined ? gib(valueOf(g.memory_total_bytes)!) : 'memory ?'}`,
    live: liveLines(stats.find((s) => s.index === g.index)),
    offered: true,
    health: null,
  }));
  for (const r of n.registered) {
    const h = valueOf(r.health);
    out.push({
      gpuId: null,
      node: n.node,
      kind: 'registered',
      title: `${r.spec.kind.toUpperCase()} ${r.spec.id} · ${r.spec.model}`,
      subtitle: `${gib(r.spec.memory_bytes)} · ${r.spec.precisions.join(', ')} · ${r.source}`,
      live: [],
      offered: true,
      health: h ? (h.healthy ? `healthy: ${h.detail}` : `UNHEALTHY: ${h.detail}`) : null,
    });
  }
  // NVIDIA adapters are the NVML GPUs above; software rasterizers are shown, never offered.
  for (const a of valueOf(n.adapters) ?? []) {
    if (a.vendor_id === 0x10de && gpus.length > 0) continue;
    if (a.backend === 'gl' && (valueOf(n.adapters) ?? []).some((b) => b.name === a.name && b.backend !== 'gl'))
      continue;
    out.push({
      gpuId: null,
      node: n.node,
      kind: 'adapter',
      title: a.name,
      subtitle: `${a.backend} · ${a.device_type.replace(/_/g, ' ')}`,
      live: [],
      offered: !a.is_software,
      health: null,
    });
  }
  return out;
}

function edgeOf(node: string, l: GpuLink): GraphEdge {
  const nv = l.nvlinks > 0;
  const level = valueOf(l.pcie)?.replace(/_/g, ' ') ?? 'PCIe path unknown';
  return {
    id: `link:${node}:${l.a}-${l.b}`,
    source: `acc:${node}/gpu${l.a}`,
    target: `acc:${node}/gpu${l.b}`,
    label: nv ? `${l.nvlinks}× NVLink` : `PCIe · ${level}`,
    kind: nv ? 'nvlink' : 'pcie',
    style: nv ? 'stroke: #2f9e44; stroke-width: 3' : 'stroke: #868e96; stroke-dasharray: 5 4',
    animated: false,
  };
}

/** The viewport that shows every node of `graph` in a `width × height` pane (never zoomed in). */
export function framing(
  graph: { nodes: GraphNode[] },
  width: number,
  height: number,
): { x: number; y: number; zoom: number } {
  const hosts = graph.nodes.filter((n) => n.type === 'host');
  const right = Math.max(1, ...hosts.map((n) => n.position.x + (n.width ?? 0)));
  const bottom = Math.max(1, ...hosts.map((n) => n.position.y + (n.height ?? 0)));
  const margin = 16;
  const zoom = Math.min(1, (width - 2 * margin) / right, (height - 2 * margin) / bottom);
  return { x: margin, y: margin, zoom: Math.max(0.2, zoom) };
}

/** The graph of every node's accelerators; `live` are the nodes with their latest snapshots. */
export function topology(list: NodeAccelerators[], live: ClusterNode[]): { nodes: GraphNode[]; edges: GraphEdge[] } {
  const nodes: GraphNode[] = [];
  const edges: GraphEdge[] = [];
  let x = 0;
  for (const n of list) {
    const accels = accelNodes(
      n,
      live.find((c) => c.id === n.node),
    );
    const cols = Math.max(1, Math.min(PER_ROW, accels.length));
    const rows = Math.max(1, Math.ceil(accels.length / PER_ROW));
    const width = PAD * 2 + cols * CARD_W + (cols - 1) * GAP;
    const height = HEADER + PAD + rows * CARD_H + (rows - 1) * GAP + PAD;
    const groupId = `node:${n.node}`;
    nodes.push({
      id: groupId,
      type: 'host',
      position: { x, y: 0 },
      data: { label: `${n.name} (${n.node}) · ${n.state}`, node: n.node },
      width,
      height,
      style: `width: ${width}px; height: ${height}px`,
      draggable: false,
    });
    accels.forEach((a, i) => {
      const key = a.gpuId ?? `${n.node}/${a.kind}${i}`;
      nodes.push({
        id: `acc:${key}`,
        type: 'accel',
        position: { x: PAD + (i % PER_ROW) * (CARD_W + GAP), y: HEADER + Math.floor(i / PER_ROW) * (CARD_H + GAP) },
        data: a,
        parentId: groupId,
        extent: 'parent',
        // Known sizes let the first fitView frame everything before the cards are measured.
        width: CARD_W,
        height: CARD_H,
        draggable: false,
      });
    });
    edges.push(...(valueOf(n.gpu_links) ?? []).map((l) => edgeOf(n.node, l)));
    x += width + 60;
  }
  return { nodes, edges };
}
