/**
 * A circuit breaker on a venue's reachability. Consecutive outage failures (connection refused,
 * timeouts, 5xx) open it; while open, calls fail at once with `venue_unavailable` instead of each
 * waiting for its own timeout; after a cooldown one probe call goes through (half-open): its success
 * closes the breaker, its failure opens it again with a doubled cooldown. Any answer from the venue,
 * even a refusal, proves it reachable. Rate limits are not outages and never open it.
 */
import { wallClock, type Clock } from "../clock";
import { VenueError } from "../errors";

export type CircuitState = "closed" | "open" | "half_open";

export interface CircuitStatus {
  state: CircuitState;
  /** When the breaker entered its current state. */
  since: number;
  consecutiveFailures: number;
  /** How many times it has opened since start. */
  trips: number;
  lastError?: string;
  /** While open: when the next probe is let through. */
  retryAt?: number;
}

export interface CircuitBreakerOptions {
  failureThreshold: number;
  cooldownMs: number;
  maxCooldownMs: number;
  /** Scrubs an error text before the status keeps it (the status is shown by the API). */
  redact?: (text: string) => string;
}

export class CircuitBreaker {
  private state: CircuitState = "closed";
  private since: number;
  private failures = 0;
  private trips = 0;
  private cooldown: number;
  private retryAt = 0;
  private probing = false;
  private lastError?: string;

  constructor(
    /** What is unreachable when the breaker is open, e.g. "exchange binance". */
    private readonly subject: string,
    private readonly options: CircuitBreakerOptions,
    private readonly clock: Clock = wallClock,
    private readonly onChange?: (status: CircuitStatus) => void,
  ) {
    this.since = clock.now();
    this.cooldown = options.cooldownMs;
  }

  /**
   * Runs a call to the venue under the breaker. `isOutage` tells an outage (counts against the venue)
   * from an answer (proves it reachable); an error that is neither (a bug on our side) changes nothing.
   */
  async run<T>(call: () => Promise<T>, isOutage: (err: unknown) => boolean | undefined): Promise<T> {
    const probe = this.admit();
    try {
      const result = await call();
      this.success();
      return result;
    } catch (err) {
      const outage = isOutage(err);
      if (outage === true) this.failure(String((err as Error)?.message ?? err));
      else if (outage === false) this.success();
      throw err;
    } finally {
      if (probe) this.probing = false;
    }
  }

  /** Throws `venue_unavailable` while open; returns true when this call is the half-open probe. */
  admit(): boolean {
    if (this.state === "closed") return false;
    const now = this.clock.now();
    if (this.state === "open" && now >= this.retryAt) this.transition("half_open", now);
    if (this.state === "half_open" && !this.probing) {
      this.probing = true;
      return true;
    }
    const wait = Math.max(0, Math.ceil((this.retryAt - now) / 1000));
    throw new VenueError("venue_unavailable", `${this.subject} unreachable`, {
      circuit: this.state,
      retryInSeconds: wait,
      ...(this.lastError && { cause: this.lastError }),
    });
  }

  /** The venue answered (a REST response, a stream message). */
  success(): void {
    this.failures = 0;
    this.cooldown = this.options.cooldownMs;
    if (this.state !== "closed") this.transition("closed", this.clock.now());
  }

  /** The venue could not be reached. */
  failure(message: string): void {
    this.failures++;
    this.lastError = (this.options.redact?.(message) ?? message).slice(0, 300);
    const now = this.clock.now();
    if (this.state === "half_open") {
      // The probe failed: wait longer before the next one.
      this.cooldown = Math.min(this.cooldown * 2, this.options.maxCooldownMs);
      this.open(now);
    } else if (this.state === "closed" && this.failures >= this.options.failureThreshold) {
      this.trips++;
      this.open(now);
    }
  }

  status(): CircuitStatus {
    return {
      state: this.state,
      since: this.since,
      consecutiveFailures: this.failures,
      trips: this.trips,
      ...(this.lastError && { lastError: this.lastError }),
      ...(this.state === "open" && { retryAt: this.retryAt }),
    };
  }

  private open(now: number): void {
    this.retryAt = now + this.cooldown;
    this.transition("open", now);
  }

  private transition(state: CircuitState, now: number): void {
    this.state = state;
    this.since = now;
    this.onChange?.(this.status());
  }
}
