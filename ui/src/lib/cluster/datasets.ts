// The cluster view's datasets panel: the add form's size and node list become a `Dataset`; the
// name and node ids are checked by the server, whose reasons the panel shows.
import type { ClusterNode, Dataset } from './types';

const UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  pb: 1e15,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
  pib: 2 ** 50,
};

/** Bytes from "123", "1.5 GiB", "500 MB" (decimal kB…PB, binary KiB…PiB), or what is wrong. */
export function parseSize(text: string): number | { error: string } {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  if (!m) return { error: 'Size: enter a number of bytes, optionally with a unit (e.g. 5 GiB, 500 MB)' };
  const unit = UNITS[(m[2] || 'b').toLowerCase()];
  if (unit === undefined) return { error: `Size: unknown unit "${m[2]}" (use B, kB, MB, GB, TB, PB or KiB … PiB)` };
  const bytes = Math.round(Number(m[1]) * unit);
  if (!Number.isSafeInteger(bytes)) return { error: 'Size: must be below 8 PiB' };
  return bytes;
}

/** Node ids from a comma- or space-separated list, each once, in order. */
export function parseNodes(text: string): string[] {
  return [...new Set(text.split(/[\s,]+/).filter(Boolean))];
}

export interface DatasetForm {
  name: string;
  size: string;
  nodes: string;
}

export const EMPTY_DATASET_FORM: DatasetForm = { name: '', size: '', nodes: '' };

/** The dataset the form describes, or what is wrong with it. */
export function datasetFromForm(f: DatasetForm): { dataset: Dataset } | { error: string } {
  const name = f.name.trim();
  if (!name) return { error: 'Name: enter a name, e.g. imagenet-train' };
  const bytes = parseSize(f.size);
  if (typeof bytes !== 'number') return bytes;
  const nodes = parseNodes(f.nodes);
  if (!nodes.length) return { error: 'Nodes: list at least one node holding a copy (its id, as on its card)' };
  return { dataset: { name, bytes, nodes } };
}

/** A dataset's node as the panel shows it: known to the cluster (and its state), or not. */
export function datasetNodeState(
  id: string,
  nodes: ClusterNode[],
): { id: string; known: boolean; state: string | null } {
  const n = nodes.find((x) => x.id === id);
  return { id, known: !!n, state: n?.state ?? null };
}
