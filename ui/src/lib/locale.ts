// WebKitGTK reports the process locale as navigator.language, and under LANG=C (services, CI,
// minimal containers) that is "C", which Intl rejects: uPlot builds an Intl.NumberFormat from it
// at import time and the whole app would fail to start. Replace an invalid tag before anything
// else is evaluated (this module is main.ts's first import).
export function usableLocale(tag: string | undefined): string {
  try {
    if (tag && Intl.getCanonicalLocales(tag).length > 0) return tag;
  } catch {
    // fall through
  }
  return 'en-US';
}

if (typeof navigator !== 'undefined' && usableLocale(navigator.language) !== navigator.language) {
  const fixed = usableLocale(navigator.language);
  Object.defineProperty(navigator, 'language', { get: () => fixed, configurable: true });
  Object.defineProperty(navigator, 'languages', { get: () => [fixed], configurable: true });
}
