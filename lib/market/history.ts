/**
 * The market data store's rules, apart from the ingestion service that wires them: how candle and
 * indicator rows are keyed and read back, how long they are kept, and the latest trades, book and
 * ticker of each instrument, which live in memory only.
 */
import { RingsByKey } from "../ring-buffer";
import type { FindQuery } from "../store/collection";
import type { BookEvent, MarketEvent, TickerEvent, TradeEvent } from "../../schemas";
import { MINUTE_MS } from "./candles";

/** One row per instrument and minute: the natural id of a candle and of its indicator row. */
export const candleId = (instrumentKey: string, openTime: number) => `${instrumentKey}|${openTime}`;

/**
 * Candles and indicator rows: indexed by instrument and time (MongoDB), and the newest rows of each
 * instrument kept in memory, so history reads stay fast on a loaded machine or a store that scans
 * (FerretDB 1.x uses no index but `_id`).
 */
export const HISTORY_STORE = {
  indexes: [{ fields: ["instrumentKey", "openTime"] }],
  recent: { key: "instrumentKey", time: "openTime", step: MINUTE_MS, capacity: 1000, id: candleId },
};

export interface HistoryQuery {
  instrument: string;
  limit?: number;
  /** Rows opened before this time (epoch ms). */
  before?: number;
  /** Rows opened after this time (epoch ms). */
  after?: number;
}

/** The store query of the newest `limit` rows of an instrument (before `before`, after `after` when given), newest first. */
export function historyFind({ instrument, limit, before, after }: HistoryQuery): FindQuery {
  const query: Record<string, unknown> = { instrumentKey: instrument };
  if (before !== undefined || after !== undefined) {
    query.openTime = { ...(before !== undefined && { $lt: before }), ...(after !== undefined && { $gt: after }) };
  }
  return { query, sort: ["-openTime"], limit: limit ?? 300 };
}

/** Bounded retention: every `candles / 10` stored candles of an instrument (at least 10), what is older than the newest `candles` minutes goes. */
export class CandleRetention {
  private readonly sincePrune = new Map<string, number>();

  constructor(private readonly candles: number) {}

  /** Counts a stored candle; the open time before which the instrument's rows go, when a prune is due. */
  stored(candle: { instrumentKey: string; openTime: number }): number | undefined {
    const count = (this.sincePrune.get(candle.instrumentKey) ?? 0) + 1;
    if (count < Math.max(10, Math.floor(this.candles / 10))) {
      this.sincePrune.set(candle.instrumentKey, count);
      return undefined;
    }
    this.sincePrune.set(candle.instrumentKey, 0);
    return candle.openTime - this.candles * MINUTE_MS;
  }
}

/** The latest trades, order book and ticker of each instrument. */
export class LatestMarketData {
  private readonly trades: RingsByKey<TradeEvent>;
  private readonly books = new Map<string, BookEvent>();
  private readonly tickers = new Map<string, TickerEvent>();

  constructor(tradesKept = 500) {
    this.trades = new RingsByKey(tradesKept);
  }

  /** Takes in a trade, book or ticker (candles are stored, not kept here). */
  take(event: MarketEvent): void {
    switch (event.kind) {
      case "trade":
        this.trades.push(event.instrumentKey, event);
        return;
      case "book":
        this.books.set(event.instrumentKey, event);
        return;
      case "ticker":
        this.tickers.set(event.instrumentKey, event);
        return;
    }
  }

  /** The newest `limit` trades, oldest first. */
  recentTrades(instrumentKey: string, limit = 100): TradeEvent[] {
    return this.trades.newest(instrumentKey, limit);
  }

  bookOf(instrumentKey: string): { book: BookEvent | null; ticker: TickerEvent | null } {
    return { book: this.books.get(instrumentKey) ?? null, ticker: this.tickers.get(instrumentKey) ?? null };
  }
}
