/**
 * The replay feed of a backtest over an embedded (DuckDB) market data store: the recorded stream played
 * exactly, in time order across instruments; candles-only history played as the documented intrabar
 * path; the clock set by the data; the backfill before the replay position; the same sequence twice.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ReplayFeed } from "../../lib/backtest/replay-feed";
import { ManualClock } from "../../lib/clock";
import { openMarketStore } from "../../lib/marketdata/open";
import type { MarketDataStore, MinuteCandle, StoredBook, StoredTrade } from "../../lib/marketdata/types";
import type { MarketEventDraft } from "../../schemas";

jest.setTimeout(60_000);

const BTC = "binance:BTC/USDT";
const ETH = "binance:ETH/USDT";
const SOL = "binance:SOL/USDT";
const T0 = Date.UTC(2025, 0, 1);
const MIN = 60_000;
const RANGE = { from: T0, to: T0 + 3 * MIN };

const candle = (instrumentKey: string, openTime: number, open: string, high: string, low: string, close: string, volume: string, tradeCount = 0): MinuteCandle => ({ instrumentKey, openTime, open, high, low, close, volume, tradeCount });
const trade = (instrumentKey: string, time: number, tradeId: string, price: string, quantity: string, takerSide: "BUY" | "SELL"): StoredTrade => ({ instrumentKey, time, tradeId, price, quantity, takerSide });
const book = (instrumentKey: string, time: number, bid: string, ask: string): StoredBook => ({ instrumentKey, time, bids: [[bid, "1"]], asks: [[ask, "2"]] });

// Recorded: BTC and ETH have trades, books and candles; SOL has imported candles only.
const trades = [
  trade(BTC, T0 + 1000, "b1", "100", "0.5", "BUY"),
  trade(BTC, T0 + 30_000, "b2", "101", "0.25", "SELL"),
  trade(BTC, T0 + 59_999, "b3", "102", "1", "BUY"),
  trade(BTC, T0 + 61_000, "b4", "103", "1", "BUY"),
  trade(BTC, RANGE.to, "b5", "104", "1", "BUY"), // at the range's end: not played
  trade(ETH, T0 + 1000, "e1", "10", "3", "SELL"),
  trade(ETH, T0 + 20_000, "e2", "11", "2", "BUY"),
];
const books = [book(BTC, T0 + 30_000, "100.5", "101.5"), book(ETH, T0 + 5000, "9.9", "10.1")];
const recordedCandles = [
  candle(BTC, T0 - MIN, "98", "99", "97", "99", "4", 4), // before the range: history only
  candle(BTC, T0, "100", "102", "100", "102", "1.75", 3),
  candle(BTC, T0 + MIN, "103", "103", "103", "103", "1", 1),
  candle(ETH, T0, "10", "11", "10", "11", "5", 2),
];
const solCandles = [
  candle(SOL, T0, "100", "110", "95", "105", "2", 7), // rising: open, low, high, close
  candle(SOL, T0 + MIN, "105", "106", "90", "91", "1", 5), // falling: open, high, low, close
  candle(SOL, T0 + 2 * MIN, "91", "91", "91", "91", "0"), // flat, no volume
  candle(SOL, T0 + 3 * MIN, "91", "92", "90", "92", "1"), // outside the range
];

let dir: string;
let store: MarketDataStore;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "replay-feed-"));
  store = await openMarketStore({ kind: "duckdb", path: join(dir, "market.duckdb") }, new ManualClock());
  await store.writeTrades(trades);
  await store.writeBooks(books);
  await store.writeCandles([...recordedCandles, ...solCandles]);
});
afterAll(async () => {
  await store?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Played {
  events: MarketEventDraft[];
  /** The feed's clock as each batch arrived, with the batch's times. */
  clocks: Array<{ now: number; times: number[] }>;
}

/** Subscribes the instruments, plays the range with small pages (several reads per stream) and records what came out. */
async function replay(instruments: string[], options: { pageSize?: number } = {}): Promise<Played & { feed: ReplayFeed }> {
  const feed = new ReplayFeed({ store, range: RANGE, pageSize: options.pageSize ?? 2 });
  const played: Played = { events: [], clocks: [] };
  feed.onEvents((events) => {
    played.events.push(...events);
    played.clocks.push({ now: feed.now(), times: events.map((e) => e.time) });
  });
  for (const key of instruments) await feed.subscribe(key);
  await feed.run();
  return { ...played, feed };
}

const header = (instrumentKey: string) => ({ instrumentKey, exchange: "binance", symbol: instrumentKey.split(":")[1]! });
const tradeEvent = (t: StoredTrade): MarketEventDraft => ({ kind: "trade", ...header(t.instrumentKey), time: t.time, tradeId: t.tradeId, price: t.price, quantity: t.quantity, takerSide: t.takerSide });
const bookEvent = (b: StoredBook): MarketEventDraft => ({ kind: "book", ...header(b.instrumentKey), time: b.time, bids: b.bids, asks: b.asks });
const candleEvent = (c: MinuteCandle): MarketEventDraft => ({
  kind: "candle",
  ...header(c.instrumentKey),
  time: c.openTime + MIN - 1,
  timeframe: "1m",
  openTime: c.openTime,
  closeTime: c.openTime + MIN - 1,
  open: c.open,
  high: c.high,
  low: c.low,
  close: c.close,
  volume: c.volume,
  tradeCount: c.tradeCount,
  closed: true,
});

describe("ReplayFeed", () => {
  it("replays the recorded trades, books and candles of two instruments exactly, in time order", async () => {
    const { events, feed } = await replay([ETH, BTC]);
    expect(feed.fidelityOf(BTC)).toBe("recorded");
    expect(feed.fidelityOf(ETH)).toBe("recorded");
    // Written out by hand: time order; at equal times BTC before ETH, and trade before book before candle.
    expect(events).toEqual([
      tradeEvent(trades[0]!), // BTC T0+1s
      tradeEvent(trades[5]!), // ETH T0+1s
      bookEvent(books[1]!), // ETH T0+5s
      tradeEvent(trades[6]!), // ETH T0+20s
      tradeEvent(trades[1]!), // BTC T0+30s trade
      bookEvent(books[0]!), // BTC T0+30s book
      tradeEvent(trades[2]!), // BTC T0+59.999s: the minute's last trade
      candleEvent(recordedCandles[1]!), // BTC minute T0 closes
      candleEvent(recordedCandles[3]!), // ETH minute T0 closes
      tradeEvent(trades[3]!), // BTC T0+61s
      candleEvent(recordedCandles[2]!), // BTC minute T0+1m closes
    ]);
  });

  it("plays candles-only history as the documented intrabar path, each minute closed by its candle", async () => {
    const { events, feed } = await replay([SOL]);
    expect(feed.fidelityOf(SOL)).toBe("candles");
    const t = (time: number, index: number, price: string, quantity: string, takerSide: "BUY" | "SELL") =>
      tradeEvent(trade(SOL, time, `bar-${time - (index * 15_000)}-${index}`, price, quantity, takerSide));
    expect(events).toEqual([
      // 100/110/95/105, volume 2, rising: open 100, low 95, high 110, close 105, a quarter of 2 each.
      t(T0, 0, "100", "0.5", "BUY"),
      t(T0 + 15_000, 1, "95", "0.5", "SELL"),
      t(T0 + 30_000, 2, "110", "0.5", "BUY"),
      t(T0 + 45_000, 3, "105", "0.5", "SELL"),
      candleEvent(solCandles[0]!),
      // 105/106/90/91, volume 1, falling: open 105, high 106, low 90, close 91.
      t(T0 + MIN, 0, "105", "0.25", "SELL"),
      t(T0 + MIN + 15_000, 1, "106", "0.25", "BUY"),
      t(T0 + MIN + 30_000, 2, "90", "0.25", "SELL"),
      t(T0 + MIN + 45_000, 3, "91", "0.25", "BUY"),
      candleEvent(solCandles[1]!),
      // Flat, no volume: four prints at 91 of nothing, the direction of a close >= open bar.
      t(T0 + 2 * MIN, 0, "91", "0", "BUY"),
      t(T0 + 2 * MIN + 15_000, 1, "91", "0", "BUY"),
      t(T0 + 2 * MIN + 30_000, 2, "91", "0", "BUY"),
      t(T0 + 2 * MIN + 45_000, 3, "91", "0", "BUY"),
      candleEvent(solCandles[2]!),
    ]);
  });

  it("never prints a price outside the candle's low and high", async () => {
    const key = "binance:XRP/USDT";
    const bars = [
      candle(key, T0, "0.5", "0.52", "0.49", "0.51", "1000"),
      candle(key, T0 + MIN, "0.51", "0.51", "0.47", "0.47", "3"),
      candle(key, T0 + 2 * MIN, "0.47", "0.6", "0.47", "0.6", "0.00000001"),
    ];
    await store.writeCandles(bars);
    const { events } = await replay([key]);
    const tradesPlayed = events.filter((e) => e.kind === "trade");
    expect(tradesPlayed).toHaveLength(12);
    for (const e of tradesPlayed) {
      const bar = bars.find((b) => b.openTime <= e.time && e.time < b.openTime + MIN)!;
      expect(Number(e.price)).toBeGreaterThanOrEqual(Number(bar.low));
      expect(Number(e.price)).toBeLessThanOrEqual(Number(bar.high));
    }
    expect(events.filter((e) => e.kind === "candle").map((e) => e.time)).toEqual(bars.map((b) => b.openTime + MIN - 1));
  });

  it("sets the clock to each batch's time before handing it over, never moving back, and to the end of what it played", async () => {
    const { clocks, feed } = await replay([BTC, ETH, SOL]);
    expect(clocks.length).toBeGreaterThan(10);
    let previous = -Infinity;
    for (const { now, times } of clocks) {
      expect(times.every((time) => time === now)).toBe(true);
      expect(now).toBeGreaterThanOrEqual(previous);
      previous = now;
    }
    expect(feed.now()).toBe(RANGE.to);
  });

  it("advances in steps: advance(until) plays only what comes before until", async () => {
    const feed = new ReplayFeed({ store, range: RANGE, pageSize: 1 });
    const times: number[] = [];
    feed.onEvents((events) => void times.push(...events.map((e) => e.time)));
    await feed.subscribe(BTC);
    expect(feed.now()).toBe(T0);
    expect(await feed.advance(T0 + 30_000)).toBe(1);
    expect(feed.now()).toBe(T0 + 30_000);
    expect(await feed.advance(T0 + MIN)).toBe(4); // trade and book at 30 s, trade and candle at 59.999 s
    expect(await feed.run()).toBe(2);
    expect(times).toEqual([T0 + 1000, T0 + 30_000, T0 + 30_000, T0 + 59_999, T0 + 59_999, T0 + 61_000, T0 + MIN + 59_999]);
  });

  it("waits for a listener's promise before handing over the next batch", async () => {
    const feed = new ReplayFeed({ store, range: RANGE });
    const log: string[] = [];
    feed.onEvents(async (events) => {
      log.push(`start ${events[0]!.time}`);
      await new Promise((resolve) => setImmediate(resolve));
      log.push(`end ${events[0]!.time}`);
    });
    await feed.subscribe(ETH);
    await feed.run();
    const times = [T0 + 1000, T0 + 5000, T0 + 20_000, T0 + MIN - 1];
    expect(log).toEqual(times.flatMap((time) => [`start ${time}`, `end ${time}`]));
  });

  it("starts an instrument subscribed mid-replay at the replay position", async () => {
    const feed = new ReplayFeed({ store, range: RANGE });
    const played: MarketEventDraft[] = [];
    feed.onEvents((events) => void played.push(...events));
    await feed.subscribe(BTC);
    await feed.advance(T0 + 10_000);
    await feed.subscribe(ETH);
    await feed.advance(T0 + MIN);
    expect(played.filter((e) => e.instrumentKey === ETH)).toEqual([tradeEvent(trades[6]!), candleEvent(recordedCandles[3]!)]);
    expect(feed.subscriptions()).toEqual([BTC, ETH]);
  });

  it("answers history with the stored candles closed before the replay position", async () => {
    const feed = new ReplayFeed({ store, range: RANGE });
    await feed.subscribe(BTC);
    expect(await feed.history(BTC, 10)).toEqual([candleEvent(recordedCandles[0]!)]);
    await feed.advance(T0 + MIN - 1); // the minute T0 has not closed yet
    expect(await feed.history(BTC, 10)).toEqual([candleEvent(recordedCandles[0]!)]);
    await feed.advance(T0 + MIN);
    expect(await feed.history(BTC, 10)).toEqual([candleEvent(recordedCandles[0]!), candleEvent(recordedCandles[1]!)]);
    expect(await feed.history(BTC, 1)).toEqual([candleEvent(recordedCandles[1]!)]);
  });

  it("reports no fidelity and plays nothing for an instrument without data in the range", async () => {
    const { events, feed } = await replay(["binance:ADA/USDT"]);
    expect(feed.fidelityOf("binance:ADA/USDT")).toBe("none");
    expect(events).toEqual([]);
  });

  it("refuses a range that ends before it starts or starts before the epoch, naming the field", () => {
    expect(() => new ReplayFeed({ store, range: { from: T0, to: T0 } })).toThrow(expect.objectContaining({ code: 422, data: [expect.objectContaining({ field: "to" })] }));
    expect(() => new ReplayFeed({ store, range: { from: -1, to: T0 } })).toThrow(expect.objectContaining({ code: 422, data: [expect.objectContaining({ field: "from" })] }));
  });

  it("replays from the epoch itself, with nothing closed before it", async () => {
    const key = "binance:DOT/USDT";
    await store.writeCandles([candle(key, 0, "5", "6", "4", "5.5", "8")]);
    const feed = new ReplayFeed({ store, range: { from: 0, to: 2 * MIN } });
    const played: MarketEventDraft[] = [];
    feed.onEvents((events) => void played.push(...events));
    expect(await feed.history(key, 5)).toEqual([]);
    await feed.subscribe(key);
    expect(await feed.run()).toBe(5);
    expect(played.map((e) => (e.kind === "trade" ? e.price : e.kind))).toEqual(["5", "4", "6", "5.5", "candle"]);
    expect(await feed.history(key, 5)).toHaveLength(1);
  });

  it("gives the identical event sequence on every run, whatever the page size", async () => {
    const first = await replay([BTC, ETH, SOL], { pageSize: 1 });
    const second = await replay([SOL, ETH, BTC], { pageSize: 1000 });
    expect(second.events).toEqual(first.events);
    expect(first.events.length).toBe(11 + 15);
  });
});
