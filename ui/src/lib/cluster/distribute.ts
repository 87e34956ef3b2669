// The executions view's "run a task" form: a command line and an input description become the
// `task` of POST /resources/distributed (operation `distribute`).

/** Splits a command line into argv as a POSIX shell would for plain words and quotes (no
 *  expansion): 'single' and "double" quotes group, a backslash escapes outside single quotes. */
export function splitArgs(line: string): { argv: string[] } | { error: string } {
  const argv: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: "'" | '"' | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === quote) quote = null;
      else if (c === '\\' && quote === '"' && i + 1 < line.length && '"\\$`'.includes(line[i + 1])) cur += line[++i];
      else cur += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < line.length) {
      cur += line[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) argv.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (quote) return { error: `unterminated ${quote === '"' ? 'double' : 'single'} quote` };
  if (inWord) argv.push(cur);
  return { argv };
}

export type InputKind = 'range' | 'shards' | 'files';

export interface TaskForm {
  command: string;
  input: InputKind;
  start: string;
  end: string;
  shards: string;
  files: string;
  /** Blank: sized by the nodes' capacity. */
  partitions: string;
  reuse: boolean;
  /** Queue it even when no node takes work now (otherwise the server refuses it, saying why). */
  wait: boolean;
}

export const EMPTY_FORM: TaskForm = {
  command: '',
  input: 'range',
  start: '0',
  end: '100',
  shards: '4',
  files: '',
  partitions: '',
  reuse: true,
  wait: false,
};

function int(s: string, what: string, min: number): number | string {
  const t = s.trim();
  if (!/^-?\d+$/.test(t)) return `${what} must be a whole number`;
  const n = Number(t);
  return n < min ? `${what} must be at least ${min}` : n;
}

/** The task for the form, or what is wrong with it. */
export function taskFromForm(f: TaskForm): { task: Record<string, unknown> } | { error: string } {
  const split = splitArgs(f.command);
  if ('error' in split) return { error: `Command: ${split.error}` };
  if (!split.argv.length) return { error: 'Enter a command, e.g. sh -c "seq {start} $(({end}-1))"' };
  let input: Record<string, unknown>;
  if (f.input === 'range') {
    const start = int(f.start, 'Start', Number.MIN_SAFE_INTEGER);
    const end = int(f.end, 'End', Number.MIN_SAFE_INTEGER);
    if (typeof start === 'string') return { error: start };
    if (typeof end === 'string') return { error: end };
    if (end <= start) return { error: 'End must be greater than start (the range is start..end, end excluded)' };
    input = { type: 'range', start, end };
  } else if (f.input === 'shards') {
    const count = int(f.shards, 'Shards', 1);
    if (typeof count === 'string') return { error: count };
    input = { type: 'shards', count };
  } else {
    const files = f.files
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);
    if (!files.length) return { error: 'List at least one file, one per line' };
    input = { type: 'files', files };
  }
  const task: Record<string, unknown> = { command: split.argv, input, reuse: f.reuse };
  if (f.wait) task.wait = true;
  if (f.partitions.trim()) {
    const p = int(f.partitions, 'Partitions', 1);
    if (typeof p === 'string') return { error: p };
    task.partitions = p;
  }
  return { task };
}
