/**
 * The live feed through ccxt's real binance class against the local Binance-protocol server: market
 * metadata, history, the four streams, reconnect with gap backfill, REST fallback, outages (refused
 * connections, a server that never answers) and rate limits.
 */
import net from "node:net";
import type { ExchangeTuning } from "../../lib/config";
import type { CandleEvent, MarketEventDraft } from "../../schemas";
import { CcxtConnection, DEFAULT_TUNING } from "../../lib/venue/ccxt-connection";
import { CcxtFeed } from "../../lib/venue/ccxt-feed";
import { BTCUSDC, BTCUSDT, ETHUSDT, FakeBinance } from "../fakes/binance-server";
import { waitFor } from "../helpers/platform";
import { freePort } from "../helpers/ports";

jest.setTimeout(30000);

const KEY = "binance:BTC/USDT";
const TUNING: ExchangeTuning = { ...DEFAULT_TUNING, reconnectBaseMs: 100, reconnectMaxMs: 400, breakerCooldownMs: 300, bookIntervalMs: 200 };
const quiet = { info: () => undefined, warn: () => undefined };

function connect(urls: Record<string, unknown>, timeoutMs = 2000): CcxtConnection {
  return new CcxtConnection({ exchangeId: "binance", sandbox: false, timeoutMs, urls, tuning: TUNING });
}

type Batch = { events: MarketEventDraft[]; historical: boolean };

describe("ccxt feed against a local Binance", () => {
  let fake: FakeBinance;
  let conn: CcxtConnection;
  let feed: CcxtFeed;
  const batches: Batch[] = [];
  const candles = () => batches.flatMap((b) => b.events.filter((e): e is Extract<MarketEventDraft, { kind: "candle" }> => e.kind === "candle"));

  beforeAll(async () => {
    fake = await FakeBinance.start({ markets: [BTCUSDT, ETHUSDT, BTCUSDC], historyMinutes: 120 });
    conn = connect(fake.ccxtUrls());
    feed = new CcxtFeed(conn, TUNING, quiet);
    feed.onEvents((events, origin) => batches.push({ events, historical: origin?.historical ?? false }));
  });

  afterAll(async () => {
    await feed?.stop();
    await conn?.close();
    await fake?.stop();
  });

  it("reads tick, lot, minimums and fees from loadMarkets, on spot endpoints only", async () => {
    expect(await feed.market(KEY)).toEqual({
      exchange: "binance", symbol: "BTC/USDT", base: "BTC", quote: "USDT", tickSize: "0.01", lotSize: "0.00001",
      minQuantity: "0.00001", minNotional: "5", makerFee: "0.001", takerFee: "0.001",
    });
    // Spot only: no futures, margin or currency lists; the ticker proves the market answers now.
    expect(new Set(fake.requests.map((r) => r.path))).toEqual(new Set(["/api/v3/exchangeInfo", "/api/v3/ticker/24hr"]));
  });

  it("refuses an unlisted symbol naming the close matches", async () => {
    const err = await feed.market("binance:BTC/USTD").catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "unknown_symbol", details: { closeMatches: ["BTC/USDT", "BTC/USDC"] } });
    expect((err as Error).message).toBe("BTC/USTD is not a spot market of binance; close matches: BTC/USDT, BTC/USDC");
  });

  it("backfills the newest closed candles, gapless, without the minute still open", async () => {
    const history = await feed.history(KEY, 100);
    expect(history).toHaveLength(100);
    history.slice(1).forEach((c, i) => expect(c.openTime - history[i]!.openTime).toBe(60_000));
    expect(history.at(-1)!.openTime).toBeLessThan(Math.floor(fake.now() / 60_000) * 60_000);
    expect(history.every((c) => c.closed && /^[0-9]+(\.[0-9]+)?$/.test(c.close))).toBe(true);
  });

  it("streams trades, tickers, throttled books and closed candles that continue the backfill in order", async () => {
    const through = (await feed.history(KEY, 5)).at(-1)!.openTime;
    await feed.subscribe(KEY);
    const streamed = await waitFor(() => (candles().length >= 3 ? candles() : undefined), "three streamed candles", 15000);
    expect(streamed[0]!.openTime).toBe(through + 60_000);
    streamed.slice(1).forEach((c, i) => expect(c.openTime - streamed[i]!.openTime).toBe(60_000));
    // Each closed candle is the exchange's final kline for the minute.
    const klines = (await conn.exchange.fetchOHLCV("BTC/USDT", "1m", streamed[0]!.openTime, 3)).map((k) => [k[0], String(k[4])]);
    expect(streamed.slice(0, 3).map((c) => [c.openTime, c.close])).toEqual(klines);
    const events = batches.flatMap((b) => b.events);
    const trades = events.filter((e) => e.kind === "trade");
    expect(trades.length).toBeGreaterThan(10);
    const ids = trades.map((t) => Number((t as { tradeId: string }).tradeId));
    expect(new Set(ids).size).toBe(ids.length);
    const ticker = events.find((e) => e.kind === "ticker") as Extract<MarketEventDraft, { kind: "ticker" }>;
    expect(Number(ticker.bid)).toBeLessThan(Number(ticker.ask));
    const books = events.filter((e): e is Extract<MarketEventDraft, { kind: "book" }> => e.kind === "book");
    expect(books.at(-1)!.bids).toHaveLength(20);
    expect(Number(books.at(-1)!.bids[0]![0])).toBeLessThan(Number(books.at(-1)!.asks[0]![0]));
    // The book changes 20 times a second; one every 200 ms goes out.
    const span = books.at(-1)!.time - books[0]!.time;
    expect(books.length).toBeLessThanOrEqual(span / 200 + 2);
    expect(feed.status()[0]!.channels).toMatchObject({ trades: { connected: true }, ticker: { connected: true }, book: { connected: true }, candles: { connected: true } });
  });

  it("reconnects after an outage with backoff, opens and closes the circuit, and backfills the missed minutes", async () => {
    await waitFor(() => candles().length >= 1, "the stream");
    await fake.goOffline();
    await waitFor(() => conn.breaker.status().state === "open", "the circuit to open", 5000);
    const before = candles().length;
    await new Promise((r) => setTimeout(r, 2500)); // 2.5 minutes of the exchange's time pass unseen
    await fake.goOnline();
    await waitFor(() => conn.breaker.status().state === "closed", "the circuit to close", 5000);
    const all = await waitFor(() => (candles().length >= before + 4 ? candles() : undefined), "candles after the outage", 10000);
    all.slice(1).forEach((c, i) => expect(c.openTime - all[i]!.openTime).toBe(60_000));
    expect(batches.some((b) => b.historical && b.events.some((e) => e.kind === "candle"))).toBe(true);
    const status = feed.status()[0]!.channels;
    expect(status.candles.reconnects).toBeGreaterThanOrEqual(1);
    expect(conn.breaker.status().trips).toBeGreaterThanOrEqual(1);
  });

  it("polls REST for a channel the exchange does not stream", async () => {
    const key = "binance:ETH/USDT";
    (conn.exchange.has as Record<string, unknown>).watchTicker = false;
    try {
      await feed.subscribe(key);
      await waitFor(() => batches.some((b) => b.events.some((e) => e.kind === "ticker" && e.instrumentKey === key)), "a polled ticker", 8000);
      expect(feed.status().find((s) => s.instrumentKey === key)!.channels.ticker.mode).toBe("rest");
      expect(fake.requests.some((r) => r.path === "/api/v3/ticker/24hr" && r.params.symbol === "ETHUSDT")).toBe(true);
    } finally {
      (conn.exchange.has as Record<string, unknown>).watchTicker = true;
      await feed.unsubscribe(key);
    }
  });

  it("answers a rate limit as rate_limited without counting it as an outage", async () => {
    fake.failNext({ path: "/api/v3/klines" }, { status: 429, body: { code: -1003, msg: "Too many requests; current limit is 6000 request weight per 1 MINUTE." } });
    await expect(feed.history(KEY, 10)).rejects.toMatchObject({ code: "rate_limited", message: "exchange binance rate limit reached, retry later" });
    expect(conn.breaker.status()).toMatchObject({ state: "closed", consecutiveFailures: 0 });
  });

  it("keeps candles in one piece: every streamed candle is a closed candle event", () => {
    expect(candles().every((c: Omit<CandleEvent, "receivedAt">) => c.closed && c.closeTime === c.openTime + 59_999)).toBe(true);
  });
});

describe("an exchange that cannot be reached", () => {
  it("answers 'exchange binance unreachable' at once on refused connections, then fails fast with the circuit open", async () => {
    const port = await freePort();
    const conn = connect({ public: `http://127.0.0.1:${port}/api/v3`, private: `http://127.0.0.1:${port}/api/v3` });
    const feed = new CcxtFeed(conn, TUNING, quiet);
    try {
      for (let i = 0; i < 3; i++) {
        const started = Date.now();
        await expect(feed.market(KEY)).rejects.toMatchObject({ code: "venue_unavailable", message: "exchange binance unreachable" });
        expect(Date.now() - started).toBeLessThan(1000);
      }
      expect(conn.breaker.status().state).toBe("open");
      await expect(feed.market(KEY)).rejects.toMatchObject({ code: "venue_unavailable", details: { circuit: "open" } });
    } finally {
      await conn.close();
    }
  });

  it("gives up on a server that never answers after the request timeout", async () => {
    const sockets = new Set<net.Socket>();
    const blackhole = net.createServer((socket) => sockets.add(socket)); // accepts, never answers
    await new Promise<void>((r) => blackhole.listen(0, "127.0.0.1", () => r()));
    const port = (blackhole.address() as net.AddressInfo).port;
    const conn = connect({ public: `http://127.0.0.1:${port}/api/v3` }, 800);
    try {
      const started = Date.now();
      await expect(new CcxtFeed(conn, TUNING, quiet).market(KEY)).rejects.toMatchObject({ code: "venue_unavailable", message: "exchange binance unreachable" });
      expect(Date.now() - started).toBeLessThan(3000);
    } finally {
      await conn.close();
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => blackhole.close(() => r()));
    }
  });
});

describe("ccxt's WebSocket client", () => {
  let fake: FakeBinance;
  let conn: CcxtConnection;

  beforeAll(async () => {
    fake = await FakeBinance.start({ markets: [BTCUSDT], historyMinutes: 10 });
    conn = connect(fake.ccxtUrls());
  });

  afterAll(async () => {
    await conn?.close();
    await fake?.stop();
  });

  it("keeps running when a message is sent on a socket that closed meanwhile (no unhandled rejection)", async () => {
    // ccxt sends a subscription after its rate limiter's wait without handling the send's promise.
    const unhandled: unknown[] = [];
    const record = (reason: unknown) => void unhandled.push(reason);
    process.on("unhandledRejection", record);
    try {
      const client = (conn.exchange as unknown as { client(url: string): { connect(backoff: number): Promise<void>; send(m: string): Promise<unknown> } }).client(`ws://127.0.0.1:${new URL(fake.ccxtUrls().public as string).port}/ws/guard-test`);
      await client.connect(0);
      fake.dropStreams();
      await waitFor(async () => (await client.send("{}").then(() => false, (err: Error) => /not open/.test(err.message))) || undefined, "the socket to be closed", 5000);
      void client.send("{}"); // nobody listens, as in ccxt's subscription path
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(unhandled).toEqual([]);
    } finally {
      process.off("unhandledRejection", record);
    }
  });
});
