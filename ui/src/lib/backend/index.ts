import type { Backend } from './backend';
import { HttpBackend } from './http';
import { TauriBackend } from './tauri';

export type { Backend } from './backend';
export { BackendError, errorLines, errorMessage, fieldErrors } from './backend';

/** Tauri when running inside the desktop shell, HTTP against the page's own origin otherwise. */
export function pickBackend(win: Window & { __TAURI_INTERNALS__?: unknown } = window): Backend {
  if (win.__TAURI_INTERNALS__) return new TauriBackend();
  // The directory the page was loaded from, so the UI also works under a path prefix.
  return new HttpBackend(new URL('./', win.location.href).toString());
}
