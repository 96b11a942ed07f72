/**
 * 1-minute candles built from a trade stream. A candle closes when a trade of a later minute
 * arrives or when `closeUpTo` is told its minute has ended; minutes without trades become flat
 * candles at the previous close with zero volume.
 */
import { Dec, dec, str } from "../decimal";
import type { Candle, MarketEventDraft, TradeEvent } from "../../schemas";

// Bound once: global lookups are slow in vm sandboxes (jest runs tests in one), and these are hot.
const { floor, max } = Math;

export type CandleEventDraft = Extract<MarketEventDraft, { kind: "candle" }>;
export type TradeLike = Pick<TradeEvent, "time" | "price" | "quantity">;

export const MINUTE_MS = 60_000;
/** At most one day of flat candles for a gap: a feed silent for longer only gets its last day filled. */
export const MAX_GAP_CANDLES = 1440;

/** A closed candle event as a stored candle: the bar without the event's header. */
export function candleOf({ instrumentKey, openTime, closeTime, open, high, low, close, volume, tradeCount }: CandleEventDraft): Candle {
  return { instrumentKey, timeframe: "1m", openTime, closeTime, open, high, low, close, volume, tradeCount };
}

/** Open time (UTC, epoch ms) of the minute holding `time`. */
export function minuteOf(time: number): number {
  return floor(time / MINUTE_MS) * MINUTE_MS;
}

interface Bar {
  openTime: number;
  open: Dec;
  high: Dec;
  low: Dec;
  close: Dec;
  volume: Dec;
  tradeCount: number;
}

export class CandleBuilder {
  private bar: Bar | undefined;
  /** Open time of the earliest minute not emitted yet; undefined until the first trade. */
  private nextOpenTime: number | undefined;
  private lastClose: Dec | undefined;

  constructor(
    readonly instrumentKey: string,
    readonly exchange: string,
    readonly symbol: string,
  ) {}

  /** Adds a trade; returns the candles it closes. Trades of an already closed minute are ignored. */
  onTrade(trade: TradeLike): CandleEventDraft[] {
    const openTime = minuteOf(trade.time);
    if (this.nextOpenTime !== undefined && openTime < this.nextOpenTime) return [];
    const closed = this.nextOpenTime !== undefined && openTime > this.nextOpenTime ? this.closeBefore(openTime) : [];
    const price = dec(trade.price);
    const quantity = dec(trade.quantity);
    if (this.bar) {
      const bar = this.bar;
      if (price.gt(bar.high)) bar.high = price;
      if (price.lt(bar.low)) bar.low = price;
      bar.close = price;
      bar.volume = bar.volume.add(quantity);
      bar.tradeCount += 1;
    } else {
      this.bar = { openTime, open: price, high: price, low: price, close: price, volume: quantity, tradeCount: 1 };
      this.nextOpenTime = openTime;
    }
    return closed;
  }

  /** Closes every minute that ended at or before `time` (closeTime <= time). */
  closeUpTo(time: number): CandleEventDraft[] {
    if (this.nextOpenTime === undefined) return [];
    const firstOpenAfter = minuteOf(time + 1);
    return firstOpenAfter > this.nextOpenTime ? this.closeBefore(firstOpenAfter) : [];
  }

  /** The in-progress candle (closed: false), if its minute has seen a trade. */
  current(): CandleEventDraft | undefined {
    return this.bar && this.draft(this.bar, false);
  }

  /** Emits the in-progress candle and the flat candles of every minute before `openTime`. */
  private closeBefore(openTime: number): CandleEventDraft[] {
    const closed: CandleEventDraft[] = [];
    let gapStart = this.nextOpenTime!;
    if (this.bar) {
      closed.push(this.draft(this.bar, true));
      this.lastClose = this.bar.close;
      gapStart = this.bar.openTime + MINUTE_MS;
      this.bar = undefined;
    }
    // A minute is only pending once a trade has happened, so a close price is known here.
    const close = this.lastClose!;
    gapStart = max(gapStart, openTime - MAX_GAP_CANDLES * MINUTE_MS);
    for (let t = gapStart; t < openTime; t += MINUTE_MS) {
      closed.push(this.draft({ openTime: t, open: close, high: close, low: close, close, volume: new Dec(0), tradeCount: 0 }, true));
    }
    this.nextOpenTime = openTime;
    return closed;
  }

  private draft(bar: Bar, closed: boolean): CandleEventDraft {
    const closeTime = bar.openTime + MINUTE_MS - 1;
    return {
      kind: "candle",
      instrumentKey: this.instrumentKey,
      exchange: this.exchange,
      symbol: this.symbol,
      time: closeTime,
      timeframe: "1m",
      openTime: bar.openTime,
      closeTime,
      open: str(bar.open),
      high: str(bar.high),
      low: str(bar.low),
      close: str(bar.close),
      volume: str(bar.volume),
      tradeCount: bar.tradeCount,
      closed,
    };
  }
}
