// Global keyboard shortcuts: every view is one key chord away, and "?" lists the keys.

export type Shortcut = { kind: 'view'; index: number } | { kind: 'help' } | null;

interface KeyLike {
  key: string;
  altKey: boolean;
  ctrlKey: boolean;
  metaKey: boolean;
  /** The element the key went to: typing in a field is never a shortcut. */
  target: EventTarget | null;
}

function typing(target: EventTarget | null): boolean {
  const t = target as { tagName?: string; isContentEditable?: boolean } | null;
  return !!t && (t.isContentEditable === true || ['INPUT', 'TEXTAREA', 'SELECT'].includes(t.tagName ?? ''));
}

/** What a key press asks for: Alt+1…9 and Alt+0 open the first ten views, "?" the key list. */
export function shortcutFor(e: KeyLike, views: number): Shortcut {
  if (e.ctrlKey || e.metaKey || typing(e.target)) return null;
  if (e.altKey && /^[0-9]$/.test(e.key)) {
    const index = e.key === '0' ? 9 : Number(e.key) - 1;
    return index < views ? { kind: 'view', index } : null;
  }
  if (!e.altKey && e.key === '?') return { kind: 'help' };
  return null;
}

/** The label a view's shortcut is shown with, or undefined past the tenth view. */
export function viewKeyLabel(index: number): string | undefined {
  return index < 9 ? `Alt+${index + 1}` : index === 9 ? 'Alt+0' : undefined;
}
