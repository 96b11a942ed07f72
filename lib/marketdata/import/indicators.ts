/**
 * Indicators of candles written from outside the live stream (an import, a download), with the
 * live code: the FeatureCalculator over the stored 1-minute candles in time order, warmed up on the
 * COLD_START_CANDLES stored before them, each row shaped by `indicatorRow` with the candle's close
 * time as its receipt time (as for backfilled history).
 */
import { historyRows } from "../../features/history";
import { COLD_START_CANDLES, FeatureCalculator } from "../../features/streaming-features";
import type { FeaturesComputed } from "../../../schemas";
import { MINUTE_MS, type MarketDataStore, type MinuteCandle } from "../types";

/** Indicator rows per store write: a year in 100k batches writes as fast as in one (each write scans the stored keys once). */
const INDICATOR_BATCH = 100_000;

export class IndicatorWriter {
  private readonly calculator = new FeatureCalculator();
  private pending: FeaturesComputed[] = [];
  /** Indicator rows written. */
  written = 0;

  private constructor(
    private readonly store: MarketDataStore,
    private readonly instrumentKey: string,
  ) {}

  /** A writer for candles from `from` on, warmed up on the COLD_START_CANDLES stored candles before it (fewer when the store has fewer). */
  static async startingAt(store: MarketDataStore, instrumentKey: string, from: number): Promise<IndicatorWriter> {
    const writer = new IndicatorWriter(store, instrumentKey);
    const before = await store.recentCandles(instrumentKey, "1m", { before: from, limit: COLD_START_CANDLES });
    for (const candle of before) writer.calculator.update(candle);
    return writer;
  }

  /** Feeds candles newer than the last one fed (older ones are skipped), writing their rows in batches. */
  async add(candles: readonly MinuteCandle[]): Promise<void> {
    const last = this.calculator.lastCandleOpenTime;
    const fresh = last === undefined ? candles : candles.filter((c) => c.openTime > last);
    this.pending.push(...historyRows(this.calculator, fresh.map((c) => ({ ...c, timeframe: "1m" as const, closeTime: c.openTime + MINUTE_MS - 1 }))));
    if (this.pending.length >= INDICATOR_BATCH) await this.flush();
  }

  /** Feeds the stored candles whose open time is in [from, to), page by page; `afterPage` (progress, a stop) is told each page's size. */
  async addStored(from: number, to: number, afterPage?: (candles: number) => void): Promise<void> {
    if (to <= from) return;
    for await (const page of this.store.readCandles(this.instrumentKey, { from, to })) {
      await this.add(page);
      afterPage?.(page.length);
    }
  }

  /**
   * Ends the run: the rows of the COLD_START_CANDLES minutes after the last candle fed are computed again
   * (stored candles there got theirs without the ones just written before them), and all are written.
   */
  async finish(): Promise<void> {
    const last = this.calculator.lastCandleOpenTime;
    if (last !== undefined) await this.addStored(last + MINUTE_MS, last + MINUTE_MS + COLD_START_CANDLES * MINUTE_MS);
    await this.flush();
  }

  private async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const rows = this.pending;
    this.pending = [];
    await this.store.writeIndicators(rows);
    this.written += rows.length;
  }
}
