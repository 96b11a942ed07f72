/**
 * What the two SQL stores share above their queries: resampling and the newest-rows windows are the
 * same composition of a store's three queries (`recentBuckets` of rows.ts does the looking back).
 */
import type { FeaturesComputed } from "../../schemas";
import type { Clock } from "../clock";
import { checkRange, checkTimeframe, recentBuckets } from "./rows";
import { MINUTE_MS, TIMEFRAME_MS, type RecentWindow, type TimeRange, type Timeframe, type TimeframeCandle } from "./types";

/** The base of the DuckDB and QuestDB stores (each `implements MarketDataStore` with its own queries). */
export abstract class SqlMarketStore {
  protected constructor(protected readonly clock: Clock) {}

  /**
   * Candles of `timeframe` made of the 1-minute candles in [from, to), in time order; with `limit`, the
   * newest `limit` of them, newest first.
   */
  protected abstract buckets(instrumentKey: string, timeframe: Timeframe, from: number, to: number, limit?: number): Promise<TimeframeCandle[]>;
  /** The newest time of the instrument's rows of `kind` in [from, to). */
  protected abstract newestTime(kind: "candles" | "indicators", instrumentKey: string, from: number, to: number): Promise<number | undefined>;
  /** The newest `limit` indicator rows in [from, to), newest first. */
  protected abstract newestIndicators(instrumentKey: string, from: number, to: number, limit: number): Promise<FeaturesComputed[]>;

  async resample(instrumentKey: string, timeframe: Timeframe, range: TimeRange): Promise<TimeframeCandle[]> {
    checkTimeframe(timeframe);
    checkRange(range);
    return this.buckets(instrumentKey, timeframe, range.from, range.to);
  }

  async recentCandles(instrumentKey: string, timeframe: Timeframe, window: RecentWindow): Promise<TimeframeCandle[]> {
    checkTimeframe(timeframe);
    return recentBuckets(TIMEFRAME_MS[timeframe], window, this.clock.now(), {
      newestMinute: (from, to) => this.newestTime("candles", instrumentKey, from, to),
      newestBuckets: (from, to, limit) => this.buckets(instrumentKey, timeframe, from, to, limit),
    });
  }

  async recentIndicators(instrumentKey: string, window: RecentWindow): Promise<FeaturesComputed[]> {
    return recentBuckets(MINUTE_MS, window, this.clock.now(), {
      newestMinute: (from, to) => this.newestTime("indicators", instrumentKey, from, to),
      newestBuckets: (from, to, limit) => this.newestIndicators(instrumentKey, from, to, limit),
    });
  }
}
