// Keeping keyboard focus inside an open dialog: Tab from the last control wraps to the first,
// Shift+Tab from the first wraps to the last.

const FOCUSABLE =
  'a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

/** The controls inside `root` that Tab visits, in order. */
export function focusables(root: HTMLElement): HTMLElement[] {
  return Array.from(root.querySelectorAll<HTMLElement>(FOCUSABLE)).filter((e) => !e.hasAttribute('inert'));
}

/** Where focus goes when Tab (or Shift+Tab) is pressed on `current`; null lets the browser move it. */
export function wrapTarget<T>(items: T[], current: T | null, backwards: boolean): T | null {
  if (items.length === 0) return null;
  const first = items[0];
  const last = items[items.length - 1];
  const i = current == null ? -1 : items.indexOf(current);
  if (i === -1) return backwards ? last : first;
  if (backwards && current === first) return last;
  if (!backwards && current === last) return first;
  return null;
}
