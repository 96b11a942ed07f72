/**
 * Indicators on an in-process broker: the backfilled history gets its indicator rows at
 * registration, and restarts (of the features service, of the whole platform) continue exactly
 * where an uninterrupted run would be, never going back in time on `features.indicators`.
 */
import fs from "node:fs";
import path from "node:path";
import { SERVICE_SCHEMAS } from "../../services";
import { type Candle, type CandleEvent, type FeatureVector, type FeaturesComputed, TOPICS } from "../../schemas";
import type { BusMessage } from "../../lib/bus/types";
import { createEnvelope, toRecord } from "../../lib/bus/envelope";
import fixture from "../fixtures/indicators/btc-usdt-1m.json";
import { FeatureCalculator, WARMUP_CANDLES } from "../../lib/features/streaming-features";
import { startPlatform, tempDataDir, waitFor, type Platform } from "../helpers/platform";

jest.setTimeout(120_000);

const KEY = "binance:BTC/USDT";
const BACKFILL = 300;
const SERVICES = ["exchange", "risk", "ingestion", "features"] as const;

async function stored<T>(platform: Platform, action: "ingestion.candles" | "ingestion.indicators"): Promise<T[]> {
  return platform.broker.call<T[], { instrument: string; limit: number }>(action, { instrument: KEY, limit: 5000 });
}

/** Every stored indicator row equals a fresh calculator run over all the stored candles, uninterrupted. */
async function expectUninterrupted(platform: Platform): Promise<number> {
  const candles = await stored<Candle>(platform, "ingestion.candles");
  const rows = new Map((await stored<FeaturesComputed>(platform, "ingestion.indicators")).map((r) => [r.openTime, r.features]));
  const calculator = new FeatureCalculator();
  const expected = new Map<number, FeatureVector>();
  for (const candle of candles) {
    const features = calculator.update(candle);
    if (features) expected.set(candle.openTime, features);
  }
  for (const [openTime, features] of rows) expect([openTime, features]).toEqual([openTime, expected.get(openTime)]);
  return rows.size;
}

interface Watched {
  openTime: number;
  features: FeatureVector;
  idempotencyKey?: string;
}

/** Watches `features.indicators`: per key, time never goes back and a repeated candle repeats its values. */
function watch(platform: Platform): { messages: Watched[] } {
  const watched = { messages: [] as Watched[] };
  void platform.bus.subscribe({
    topics: [TOPICS.featuresIndicators],
    group: "test-indicators",
    handler: async (m: BusMessage) => {
      const { payload, idempotencyKey } = JSON.parse(m.value) as { payload: FeaturesComputed; idempotencyKey?: string };
      watched.messages.push({ openTime: payload.openTime, features: payload.features, idempotencyKey });
    },
  });
  return watched;
}

/** A closed candle of the reference fixture as the facade publishes it. */
function candleEvent(i: number): CandleEvent {
  const c = fixture.candles[i];
  return {
    kind: "candle", instrumentKey: "binance:ETH/USDT", exchange: "binance", symbol: "ETH/USDT", time: c.openTime + 60_000, receivedAt: c.openTime + 60_000,
    timeframe: "1m", openTime: c.openTime, closeTime: c.openTime + 59_999, open: c.open, high: c.high, low: c.low, close: c.close, volume: "1", tradeCount: 1, closed: true,
  };
}

async function publishCandles(platform: Platform, indexes: number[]): Promise<void> {
  await platform.bus.publish(TOPICS.marketRawData, indexes.map((i) => toRecord(createEnvelope(TOPICS.marketRawData, candleEvent(i), "test"))));
}

function expectForwardOnly(messages: Array<{ openTime: number; features: FeatureVector }>): void {
  const seen = new Map<number, FeatureVector>();
  let last = -Infinity;
  for (const { openTime, features } of messages) {
    if (seen.has(openTime)) expect(features).toEqual(seen.get(openTime));
    expect(openTime).toBeGreaterThanOrEqual(last);
    seen.set(openTime, features);
    last = openTime;
  }
}

describe("indicator history and restarts", () => {
  it("skips a redelivered candle and repeats the identical message when its state was not stored", async () => {
    const platform = await startPlatform({ services: [...SERVICES] });
    try {
      const watched = watch(platform);
      await publishCandles(platform, Array.from({ length: 40 }, (_, i) => i));
      await waitFor(() => watched.messages.length === 40 - WARMUP_CANDLES + 1, "the first indicator messages");
      // Redeliveries of consumed candles, then the next one: only the next one is published.
      await publishCandles(platform, [36, 38, 39, 40]);
      await waitFor(() => watched.messages.length === 8, "the next candle's message");
      await new Promise((r) => setTimeout(r, 300));
      expect(watched.messages.map((m) => m.openTime)).toEqual(fixture.candles.slice(WARMUP_CANDLES - 1, 41).map((c) => c.openTime));

      // A crash between publishing and storing the state: the retry publishes the identical message.
      const features = platform.broker.getLocalService("features") as unknown as { save: (...args: unknown[]) => Promise<void> };
      const save = features.save;
      let failures = 0;
      features.save = async function (this: unknown, ...args: unknown[]) {
        if (failures++ === 0) throw new Error("killed before the state was stored");
        return save.apply(this, args);
      };
      await publishCandles(platform, [41, 42]);
      await waitFor(() => watched.messages.length === 11, "candle 41 twice and candle 42");
      const [first, again, next] = watched.messages.slice(8);
      expect(again).toEqual(first);
      expect(first.idempotencyKey).toBe(`binance:ETH/USDT|${fixture.candles[41].openTime}`);
      expect(next.openTime).toBe(fixture.candles[42].openTime);
      // The values are the reference run's.
      const calculator = new FeatureCalculator();
      const vectors = fixture.candles.slice(0, 43).map((c) => calculator.update(c));
      expect(watched.messages.map((m) => m.features)).toEqual([...vectors.slice(WARMUP_CANDLES - 1, 42), vectors[41], vectors[42]]);
      expectForwardOnly(watched.messages);
    } finally {
      await platform.stop();
    }
  });

  it("computes the backfilled candles' indicators at registration, equal to an uninterrupted calculator", async () => {
    // One simulated second per second: no live candle closes during the test.
    const platform = await startPlatform({ services: [...SERVICES], config: { simSpeed: 1, backfillCandles: BACKFILL } });
    try {
      const started = Date.now();
      await platform.broker.call("risk.registerInstrument", { exchange: "binance", symbol: "BTC/USDT" });
      const rows = await waitFor(async () => {
        const r = await stored<FeaturesComputed>(platform, "ingestion.indicators");
        return r.length >= BACKFILL - WARMUP_CANDLES + 1 ? r : undefined;
      }, "the backfill's indicator rows", 10_000);
      expect(Date.now() - started).toBeLessThan(10_000);
      const candles = await stored<Candle>(platform, "ingestion.candles");
      expect(candles.length).toBeGreaterThanOrEqual(BACKFILL);
      // One row per candle from the warm-up on: the chart's panes cover the whole backfill.
      expect(rows.map((r) => r.openTime)).toEqual(candles.slice(WARMUP_CANDLES - 1).map((c) => c.openTime));
      expect(await expectUninterrupted(platform)).toBe(rows.length);
      const api = await platform.broker.call<FeaturesComputed[], { instrument: string; limit: number }>("ingestion.indicators", { instrument: KEY, limit: 1 });
      expect(api[0]).toMatchObject({ instrumentKey: KEY, exchange: "binance", symbol: "BTC/USDT", timeframe: "1m" });
    } finally {
      await platform.stop();
    }
  });

  it("continues exactly after a restart of the features service, of the whole platform, and without its stored state", async () => {
    const dataDir = tempDataDir();
    const config = { simSpeed: 600, backfillCandles: BACKFILL };
    let platform = await startPlatform({ dataDir, services: [...SERVICES], config });
    try {
      let watched = watch(platform);
      await platform.broker.call("risk.registerInstrument", { exchange: "binance", symbol: "BTC/USDT" });
      const liveCount = async (n: number) =>
        waitFor(async () => watched.messages.length >= n && (await expectUninterrupted(platform)), `${n} live indicator messages`, 60_000);
      await liveCount(20);

      // The features service alone: gone while candles keep coming, then back from its stored state.
      await platform.broker.destroyService(platform.broker.getLocalService("features")!);
      const missed = watched.messages.length;
      await waitFor(async () => (await stored<Candle>(platform, "ingestion.candles")).length >= BACKFILL + missed + 40, "candles while features is down");
      platform.broker.createService(SERVICE_SCHEMAS.features);
      await platform.broker.waitForServices(["features"]);
      await liveCount(missed + 60);
      expectForwardOnly(watched.messages);

      // The whole platform: the downtime is backfilled, its indicators computed before the next live one.
      await platform.stop();
      platform = await startPlatform({ dataDir, services: [...SERVICES], config });
      watched = watch(platform);
      await liveCount(20);
      expectForwardOnly(watched.messages);
      const rows = await stored<FeaturesComputed>(platform, "ingestion.indicators");
      const candles = await stored<Candle>(platform, "ingestion.candles");
      // Every stored candle after the warm-up has its row: live, restarted and backfilled alike. Counted
      // up to the newest row, as candles keep coming and features may be a few behind on a busy machine.
      const newestRow = Math.max(...rows.map((r) => r.openTime));
      const candlesUpToNewestRow = candles.filter((c) => c.openTime <= newestRow).length;
      expect(rows.length).toBeGreaterThanOrEqual(candlesUpToNewestRow - WARMUP_CANDLES - 5);

      // Without the stored state (an upgrade, a lost store): a cold start on the stored candles at start.
      await platform.stop();
      fs.rmSync(path.join(dataDir, "store", "features.state.db"));
      platform = await startPlatform({ dataDir, services: [...SERVICES], config });
      watched = watch(platform);
      await liveCount(20);
      expectForwardOnly(watched.messages);
    } finally {
      await platform.stop();
    }
  });
});
