/**
 * Turns bursts of "this changed" (live events) into one reload: the first trigger schedules a run
 * after `delayMs`, further triggers before it starts ride along, and a trigger during a run
 * schedules exactly one more. Never two runs at once, and a view is at most `delayMs` plus one
 * request behind the event that changed it.
 */
export interface Coalesced {
  trigger(): void;
  cancel(): void;
}

export function coalesce(run: () => Promise<void>, delayMs: number): Coalesced {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running = false;
  let again = false;
  let cancelled = false;

  const schedule = () => {
    timer = setTimeout(async () => {
      timer = undefined;
      running = true;
      try {
        await run();
      } finally {
        running = false;
        if (again && !cancelled) {
          again = false;
          schedule();
        }
      }
    }, delayMs);
  };

  return {
    trigger() {
      if (cancelled) return;
      if (running) again = true;
      else if (!timer) schedule();
    },
    cancel() {
      cancelled = true;
      clearTimeout(timer);
      timer = undefined;
    },
  };
}
