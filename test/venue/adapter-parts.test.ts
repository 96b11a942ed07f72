/**
 * The live adapter's plain parts: closing streamed klines, the circuit breaker, ccxt's structures and
 * exceptions in the platform's types, close matches of an unknown symbol, and credentials that never
 * print.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { inspect } from "node:util";
import { BadSymbol, DDoSProtection, ExchangeNotAvailable, InsufficientFunds, InvalidOrder, NetworkError, OrderNotFound, RateLimitExceeded, RequestTimeout, AuthenticationError } from "ccxt";
import type { MarketInterface, OHLCV, Order } from "ccxt";
import { ManualClock } from "../../lib/clock";
import { loadConfig } from "../../lib/config";
import { VenueError } from "../../lib/errors";
import type { VenueOrder } from "../../schemas";
import { CircuitBreaker, type CircuitStatus } from "../../lib/venue/circuit-breaker";
import { closeMatches } from "../../lib/venue/close-matches";
import { decimalOf, marketInfoOf, mergeVenueOrder } from "../../lib/venue/ccxt-convert";
import { isOutage, venueErrorOf } from "../../lib/venue/ccxt-errors";
import { Credentials } from "../../lib/venue/credentials";
import { KlineCloser, MAX_BACKFILL_MINUTES } from "../../lib/venue/kline-closer";
import { selectAdapters } from "../../lib/venue/adapters";
import { CcxtConnection, DEFAULT_TUNING } from "../../lib/venue/ccxt-connection";

const M = 60_000;
const T = Date.UTC(2024, 0, 1, 12, 0, 0);
const bar = (minute: number, close = 100): OHLCV => [T + minute * M, 100, 101, 99, close, 1];

describe("KlineCloser", () => {
  it("closes a minute when the next one's bar arrives, with the last values seen", () => {
    const closer = new KlineCloser();
    expect(closer.accept(bar(0, 100))).toBeUndefined();
    expect(closer.accept(bar(0, 101))).toBeUndefined();
    expect(closer.accept(bar(1, 102))).toEqual({ closed: bar(0, 101) });
    closer.closedThrough(T);
    expect(closer.accept(bar(1, 103))).toBeUndefined();
    expect(closer.accept(bar(2, 104))).toEqual({ closed: bar(1, 103) });
  });

  it("ignores bars of minutes already closed or older than the open one", () => {
    const closer = new KlineCloser();
    closer.closedThrough(T + 5 * M);
    expect(closer.accept(bar(5))).toBeUndefined();
    expect(closer.accept(bar(4))).toBeUndefined();
    expect(closer.accept(bar(6))).toBeUndefined();
    expect(closer.accept(bar(6))).toBeUndefined();
  });

  it("asks for the minutes between the backfill and the first streamed bar", () => {
    const closer = new KlineCloser();
    closer.closedThrough(T);
    expect(closer.accept(bar(3))).toEqual({ backfill: { from: T + M, to: T + 3 * M } });
  });

  it("asks for a REST backfill when the stream jumps minutes (a reconnect), the last streamed minute included", () => {
    const closer = new KlineCloser();
    closer.accept(bar(0));
    expect(closer.accept(bar(1))).toEqual({ closed: bar(0) });
    closer.closedThrough(T);
    expect(closer.accept(bar(4))).toEqual({ backfill: { from: T + M, to: T + 4 * M } });
    // Not recorded as closed (the backfill failed): the next minute asks for the whole gap again.
    expect(closer.accept(bar(5))).toEqual({ backfill: { from: T + M, to: T + 5 * M } });
  });

  it("backfills at most a day after a long outage", () => {
    const closer = new KlineCloser();
    closer.closedThrough(T);
    const far = 3 * MAX_BACKFILL_MINUTES;
    expect(closer.accept(bar(far))).toEqual({ backfill: { from: T + (far - MAX_BACKFILL_MINUTES) * M, to: T + far * M } });
  });
});

describe("CircuitBreaker", () => {
  const options = { failureThreshold: 3, cooldownMs: 1000, maxCooldownMs: 4000 };
  const outage = () => Promise.reject(new NetworkError("connection refused"));
  const answer = <T>(value: T) => () => Promise.resolve(value);

  function breaker() {
    const clock = new ManualClock(T);
    const changes: CircuitStatus[] = [];
    return { clock, changes, cb: new CircuitBreaker("exchange x", options, clock, (s) => changes.push(s)) };
  }

  it("opens after consecutive outages, fails fast while open, probes once after the cooldown", async () => {
    const { clock, changes, cb } = breaker();
    for (let i = 0; i < 3; i++) await expect(cb.run(outage, isOutage)).rejects.toThrow("connection refused");
    expect(cb.status()).toMatchObject({ state: "open", consecutiveFailures: 3, trips: 1, retryAt: T + 1000 });
    const call = jest.fn(answer(1));
    await expect(cb.run(call, isOutage)).rejects.toMatchObject({ code: "venue_unavailable", message: "exchange x unreachable" });
    expect(call).not.toHaveBeenCalled();
    clock.advance(1000);
    // Half-open: one probe goes through, a concurrent call still fails fast.
    let release!: (v: number) => void;
    const probe = cb.run(() => new Promise<number>((r) => (release = r)), isOutage);
    await expect(cb.run(call, isOutage)).rejects.toMatchObject({ code: "venue_unavailable" });
    release(7);
    await expect(probe).resolves.toBe(7);
    expect(cb.status().state).toBe("closed");
    expect(changes.map((c) => c.state)).toEqual(["open", "half_open", "closed"]);
  });

  it("doubles the cooldown while probes fail, up to the maximum", async () => {
    const { clock, cb } = breaker();
    for (let i = 0; i < 3; i++) await cb.run(outage, isOutage).catch(() => undefined);
    for (const cooldown of [2000, 4000, 4000]) {
      clock.advance(10_000);
      await cb.run(outage, isOutage).catch(() => undefined);
      expect(cb.status().retryAt).toBe(clock.now() + cooldown);
    }
  });

  it("counts answers as reachable: a rate limit or a refusal resets the failures", async () => {
    const { cb } = breaker();
    await cb.run(outage, isOutage).catch(() => undefined);
    await cb.run(outage, isOutage).catch(() => undefined);
    await cb.run(() => Promise.reject(new RateLimitExceeded("429")), isOutage).catch(() => undefined);
    await cb.run(outage, isOutage).catch(() => undefined);
    await cb.run(() => Promise.reject(new InsufficientFunds("no")), isOutage).catch(() => undefined);
    await cb.run(outage, isOutage).catch(() => undefined);
    expect(cb.status()).toMatchObject({ state: "closed", consecutiveFailures: 1 });
  });
});

describe("ccxt exceptions as typed venue refusals", () => {
  const redact = (text: string) => text.replace("SECRETKEY", "***");
  const cases: Array<[Error, string]> = [
    [new InsufficientFunds('binance {"code":-2010,"msg":"Account has insufficient balance for requested action."}'), "insufficient_funds"],
    [new InvalidOrder('binance {"code":-2010,"msg":"Account has insufficient balance for requested action."}'), "insufficient_funds"],
    [new InvalidOrder('binance {"code":-1013,"msg":"Filter failure: NOTIONAL"}'), "below_min_notional"],
    [new InvalidOrder("binance order amount should be evenly divisible by lot size {\"code\":-1013,\"msg\":\"Filter failure: LOT_SIZE\"}"), "below_min_quantity"],
    [new InvalidOrder('binance {"code":-2010,"msg":"Duplicate order sent."}'), "duplicate_client_order_id"],
    [new BadSymbol('binance {"code":-1121,"msg":"Invalid symbol."}'), "unknown_symbol"],
    [new OrderNotFound('binance {"code":-2013,"msg":"Order does not exist."}'), "order_not_found"],
    [new DDoSProtection("binance 429 Too Many Requests"), "rate_limited"],
    [new RateLimitExceeded("binance -1003"), "rate_limited"],
    [new RequestTimeout("binance GET https://api.binance.com/api/v3/exchangeInfo request timed out (5000 ms)"), "venue_unavailable"],
    [new ExchangeNotAvailable("binance 503 Service Unavailable"), "venue_unavailable"],
    [new AuthenticationError('binance {"code":-2015,"msg":"Invalid API-key, IP, or permissions for action."}'), "permission_denied"],
    [new InvalidOrder("binance market is not a valid order type"), "invalid_order"],
  ];
  it.each(cases.map(([err, code]) => [`${err.constructor.name} ${err.message.slice(0, 70)}`, code, err] as const))("%s → %s", (_label, code, err) => {
    expect(venueErrorOf(err, "binance", redact)?.code).toBe(code);
  });

  it("names an outage 'exchange <id> unreachable' and keeps the scrubbed cause", () => {
    const err = venueErrorOf(new NetworkError("binance GET https://x/order?signature=abc fetch failed, key SECRETKEY"), "binance", redact)!;
    expect(err.message).toBe("exchange binance unreachable");
    expect(err.details).toEqual({ cause: "binance GET https://x/order?signature=abc fetch failed, key ***" });
  });

  it("leaves errors that are not the venue's alone (a bug stays a bug)", () => {
    expect(venueErrorOf(new TypeError("x is undefined"), "binance", redact)).toBeUndefined();
    expect(isOutage(new TypeError("x is undefined"))).toBeUndefined();
    expect(isOutage(new RequestTimeout("t"))).toBe(true);
    expect(isOutage(new DDoSProtection("429"))).toBe(false);
  });
});

describe("ccxt structures in the platform's types", () => {
  it("turns ccxt's numbers back into the venue's decimal strings", () => {
    expect(decimalOf(0.1)).toBe("0.1");
    expect(decimalOf(1e-8)).toBe("0.00000001");
    expect(decimalOf(60000.01)).toBe("60000.01");
    expect(decimalOf(0.00123)).toBe("0.00123");
    expect(decimalOf(undefined)).toBeUndefined();
    expect(decimalOf(NaN)).toBeUndefined();
  });

  it("reads tick, lot, minimums and fees from a market in either precision mode", () => {
    const market = {
      symbol: "BTC/USDT", base: "BTC", quote: "USDT", maker: 0.001, taker: 0.001,
      precision: { price: 0.01, amount: 0.00001 }, limits: { amount: { min: 0.00001 }, cost: { min: 5 } },
    } as unknown as MarketInterface;
    expect(marketInfoOf("binance", market, 4)).toEqual({
      exchange: "binance", symbol: "BTC/USDT", base: "BTC", quote: "USDT", tickSize: "0.01", lotSize: "0.00001",
      minQuantity: "0.00001", minNotional: "5", makerFee: "0.001", takerFee: "0.001",
    });
    const decimalPlaces = { ...market, precision: { price: 2, amount: 5 } } as unknown as MarketInterface;
    expect(marketInfoOf("kraken", decimalPlaces, 2)).toMatchObject({ tickSize: "0.01", lotSize: "0.00001" });
  });

  it("merges the venue's order into ours: status, filled quantity, average, never our quantity", () => {
    const ours: VenueOrder = {
      clientOrderId: "tbp1", venueOrderId: "", portfolioId: "p", instrumentKey: "binance:BTC/USDT", side: "BUY", type: "limit",
      quantity: "0.1", price: "59000", filledQuantity: "0", status: "pending_new", createdAt: 1, updatedAt: 1,
    };
    const venue = { id: "42", status: "open", filled: 0.04, average: 59000, amount: 0.1, timestamp: 5 } as unknown as Order;
    expect(mergeVenueOrder(ours, venue, 9)).toMatchObject({ venueOrderId: "42", status: "partially_filled", filledQuantity: "0.04", averagePrice: "59000", quantity: "0.1", createdAt: 5 });
    expect(mergeVenueOrder(ours, { ...venue, status: "expired" } as Order, 9)).toMatchObject({ status: "cancelled", reason: "expired" });
  });
});

describe("close matches of an unknown symbol", () => {
  const listed = ["BTC/USDT", "BTC/USDC", "ETH/USDT", "ETH/BTC", "SOL/USDT", "BTC/EUR"];
  it("finds typos, a missing separator and the same base", () => {
    expect(closeMatches("BTC/USTD", listed)[0]).toBe("BTC/USDT");
    expect(closeMatches("BTCUSDT", listed)[0]).toBe("BTC/USDT");
    expect(closeMatches("ETH/USDC", listed).slice(0, 2).sort()).toEqual(["BTC/USDC", "ETH/USDT"]);
    expect(closeMatches("BTC/JPY", listed)).toEqual(expect.arrayContaining(["BTC/EUR", "BTC/USDC", "BTC/USDT"]));
    expect(closeMatches("XYZ/QQQ", listed)).toEqual([]);
  });
});

describe("credentials", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tbp-keys-"));
  const file = (name: string, content: string, mode = 0o600) => {
    const p = path.join(dir, name);
    fs.writeFileSync(p, content, { mode });
    fs.chmodSync(p, mode);
    return p;
  };

  it("come from a secrets file or the environment and never print", () => {
    const fromFile = Credentials.load({ secretsFile: file("ok.json", JSON.stringify({ apiKey: "KEY-123456", secret: "SECRET-654321" })) })!;
    expect(fromFile.forCcxt()).toEqual({ apiKey: "KEY-123456", secret: "SECRET-654321" });
    for (const printed of [JSON.stringify({ fromFile }), inspect(fromFile), String(fromFile), `${inspect({ nested: { fromFile } })}`]) {
      expect(printed).not.toContain("KEY-123456");
      expect(printed).not.toContain("SECRET-654321");
    }
    expect(fromFile.redact("GET /order?apiKey=KEY-123456&signature=deadbeef secret SECRET-654321")).toBe("GET /order?apiKey=***&signature=*** secret ***");
    const fromEnv = Credentials.load({ env: { EXCHANGE_API_KEY: "k-env-1", EXCHANGE_API_SECRET: "s-env-1" } })!;
    expect(fromEnv.source).toBe("environment");
    expect(Credentials.load({ env: {} })).toBeUndefined();
    expect(() => Credentials.load({ env: { EXCHANGE_API_KEY: "only-key" } })).toThrow("must be set together");
  });

  it("refuse a secrets file others can read, or one without both keys, without quoting it", () => {
    expect(() => Credentials.load({ secretsFile: file("open.json", JSON.stringify({ apiKey: "a-key", secret: "a-secret" }), 0o644) })).toThrow(/readable by others/);
    expect(() => Credentials.load({ secretsFile: file("half.json", JSON.stringify({ apiKey: "a-key" })) })).toThrow(/must hold/);
    let message = "";
    try {
      Credentials.load({ secretsFile: file("broken.json", '{"apiKey": "LEAKY-KEY", secret') });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/not valid JSON/);
    expect(message).not.toContain("LEAKY-KEY");
    expect(() => Credentials.load({ secretsFile: path.join(dir, "missing.json") })).toThrow(/cannot be read/);
  });
});

describe("choosing the adapters", () => {
  const deps = {
    logger: { info: () => undefined, warn: () => undefined },
    paperJournal: { saveOrder: async () => undefined, saveFill: async () => undefined, load: async () => ({ orders: [], fills: [] }) },
    liveJournal: { saveOrder: async () => undefined, saveFill: async () => true, load: async () => ({ orders: [], fills: [] }) },
    env: {},
  };
  const config = (env: Record<string, string>) => loadConfig({ ...env });

  it("refuses live trading without a real exchange, the opt-in or keys, and on exchanges not verified", () => {
    expect(() => selectAdapters(config({ TRADING_MODE: "live" }), deps)).toThrow(/needs a real exchange/);
    expect(() => selectAdapters(config({ MARKET_DATA: "binance", TRADING_MODE: "live" }), deps)).toThrow(/LIVE_TRADING_CONFIRM=yes/);
    expect(() => selectAdapters(config({ MARKET_DATA: "binance", TRADING_MODE: "live", LIVE_TRADING_CONFIRM: "yes" }), deps)).toThrow(/needs API keys/);
    expect(() => selectAdapters(config({ MARKET_DATA: "kraken", TRADING_MODE: "live", LIVE_TRADING_CONFIRM: "yes" }), deps)).toThrow(/supported on binance/);
    expect(() => selectAdapters(config({ MARKET_DATA: "nosuchexchange" }), deps)).toThrow(/neither "sim" nor an exchange/);
    expect(() => loadConfig({ TRADING_MODE: "yolo" })).toThrow(/TRADING_MODE/);
    expect(() => loadConfig({ EXCHANGE_URLS: "[1]" })).toThrow(/EXCHANGE_URLS must be a JSON object/);
  });

  it("streams any ccxt.pro exchange for paper trading, and the simulator by default", () => {
    expect(selectAdapters(config({}), deps).status()).toMatchObject({ exchange: "sim", tradingMode: "paper", circuit: { state: "closed" } });
    const kraken = selectAdapters(config({ MARKET_DATA: "kraken" }), deps);
    expect(kraken.status()).toMatchObject({ exchange: "kraken", tradingMode: "paper", markets: { loaded: false } });
    return kraken.stop();
  });

  it("points ccxt at the exchange's testnet in sandbox mode, and keeps it on spot endpoints", async () => {
    const conn = new CcxtConnection({ exchangeId: "binance", sandbox: true, timeoutMs: 1000, tuning: DEFAULT_TUNING });
    const api = conn.exchange.urls.api as unknown as Record<string, unknown>;
    expect(api.public).toBe("https://testnet.binance.vision/api/v3");
    expect((api.ws as { spot: string }).spot).toBe("wss://stream.testnet.binance.vision/ws");
    expect(conn.exchange.options.fetchMarkets).toMatchObject({ types: ["spot"] });
    expect(conn.exchange.enableRateLimit).toBe(true);
    await conn.close();
  });

  it("says unknown exchange for an instrument of another exchange", async () => {
    const adapters = selectAdapters(config({ MARKET_DATA: "binance" }), deps);
    await expect(adapters.feed.market("kraken:BTC/USD")).rejects.toEqual(expect.objectContaining({ code: "unknown_exchange" }));
    await expect(adapters.feed.market("kraken:BTC/USD")).rejects.toBeInstanceOf(VenueError);
    await adapters.stop();
  });
});
