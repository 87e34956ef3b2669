const PALETTE = [
  '#4e79a7',
  '#f28e2b',
  '#59a14f',
  '#e15759',
  '#76b7b2',
  '#edc948',
  '#b07aa1',
  '#ff9da7',
  '#9c755f',
  '#bab0ac',
];

/** Stable colors: totals get the accent, read/rx/used blue-ish, write/tx orange-ish, others by index. */
export function seriesColor(name: string, index: number): string {
  if (name.endsWith('.total')) return '#e15759';
  if (name === 'mem.used') return '#4e79a7';
  if (name === 'mem.available') return '#59a14f';
  if (name === 'swap.used') return '#f28e2b';
  return PALETTE[index % PALETTE.length];
}
