/** Time source. Live code reads the wall clock; backtests and tests inject a clock they drive. */
export interface Clock {
  now(): number;
}

export const wallClock: Clock = { now: () => Date.now() };

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

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
