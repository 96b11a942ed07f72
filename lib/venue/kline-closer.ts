/**
 * Which streamed 1-minute bars are closed. A kline stream sends the open minute's bar again and
 * again as it changes; the bar is final once a later minute's bar arrives. When the stream skipped
 * minutes (a reconnect, or time passed between the registration backfill and the first bar), the
 * skipped minutes come back as a range to fetch over REST, so candles stay gapless and in order.
 */
import type { OHLCV } from "ccxt";
import { MAX_GAP_CANDLES, MINUTE_MS } from "../market/candles";

/** At most this many minutes are backfilled after a gap: the same day-long bound as built candles. */
export const MAX_BACKFILL_MINUTES = MAX_GAP_CANDLES;

export interface KlineCloseStep {
  /** The bar the stream proved closed, with its final values. */
  closed?: OHLCV;
  /** Minutes [from, to) to fetch over REST, oldest first: the stream did not show all of them closing. */
  backfill?: { from: number; to: number };
}

export class KlineCloser {
  private open?: OHLCV;
  private lastClosed?: number;

  /** Open time of the newest minute known closed (emitted, or covered by the registration backfill). */
  get lastClosedOpenTime(): number | undefined {
    return this.lastClosed;
  }

  /** The minute the stream is on, if any. */
  get openTime(): number | undefined {
    return this.open === undefined ? undefined : Number(this.open[0]);
  }

  /** Records minutes up to `openTime` as closed (after emitting them). */
  closedThrough(openTime: number): void {
    if (this.lastClosed === undefined || openTime > this.lastClosed) this.lastClosed = openTime;
  }

  /** Takes one streamed bar; says what is closed now, if anything. */
  accept(bar: OHLCV): KlineCloseStep | undefined {
    const time = Number(bar[0]);
    if (this.lastClosed !== undefined && time <= this.lastClosed) return undefined;
    const previous = this.open;
    if (previous !== undefined && time <= Number(previous[0])) {
      if (time === Number(previous[0])) this.open = bar;
      return undefined;
    }
    this.open = bar;
    // `bar` opens a new minute: every minute before it has ended.
    const firstPending = this.lastClosed !== undefined ? this.lastClosed + MINUTE_MS : previous !== undefined ? Number(previous[0]) : undefined;
    if (firstPending === undefined || firstPending >= time) return undefined;
    if (previous !== undefined && Number(previous[0]) === firstPending && firstPending + MINUTE_MS === time) return { closed: previous };
    return { backfill: { from: Math.max(firstPending, time - MAX_BACKFILL_MINUTES * MINUTE_MS), to: time } };
  }
}
