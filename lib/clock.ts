/** Time source. Live code reads the wall clock; backtests and tests inject a clock they drive. */
export interface Clock {
  now(): number;
}

export const wallClock: Clock = { now: () => Date.now() };

/** A clock's time (epoch milliseconds) as an ISO-8601 UTC string. */
export function isoTime(time: number): string {
  return new Date(time).toISOString();
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The work's outcome, or a rejection with `timeoutError()` when it has not settled within `ms`. */
export async function within<T>(work: Promise<T>, ms: number, timeoutError: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(timeoutError()), ms);
  });
  try {
    return await Promise.race([work, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

/** A clock that only moves when told to: deterministic tests and replays. */
export class ManualClock implements Clock {
  constructor(private current = 0) {}
  now(): number {
    return this.current;
  }
  set(time: number): void {
    this.current = time;
  }
  advance(ms: number): void {
    this.current += ms;
  }
}
