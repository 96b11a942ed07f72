/**
 * Indicators of the larger timeframes (lib/features/timeframes.ts) on the embedded store: each row equals
 * what a FeatureCalculator gives when fed the timeframe's candles from the start of the history, those
 * candles aggregated here from the 1-minute rows, independently of the store's resampling.
 */
import path from "node:path";
import { FeatureCalculator } from "../../lib/features/streaming-features";
import { timeframeIndicators } from "../../lib/features/timeframes";
import { openMarketStore } from "../../lib/marketdata/open";
import { TIMEFRAME_MS, type MarketDataStore, type MinuteCandle, type Timeframe } from "../../lib/marketdata/types";
import { ManualClock } from "../../lib/clock";
import { str } from "../../lib/decimal";
import type { FeatureVector } from "../../schemas";
import { tempDataDir } from "../helpers/wait";

const KEY = "binance:BTC/USDT";
const T0 = Date.UTC(2025, 0, 6);
const MINUTES = 6000;

/** A random walk of 1-minute candles, prices in cents (a seeded generator: the same candles every run). */
function minuteCandles(): MinuteCandle[] {
  let seed = 7;
  const random = () => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
  let cents = 4_000_000;
  const candles: MinuteCandle[] = [];
  for (let i = 0; i < MINUTES; i++) {
    const open = cents;
    cents = Math.max(100, cents + Math.round((random() - 0.5) * 4000));
    const high = Math.max(open, cents) + Math.round(random() * 1500);
    const low = Math.min(open, cents) - Math.round(random() * 1500);
    const price = (c: number) => (c / 100).toFixed(2);
    candles.push({ instrumentKey: KEY, openTime: T0 + i * 60_000, open: price(open), high: price(high), low: price(low), close: price(cents), volume: "1.5", tradeCount: 3 });
  }
  return candles;
}

/** The timeframe's candles as the feature calculator reads them: first open, highest high, lowest low, last close of each bucket. */
function aggregated(candles: MinuteCandle[], timeframe: Timeframe) {
  const span = TIMEFRAME_MS[timeframe];
  const buckets = new Map<number, { openTime: number; closeTime: number; high: string; low: string; close: string }>();
  for (const c of candles) {
    const openTime = c.openTime - (c.openTime % span);
    const bucket = buckets.get(openTime);
    if (!bucket) buckets.set(openTime, { openTime, closeTime: openTime + span - 1, high: c.high, low: c.low, close: c.close });
    else {
      if (Number(c.high) > Number(bucket.high)) bucket.high = c.high;
      if (Number(c.low) < Number(bucket.low)) bucket.low = c.low;
      bucket.close = c.close;
    }
  }
  return [...buckets.values()];
}

/** Feature vectors of an uninterrupted run over all the buckets, by open time. */
function uninterrupted(buckets: ReturnType<typeof aggregated>): Map<number, FeatureVector> {
  const calculator = new FeatureCalculator();
  const vectors = new Map<number, FeatureVector>();
  for (const bucket of buckets) {
    const features = calculator.update(bucket);
    if (features) vectors.set(bucket.openTime, features);
  }
  return vectors;
}

/** Equal to 1e-9 relative, as features.test.ts bounds a cold start after COLD_START_CANDLES candles. */
function expectClose(got: FeatureVector, want: FeatureVector, where: string): void {
  for (const key of Object.keys(want) as (keyof FeatureVector)[]) {
    const floor = key.startsWith("macd") ? 1e-6 * want.close : 1e-12;
    const error = Math.abs(got[key] - want[key]) / Math.max(Math.abs(want[key]), floor);
    if (!(error <= 1e-9)) throw new Error(`${key} of ${where}: ${got[key]} vs ${want[key]}`);
  }
}

describe("indicators of larger timeframes", () => {
  const candles = minuteCandles();
  let store: MarketDataStore;

  beforeAll(async () => {
    store = await openMarketStore({ kind: "duckdb", path: path.join(tempDataDir(), "market.duckdb") }, new ManualClock(T0 + MINUTES * 60_000));
    await store.writeCandles(candles);
  });
  afterAll(() => store.close());

  it("equal a calculator's fed the whole history when the warm-up reaches its start (1h)", async () => {
    const buckets = aggregated(candles, "1h");
    expect(buckets).toHaveLength(100);
    const want = uninterrupted(buckets);
    const rows = await timeframeIndicators(store, KEY, "1h", { limit: 50 });
    expect(rows.map((r) => r.openTime)).toEqual(buckets.slice(-50).map((b) => b.openTime));
    for (const [row, bucket] of rows.map((r, i) => [r, buckets[50 + i]!] as const)) {
      expect(row).toEqual({
        instrumentKey: KEY,
        exchange: "binance",
        symbol: "BTC/USDT",
        timeframe: "1h",
        openTime: bucket.openTime,
        closeTime: bucket.closeTime,
        // The store answers decimals in canonical form (no trailing zeros).
        close: str(bucket.close),
        features: want.get(bucket.openTime),
        receivedAt: bucket.closeTime,
      });
    }
  });

  it("warm up on the candles before the window, to an uninterrupted run's values (5m)", async () => {
    const buckets = aggregated(candles, "5m");
    expect(buckets).toHaveLength(1200);
    const want = uninterrupted(buckets);
    // The newest 100 of 1,200 candles: the warm-up (600) starts at candle 500, not at the beginning.
    const rows = await timeframeIndicators(store, KEY, "5m", { limit: 100 });
    expect(rows.map((r) => r.openTime)).toEqual(buckets.slice(-100).map((b) => b.openTime));
    for (const row of rows) expectClose(row.features, want.get(row.openTime)!, `5m ${row.openTime}`);
  });

  it("serve windows before and after a time, with the warm-up before the window either way (15m)", async () => {
    const buckets = aggregated(candles, "15m");
    const want = uninterrupted(buckets);
    const before = buckets[300]!.openTime;
    const older = await timeframeIndicators(store, KEY, "15m", { before, limit: 20 });
    expect(older.map((r) => r.openTime)).toEqual(buckets.slice(280, 300).map((b) => b.openTime));
    // The 20 candles between the bounds: each has its row, warmed up on the candles before `after`.
    const newer = await timeframeIndicators(store, KEY, "15m", { after: buckets[279]!.openTime, before, limit: 50 });
    expect(newer.map((r) => r.openTime)).toEqual(buckets.slice(280, 300).map((b) => b.openTime));
    for (const row of [...older, ...newer]) expect(row.features).toEqual(want.get(row.openTime));
  });

  it("give fewer rows while the history is too short to warm up, none without candles", async () => {
    // 5 daily candles (the last one partial): too few for the first feature vector.
    expect(await timeframeIndicators(store, KEY, "1d", { limit: 10 })).toEqual([]);
    expect(await timeframeIndicators(store, "binance:ETH/USDT", "5m", { limit: 10 })).toEqual([]);
  });
});
