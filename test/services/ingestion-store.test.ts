/**
 * Ingestion and the market data store on an in-process broker (the embedded DuckDB store): every trade,
 * book snapshot and closed candle of the feed is stored once, a redelivery changes nothing, history is
 * served at every timeframe, coverage shows what is held, and retention drops what is too old.
 */
import path from "node:path";
import { type BookEvent, type Candle, type CandleEvent, type MarketCoverage, type MarketEvent, TOPICS, type TradeEvent } from "../../schemas";
import type { BusMessage } from "../../lib/bus/types";
import { ManualClock, wallClock } from "../../lib/clock";
import { str } from "../../lib/decimal";
import { openMarketStore } from "../../lib/marketdata/open";
import { TIMEFRAME_MS, type MarketDataStore, type MinuteCandle } from "../../lib/marketdata/types";
import { startPlatform, tempDataDir, waitFor, type Platform } from "../helpers/platform";

jest.setTimeout(120_000);

const KEY = "binance:BTC/USDT";
const DAY = TIMEFRAME_MS["1d"];
const EVERYTHING = { from: 0, to: 8_640_000_000_000_000 };

const storeOf = (platform: Platform) => (platform.broker.getLocalService("ingestion") as unknown as { store: MarketDataStore }).store;

async function all<T>(pages: AsyncIterable<T[]>): Promise<T[]> {
  const rows: T[] = [];
  for await (const page of pages) rows.push(...page);
  return rows;
}

/** Waits until the ingestion group has taken every message of `market.raw.data` (its lag is 0). */
async function ingested(platform: Platform): Promise<void> {
  await waitFor(async () => {
    const [stats] = await platform.bus.stats([TOPICS.marketRawData]);
    return stats!.groups.find((g) => g.group === "ingestion")?.lag === 0;
  }, "ingestion to take every market event");
}

describe("ingestion's market data store", () => {
  let platform: Platform;
  const raw: BusMessage[] = [];
  /** The feed's messages, as the stream gave them (`raw` also gets the redelivered ones). */
  let feed: BusMessage[] = [];

  beforeAll(async () => {
    platform = await startPlatform({ services: ["gateway", "exchange", "risk", "ingestion"], config: { simSpeed: 600, backfillCandles: 120 } });
    await platform.bus.subscribe({ topics: [TOPICS.marketRawData], group: "test-raw", handler: async (m) => void raw.push(m) });
    await platform.broker.call("risk.registerInstrument", { exchange: "binance", symbol: "BTC/USDT" });
    const events = () => raw.map((m) => (JSON.parse(m.value) as { payload: MarketEvent }).payload);
    await waitFor(() => events().filter((e) => e.kind === "candle" && e.closed).length >= 10 && events().some((e) => e.kind === "book"), "closed candles and books");
    await platform.broker.call("exchange.stopMarketDataStream", { instrumentKey: KEY });
    await ingested(platform);
    feed = [...raw];
  });
  afterAll(() => platform?.stop());

  const payloads = () => feed.map((m) => (JSON.parse(m.value) as { payload: MarketEvent }).payload);

  it("stores every trade, book snapshot and closed 1-minute candle of the feed", async () => {
    const store = storeOf(platform);
    const trades = payloads().filter((e): e is TradeEvent => e.kind === "trade");
    const books = payloads().filter((e): e is BookEvent => e.kind === "book");
    const closed = payloads().filter((e): e is CandleEvent => e.kind === "candle" && e.closed);
    expect(trades.length).toBeGreaterThan(100);
    const storedTrades = await all(store.readTrades(KEY, EVERYTHING));
    expect(storedTrades.map((t) => [t.time, t.tradeId, t.price, t.quantity, t.takerSide]).sort()).toEqual(
      trades.map((t) => [t.time, t.tradeId, str(t.price), str(t.quantity), t.takerSide]).sort(),
    );
    const storedBooks = await all(store.readBooks(KEY, EVERYTHING));
    expect(storedBooks.map((b) => [b.time, b.bids, b.asks])).toEqual([...books].sort((a, b) => a.time - b.time).map((b) => [b.time, b.bids, b.asks]));
    // The live candles are stored as they came, after the backfilled ones.
    const candles = await platform.broker.call<Candle[], object>("ingestion.candles", { instrument: KEY, limit: 5000 });
    const live = new Map(candles.map((c) => [c.openTime, c]));
    for (const c of closed) {
      expect(live.get(c.openTime)).toEqual({ instrumentKey: KEY, timeframe: "1m", openTime: c.openTime, closeTime: c.closeTime, open: str(c.open), high: str(c.high), low: str(c.low), close: str(c.close), volume: str(c.volume), tradeCount: c.tradeCount });
    }
    expect(candles.length).toBeGreaterThanOrEqual(120 + closed.length - 1);
  });

  it("writes nothing twice when the feed's messages come again", async () => {
    const store = storeOf(platform);
    const before = await store.coverage(KEY);
    await platform.bus.publish(TOPICS.marketRawData, feed.map(({ key, value, headers }) => ({ key, value, headers })));
    await ingested(platform);
    expect(await store.coverage(KEY)).toEqual(before);
  });

  it("keeps the first version of a minute given again with other values (a restarted feed re-running it)", async () => {
    const message = [...feed].reverse().find((m) => {
      const payload = (JSON.parse(m.value) as { payload: MarketEvent }).payload;
      return payload.kind === "candle" && payload.closed;
    })!;
    const envelope = JSON.parse(message.value) as { payload: CandleEvent };
    const first = { ...envelope.payload };
    const rerun = { ...envelope, payload: { ...first, close: first.low === first.close ? first.high : first.low } };
    await platform.bus.publish(TOPICS.marketRawData, [{ key: message.key, value: JSON.stringify(rerun), headers: message.headers }]);
    await ingested(platform);
    const [stored] = await platform.broker.call<Candle[], object>("ingestion.candles", { instrument: KEY, after: first.openTime - 1, before: first.openTime + 1, limit: 1 });
    expect(rerun.payload.close).not.toBe(first.close);
    expect(stored!.close).toBe(str(first.close));
  });

  it("serves candles of every timeframe, made of the stored 1-minute candles, and coverage", async () => {
    const minutes = await platform.broker.call<Candle[], object>("ingestion.candles", { instrument: KEY, limit: 5000 });
    for (const timeframe of ["5m", "15m", "1h"] as const) {
      const span = TIMEFRAME_MS[timeframe];
      const buckets = new Map<number, Candle[]>();
      for (const c of minutes) buckets.set(c.openTime - (c.openTime % span), [...(buckets.get(c.openTime - (c.openTime % span)) ?? []), c]);
      const expected = [...buckets].map(([openTime, cs]) => ({
        openTime,
        open: cs[0]!.open,
        high: cs.reduce((m, c) => (Number(c.high) > Number(m) ? c.high : m), cs[0]!.high),
        low: cs.reduce((m, c) => (Number(c.low) < Number(m) ? c.low : m), cs[0]!.low),
        close: cs[cs.length - 1]!.close,
        tradeCount: cs.reduce((n, c) => n + c.tradeCount, 0),
      }));
      const { status, body } = await platform.api("GET", `/api/market/candles?instrument=${encodeURIComponent(KEY)}&timeframe=${timeframe}&limit=5000`);
      expect(status).toBe(200);
      expect((body as Candle[]).map(({ openTime, open, high, low, close, tradeCount }) => ({ openTime, open, high, low, close, tradeCount }))).toEqual(expected);
      expect((body as Candle[]).every((c) => c.timeframe === timeframe && c.closeTime === c.openTime + span - 1)).toBe(true);
    }
    const coverage = await platform.api("GET", `/api/market/coverage?instrument=${encodeURIComponent(KEY)}`);
    expect(coverage.status).toBe(200);
    const [held] = coverage.body as MarketCoverage[];
    expect(held).toMatchObject({ instrumentKey: KEY, candles: { rows: minutes.length, first: minutes[0]!.openTime, last: minutes[minutes.length - 1]!.openTime, gaps: [] } });
    expect(held!.trades!.rows).toBe(payloads().filter((e) => e.kind === "trade").length);
  });

  it("refuses a timeframe it does not know with a 422 naming the field", async () => {
    const { status, body } = await platform.api("GET", `/api/market/candles?instrument=${encodeURIComponent(KEY)}&timeframe=2h`);
    expect(status).toBe(422);
    expect(body.data).toEqual([expect.objectContaining({ field: "timeframe" })]);
  });
});

describe("retention", () => {
  it("drops trades and books older than their max age at start, keeping candles as configured", async () => {
    const dataDir = tempDataDir();
    const now = wallClock.now();
    const old = now - 30 * DAY;
    const store = await openMarketStore({ kind: "duckdb", path: path.join(dataDir, "market.duckdb") }, new ManualClock(now));
    const candle = (openTime: number): MinuteCandle => ({ instrumentKey: KEY, openTime, open: "1", high: "2", low: "0.5", close: "1.5", volume: "3", tradeCount: 1 });
    const minute = (t: number) => t - (t % 60_000);
    await store.writeCandles([candle(minute(old)), candle(minute(now - DAY))]);
    const trade = (time: number, tradeId: string) => ({ instrumentKey: KEY, time, tradeId, price: "1", quantity: "1", takerSide: "BUY" as const });
    await store.writeTrades([trade(old, "old"), trade(now - DAY, "recent")]);
    await store.writeBooks([{ instrumentKey: KEY, time: old, bids: [["1", "1"]], asks: [["2", "1"]] }, { instrumentKey: KEY, time: now - 60_000, bids: [["1", "1"]], asks: [["2", "1"]] }]);
    await store.close();

    const platform = await startPlatform({
      dataDir,
      services: ["exchange", "risk", "ingestion"],
      config: { retention: { trades: 7 * DAY, books: 2 * DAY, candles: 0, indicators: 0 } },
    });
    try {
      const [held] = await storeOf(platform).coverage(KEY);
      expect(held!.trades).toMatchObject({ rows: 1, first: now - DAY });
      expect(held!.books).toMatchObject({ rows: 1, first: now - 60_000 });
      expect(held!.candles).toMatchObject({ rows: 2, first: minute(old) });
    } finally {
      await platform.stop();
    }
  });
});
