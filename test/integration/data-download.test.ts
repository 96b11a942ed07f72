/**
 * `npm run data -- download`: ccxt's real binance class against the local Binance stand-in
 * (test/fakes/binance-server.ts), paging klines into the embedded store, stopped by Ctrl-C and resumed.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { wallClock } from "../../lib/clock";
import { str } from "../../lib/decimal";
import { WARMUP_CANDLES } from "../../lib/features/streaming-features";
import { ImportError, ImportInterrupted } from "../../lib/marketdata/import/candle-rows";
import { ccxtMinuteBars, downloadCandles } from "../../lib/marketdata/import/downloader";
import { openMarketStore } from "../../lib/marketdata/open";
import type { MarketDataStore, MinuteCandle } from "../../lib/marketdata/types";
import { Progress } from "../../lib/progress";
import { CcxtConnection, DEFAULT_TUNING } from "../../lib/venue/ccxt-connection";
import type { FeaturesComputed } from "../../schemas";
import { BTCUSDT, FakeBinance } from "../fakes/binance-server";

const MIN = 60_000;
const KEY = "binance:BTC/USDT";
const EVERYTHING = { from: 0, to: Date.UTC(2100, 0, 1) };

async function collect<T>(pages: AsyncIterable<T[]>): Promise<T[]> {
  const rows: T[] = [];
  for await (const page of pages) rows.push(...page);
  return rows;
}

describe("downloading 1-minute candles from an exchange", () => {
  let fake: FakeBinance;
  let connection: CcxtConnection;
  let dir: string;
  let opened = 0;
  const stores: MarketDataStore[] = [];
  const openStore = async () => {
    const store = await openMarketStore({ kind: "duckdb", path: join(dir, `market-${++opened}.duckdb`) }, wallClock);
    stores.push(store);
    return store;
  };
  /** The exchange's klines read over plain HTTP (not through ccxt), from `startTime`, as candles. */
  const klinesFrom = async (startTime: number, limit: number): Promise<MinuteCandle[]> => {
    const answer = await fetch(`http://127.0.0.1:${fake.port}/api/v3/klines?symbol=BTCUSDT&startTime=${startTime}&limit=${limit}`);
    const rows = (await answer.json()) as Array<[number, string, string, string, string, string]>;
    return rows.map(([t, o, h, l, c, v]) => ({ instrumentKey: KEY, openTime: t, open: str(o), high: str(h), low: str(l), close: str(c), volume: str(v), tradeCount: 0 }));
  };
  const klineRequests = () => fake.requests.filter((r) => r.path === "/api/v3/klines");

  beforeAll(async () => {
    fake = await FakeBinance.start({ markets: [BTCUSDT], historyMinutes: 2600, speed: 1 });
    connection = new CcxtConnection({ exchangeId: "binance", sandbox: false, timeoutMs: 5000, urls: fake.ccxtUrls(), tuning: DEFAULT_TUNING });
    dir = mkdtempSync(join(tmpdir(), "data-download-"));
  });
  afterAll(async () => {
    for (const store of stores) await store.close();
    await connection.close();
    await fake.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("pages forward, stops between pages on Ctrl-C, and a re-run fetches only the rest", async () => {
    const store = await openStore();
    const [first] = await klinesFrom(0, 1);
    const from = first!.openTime;
    const to = from + 2500 * MIN;
    const source = ccxtMinuteBars(connection);
    expect(source.pageLimit).toBe(1000); // ccxt's binance: features.spot.fetchOHLCV.limit

    const controller = new AbortController();
    // Ctrl-C while the first page is written: its progress line is where the test presses it.
    const progress = (label: string, total: number, unit: string) => new Progress({ label, total, unit, clock: wallClock, output: { write: () => controller.abort() }, lineMs: 0 });
    const request = { exchange: "binance", symbol: "BTC/USDT", from, to };
    const before = klineRequests().length;
    const interrupted = await downloadCandles(store, source, request, { clock: wallClock, progress, signal: controller.signal }).catch((err: unknown) => err);
    expect(interrupted).toBeInstanceOf(ImportInterrupted);
    expect(interrupted).toMatchObject({ written: 1000, total: 2500 });
    expect(klineRequests().slice(before).map((r) => Number(r.params.startTime))).toEqual([from]);
    expect((await store.coverage())[0]?.candles?.rows).toBe(1000);

    const resumedFrom = klineRequests().length;
    const resumed = await downloadCandles(store, source, request, { clock: wallClock });
    expect(resumed).toMatchObject({ instrumentKey: KEY, resumedAt: from + 1000 * MIN, to, candles: 1500, requests: 2 });
    expect(klineRequests().slice(resumedFrom).map((r) => [Number(r.params.startTime), Number(r.params.limit)])).toEqual([
      [from + 1000 * MIN, 1000],
      [from + 2000 * MIN, 500],
    ]);

    // A finished download asks for nothing.
    const finishedFrom = klineRequests().length;
    expect(await downloadCandles(store, source, request, { clock: wallClock })).toMatchObject({ resumedAt: to, candles: 0, requests: 0, indicators: 0 });
    expect(klineRequests().length).toBe(finishedFrom);

    // What is stored is what the exchange serves, to the digit.
    const served = [...(await klinesFrom(from, 1000)), ...(await klinesFrom(from + 1000 * MIN, 1000)), ...(await klinesFrom(from + 2000 * MIN, 500))];
    expect(await collect(store.readCandles(KEY, EVERYTHING))).toEqual(served);

    // The indicators of the interrupted and resumed download are those of one uninterrupted run.
    const indicators = await collect(store.readIndicators(KEY, EVERYTHING));
    expect(indicators).toHaveLength(2500 - (WARMUP_CANDLES - 1));
    const once = await openStore();
    await downloadCandles(once, source, request, { clock: wallClock });
    const reference = await collect(once.readIndicators(KEY, EVERYTHING));
    expect(indicators.map((row) => row.openTime)).toEqual(reference.map((row) => row.openTime));
    const relative = (a: FeaturesComputed, b: FeaturesComputed) =>
      Math.max(...Object.keys(a.features).map((f) => {
        const [x, y] = [a.features[f as keyof typeof a.features], b.features[f as keyof typeof b.features]];
        return Math.abs(x - y) / Math.max(Math.abs(y), 1e-6 * Number(a.close));
      }));
    expect(Math.max(...indicators.map((row, i) => relative(row, reference[i]!)))).toBeLessThan(1e-12);
  });

  it("refuses an exchange's page with a malformed candle, naming it, and writes nothing of it", async () => {
    const store = await openStore();
    const [first] = await klinesFrom(0, 1);
    const from = first!.openTime;
    const kline = (t: number, o: string, h: string) => [t, o, h, "98.00000000", "98.50000000", "1.00000000", t + MIN - 1, "0", 1, "0", "0", "0"];
    fake.failNext({ path: "/api/v3/klines" }, { status: 200, body: [kline(from, "100.00000000", "101.00000000"), kline(from + MIN, "100.00000000", "99.00000000")] });
    const request = { exchange: "binance", symbol: "BTC/USDT", from, to: from + 10 * MIN };
    const refusal = await downloadCandles(store, ccxtMinuteBars(connection), request, { clock: wallClock }).catch((err: unknown) => err);
    expect(refusal).toBeInstanceOf(ImportError);
    expect((refusal as Error).message).toBe(`binance BTC/USDT: candle at ${new Date(from + MIN).toISOString()}: high 99 is below the open 100 or the close 98.5`);
    expect(await store.coverage()).toEqual([]);
  });

  it("asks again for a page while the exchange is unreachable or rate-limits, and gives up after 5 tries", async () => {
    const store = await openStore();
    const [first] = await klinesFrom(0, 1);
    const request = { exchange: "binance", symbol: "BTC/USDT", from: first!.openTime, to: first!.openTime + 10 * MIN };
    fake.failNext({ path: "/api/v3/klines" }, { status: 503, body: { code: -1001, msg: "Service unavailable" } });
    fake.failNext({ path: "/api/v3/klines" }, { status: 429, body: { code: -1003, msg: "Too many requests" } });
    const before = klineRequests().length;
    expect(await downloadCandles(store, ccxtMinuteBars(connection), request, { clock: wallClock, retryDelayMs: 10 })).toMatchObject({ candles: 10, requests: 1 });
    expect(klineRequests().length - before).toBe(3);

    // Down for good: a connection of its own, whose circuit breaker opens after 3 failures and fails the 4th and 5th tries fast.
    const own = new CcxtConnection({ exchangeId: "binance", sandbox: false, timeoutMs: 5000, urls: fake.ccxtUrls(), tuning: DEFAULT_TUNING });
    try {
      const offline = { ...request, from: request.to, to: request.to + 10 * MIN };
      fake.failNext({ path: "/api/v3/klines" }, { status: 503, body: { code: -1001, msg: "Service unavailable" } }, DEFAULT_TUNING.breakerThreshold);
      const tried = klineRequests().length;
      await expect(downloadCandles(store, ccxtMinuteBars(own), offline, { clock: wallClock, retryDelayMs: 10 })).rejects.toThrow("exchange binance unreachable");
      expect(klineRequests().length - tried).toBe(DEFAULT_TUNING.breakerThreshold);
    } finally {
      await own.close();
    }
    expect((await store.coverage())[0]?.candles?.rows).toBe(10);
  });

  it("stops at the open minute: only closed candles are stored", async () => {
    const store = await openStore();
    const now = wallClock.now();
    const done = await downloadCandles(store, ccxtMinuteBars(connection), { exchange: "binance", symbol: "BTC/USDT", from: now - 30 * MIN }, { clock: wallClock });
    expect(done.to).toBeLessThanOrEqual(Math.floor(wallClock.now() / MIN) * MIN);
    const candles = await collect(store.readCandles(KEY, EVERYTHING));
    expect(candles.length).toBeGreaterThan(0);
    expect(candles.at(-1)!.openTime + MIN).toBeLessThanOrEqual(done.to);
    // A range in the future has nothing to fetch yet.
    const later = await downloadCandles(store, ccxtMinuteBars(connection), { exchange: "binance", symbol: "BTC/USDT", from: now + 60 * MIN }, { clock: wallClock });
    expect(later).toMatchObject({ candles: 0, requests: 0 });
  });
});
