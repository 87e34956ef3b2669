// Polling a list every second without piling up requests: the next poll is scheduled only once
// the previous one settled, so a slow server slows the poll instead of queueing calls.
export interface PollHandle {
  stop(): void;
  /** Poll now (e.g. after an add/remove), then keep the cadence. */
  now(): void;
}

/** `active` false (e.g. the page is hidden) skips a poll but keeps the cadence. */
export function poll<T>(
  fetchFn: () => Promise<T>,
  onData: (v: T) => void,
  onError: (e: unknown) => void,
  intervalMs = 1000,
  active: () => boolean = () => true,
): PollHandle {
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let inFlight = false;
  let again = false;

  const run = async () => {
    if (stopped) return;
    if (inFlight) {
      again = true;
      return;
    }
    if (timer) clearTimeout(timer);
    timer = null;
    if (!active()) {
      timer = setTimeout(run, intervalMs);
      return;
    }
    inFlight = true;
    try {
      const v = await fetchFn();
      if (!stopped) onData(v);
    } catch (e) {
      if (!stopped) onError(e);
    } finally {
      inFlight = false;
    }
    if (stopped) return;
    if (again) {
      again = false;
      run();
    } else timer = setTimeout(run, intervalMs);
  };
  run();
  return {
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
    now() {
      run();
    },
  };
}
