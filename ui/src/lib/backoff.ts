/** Reconnect delay for the n-th consecutive failure (0-based): 0.5 s doubling, capped, with jitter. */
export function backoffMs(
  attempt: number,
  opts: { baseMs?: number; maxMs?: number; jitter?: number } = {},
  rand = Math.random,
): number {
  const base = opts.baseMs ?? 500;
  const max = opts.maxMs ?? 10_000;
  const jitter = opts.jitter ?? 0.2;
  const raw = Math.min(max, base * 2 ** Math.max(0, attempt));
  return Math.round(raw * (1 - jitter + 2 * jitter * rand()));
}
