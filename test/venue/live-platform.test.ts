/**
 * The whole platform on MARKET_DATA=binance, ccxt's real code against the local Binance-protocol
 * server: paper trading on its live prices; live trading from streamed candles through signals, both
 * risk stages and execution to real orders, fills and a portfolio that matches the exchange account;
 * a fill that happened while the platform was down, reconciled once after the restart; a duplicate
 * approval; registration against the exchange's markets, and while it is unreachable; API keys that
 * appear in no log line, API answer or topic message.
 */
import fs from "node:fs";
import path from "node:path";
import type { Fill, TradeApproved } from "../../schemas";
import { dec } from "../../lib/decimal";
import { FakeBinance } from "../fakes/binance-server";
import { tempDataDir, waitFor } from "../helpers/platform";
import { freePort } from "../helpers/ports";
import { approval, publishApproval } from "../helpers/signals";
import { startLivePlatform, type LivePlatform } from "./live-platform";

jest.setTimeout(60000);

const API_KEY = "Zq3vXl8kT0pR5mWc2JbN7yHs4GdF9aUe1KiO6tLxVnBr0MjCwEyPqSu3TgDh8Af2";
const SECRET = "Hk5Lp2Qw9Rt4Yu7Io1Pa3Sd6Fg8Jh0Kl2Zx5Cv7Bn9Mq4We6Rt1Yu3Io8Pa0Sd2F";

/** A falling last half hour (RSI oversold) and a rising market: the rule strategy buys on the first streamed candles. */
const OVERSOLD_THEN_RISING = { historyMinutes: 400, trendMinutes: 30, historyTrendBps: -30, liveTrendBps: 20 };

function secretsFile(): string {
  const file = path.join(tempDataDir(), "binance-keys.json");
  fs.writeFileSync(file, JSON.stringify({ apiKey: API_KEY, secret: SECRET }), { mode: 0o600 });
  return file;
}

const liveConfig = () => ({ tradingMode: "live" as const, liveTradingConfirmed: true, exchangeSecretsFile: secretsFile() });

/** An approved BUY of 0.01 BTC at 60000 for the default portfolio, unless overridden. */
const btcApproval = (signalId: string, over: Partial<TradeApproved> = {}) => approval(signalId, "BTC/USDT", { quantity: "0.01", price: "60000", notional: "600", ...over });

describe("paper trading on live Binance data", () => {
  let fake: FakeBinance;
  let platform: LivePlatform;

  beforeAll(async () => {
    fake = await FakeBinance.start(OVERSOLD_THEN_RISING);
    platform = await startLivePlatform({ fake });
  });

  afterAll(async () => {
    await platform?.stop();
    await fake?.stop();
  });

  it("checks registration against the exchange's markets", async () => {
    const typo = await platform.api("POST", "/api/instruments", { exchange: "binance", symbol: "BTC/USTD" });
    expect(typo.status).toBe(422);
    expect(typo.body.data[0]).toMatchObject({ field: "symbol", closeMatches: ["BTC/USDT"] });
    expect(typo.body.data[0].message).toMatch(/close matches: BTC\/USDT/);
    const otherExchange = await platform.api("POST", "/api/instruments", { exchange: "kraken", symbol: "BTC/USDT" });
    expect(otherExchange.status).toBe(422);
    expect(otherExchange.body.data[0]).toMatchObject({ field: "exchange" });
    expect((await platform.api("GET", "/api/instruments")).body).toEqual([]);
  });

  it("streams candles into indicators and signals, and paper-fills against the exchange's prices", async () => {
    const created = await platform.api("POST", "/api/instruments", { exchange: "binance", symbol: "BTC/USDT" });
    expect(created.status).toBe(201);
    expect(created.body.market).toMatchObject({ tickSize: "0.01", lotSize: "0.00001", minNotional: "5", takerFee: "0.001" });
    const fills: Fill[] = await waitFor(async () => {
      const res = await platform.api("GET", "/api/portfolios/default/fills");
      return res.body.length > 0 ? res.body : undefined;
    }, "a paper fill", 30000);
    // The paper broker filled it: no order went to the exchange, and no keys were ever needed.
    expect(fills[0]!.fillId).toMatch(/^binance:paper-/);
    expect(fake.orders).toHaveLength(0);
    expect(fake.requests.filter((r) => r.path === "/api/v3/order")).toHaveLength(0);
    expect(Math.abs(Number(fills[0]!.price) / Number(fake.lastPrice("BTCUSDT")) - 1)).toBeLessThan(0.02);
    const signals = (await platform.api("GET", "/api/signals?instrument=binance:BTC/USDT")).body;
    expect(signals.some((s: { action: string }) => s.action === "BUY")).toBe(true);
    const candles = (await platform.api("GET", "/api/market/candles?instrument=binance:BTC/USDT&limit=400")).body as Array<{ openTime: number }>;
    expect(candles.length).toBeGreaterThan(300);
    candles.slice(1).forEach((c, i) => expect(c.openTime - candles[i]!.openTime).toBe(60_000));
    const status = (await platform.api("GET", "/api/exchange/status")).body;
    expect(status).toMatchObject({ exchange: "binance", tradingMode: "paper", sandbox: false, circuit: { state: "closed" }, markets: { loaded: true } });
    expect(status.streams[0]).toMatchObject({ instrumentKey: "binance:BTC/USDT", channels: { trades: { connected: true }, candles: { connected: true } } });
  });

  it("answers 503 'exchange binance unreachable' while the exchange is down, registering nothing, and opens the circuit", async () => {
    await fake.goOffline();
    try {
      const started = Date.now();
      const down = await platform.api("POST", "/api/instruments", { exchange: "binance", symbol: "ETH/USDT" });
      expect(down.status).toBe(503);
      expect(down.body.message).toBe("exchange binance unreachable");
      expect(Date.now() - started).toBeLessThan(5000);
      expect((await platform.api("GET", "/api/instruments")).body.map((i: { instrumentKey: string }) => i.instrumentKey)).toEqual(["binance:BTC/USDT"]);
      await waitFor(async () => (await platform.api("GET", "/api/exchange/status")).body.circuit.state === "open", "the circuit to open", 10000);
      expect((await platform.api("GET", "/api/health", undefined, null)).status).toBe(200);
    } finally {
      await fake.goOnline();
    }
    await waitFor(async () => (await platform.api("POST", "/api/instruments", { exchange: "binance", symbol: "ETH/USDT" })).status === 201, "registration once the exchange is back", 10000);
  });
});

describe("live trading on Binance", () => {
  let fake: FakeBinance;
  let platform: LivePlatform;

  beforeAll(async () => {
    fake = await FakeBinance.start({ ...OVERSOLD_THEN_RISING, apiKey: API_KEY, secret: SECRET, balances: { USDT: "10000", BTC: "0" } });
    platform = await startLivePlatform({ fake, config: liveConfig() });
  });

  afterAll(async () => {
    await platform?.stop();
    await fake?.stop();
  });

  it("trades streamed signals as real orders whose fills make a portfolio equal to the exchange account", async () => {
    expect((await platform.api("POST", "/api/instruments", { exchange: "binance", symbol: "BTC/USDT" })).status).toBe(201);
    await waitFor(async () => (await platform.api("GET", "/api/portfolios/default/fills")).body.length >= 2, "fills of live orders", 30000);
    // Stop trading and let the working orders settle before comparing books.
    await platform.api("POST", "/api/portfolios/default/halt");
    const portfolio = await waitFor(async () => {
      const p = (await platform.api("GET", "/api/portfolios/default")).body;
      return p.openOrders === 0 ? p : undefined;
    }, "no working orders");
    const orders = (await platform.api("GET", "/api/portfolios/default/orders?limit=1000")).body as Array<{ clientOrderId: string; status: string }>;
    const fills = (await platform.api("GET", "/api/portfolios/default/fills?limit=1000")).body as Fill[];
    // Every order is at the exchange exactly once, under the client order id derived from its approval.
    for (const order of orders) expect(fake.ordersWithClientId(order.clientOrderId)).toHaveLength(1);
    // Every fill is one of the exchange's trades, by its trade id; a 1000 USDT order spans two book levels.
    expect(fills.map((f) => f.fillId).sort()).toEqual(fake.trades.map((t) => `binance:BTCUSDT:${t.id}`).sort());
    const byOrder = new Map<string, number>();
    for (const f of fills) byOrder.set(f.clientOrderId, (byOrder.get(f.clientOrderId) ?? 0) + 1);
    expect(Math.max(...byOrder.values())).toBeGreaterThanOrEqual(2);
    // The books are the account's: cash is the USDT balance, the position the BTC balance (fees paid in BTC).
    expect(dec(portfolio.cash).eq(fake.balance("USDT").free.add(fake.balance("USDT").locked))).toBe(true);
    const position = portfolio.positions.find((p: { instrumentKey: string }) => p.instrumentKey === "binance:BTC/USDT");
    expect(dec(position.quantity).eq(fake.balance("BTC").free.add(fake.balance("BTC").locked))).toBe(true);
    // Left halted: the approvals below are the tests' own (they reach execution directly), nothing else trades.
  });

  it("places an approval delivered twice once", async () => {
    const twice = btcApproval("sig-twice", {});
    await publishApproval(platform.bus, twice);
    await publishApproval(platform.bus, twice);
    await waitFor(async () => (await platform.api("GET", "/api/portfolios/default/orders?limit=1000")).body.some((o: { clientOrderId: string; status: string }) => o.clientOrderId === twice.payload.clientOrderId && o.status === "filled"), "the order filled");
    await new Promise((r) => setTimeout(r, 500));
    expect(fake.ordersWithClientId(twice.payload.clientOrderId)).toHaveLength(1);
  });

  it("puts the exchange's refusal on the order as a typed reason, and places a rate-limited order once on the retry", async () => {
    const tooBig = btcApproval("sig-too-big", { quantity: "5", notional: "300000" });
    await publishApproval(platform.bus, tooBig);
    const rejected = await waitFor(async () => {
      const orders = (await platform.api("GET", "/api/portfolios/default/orders?status=rejected")).body as Array<{ clientOrderId: string; reason: string }>;
      return orders.find((o) => o.clientOrderId === tooBig.payload.clientOrderId);
    }, "the rejected order");
    expect(rejected.reason).toMatch(/^insufficient_funds: /);
    fake.failNext({ method: "POST", path: "/api/v3/order" }, { status: 429, body: { code: -1003, msg: "Too many requests." } }, 2);
    const limited = btcApproval("sig-rate-limited", {});
    await publishApproval(platform.bus, limited);
    await waitFor(async () => fake.ordersWithClientId(limited.payload.clientOrderId).length > 0, "the order placed after the rate limit");
    const refused = fake.requests.filter((r) => r.method === "POST" && r.path === "/api/v3/order" && r.params.newClientOrderId === limited.payload.clientOrderId);
    expect(refused).toHaveLength(3);
    await new Promise((r) => setTimeout(r, 300));
    expect(fake.ordersWithClientId(limited.payload.clientOrderId)).toHaveLength(1);
  });

  it("shows the venue's health and never shows, logs or publishes the keys", async () => {
    const status = (await platform.api("GET", "/api/exchange/status")).body;
    expect(status).toMatchObject({ exchange: "binance", tradingMode: "live", circuit: { state: "closed" }, live: { userStream: { connected: true } } });
    const answers = await Promise.all(
      ["/api/exchange/status", "/api/health", "/api/portfolios/default/orders", "/api/portfolios/default/fills", "/api/portfolios/default/decisions", "/api/topics"].map((url) => platform.api("GET", url)),
    );
    const everything = [...platform.logs, ...platform.messages, ...answers.map((a) => JSON.stringify(a.body))].join("\n");
    expect(platform.logs.some((line) => /LIVE TRADING on binance/.test(line))).toBe(true);
    expect(everything).not.toContain(API_KEY);
    expect(everything).not.toContain(SECRET);
    expect(everything).not.toContain(API_KEY.slice(0, 16));
  });
});

describe("a fill while the platform is down", () => {
  it("is reconciled exactly once after the restart", async () => {
    const fake = await FakeBinance.start({ apiKey: API_KEY, secret: SECRET, historyMinutes: 30, balances: { USDT: "10000", BTC: "0" } });
    const dataDir = tempDataDir();
    const services = ["exchange", "risk", "execution"] as const;
    const config = liveConfig();
    let platform = await startLivePlatform({ fake, dataDir, services: [...services], config });
    try {
      const price = fake.lastPrice("BTCUSDT").mul("0.9").toDecimalPlaces(2).toString();
      const resting = btcApproval("sig-resting", { type: "limit", price, quantity: "0.01", notional: "540" });
      await publishApproval(platform.bus, resting);
      await waitFor(async () => {
        const orders = await platform.broker.call<Array<{ clientOrderId: string; status: string }>, { id: string }>("risk.listOrders", { id: "default" });
        return orders.some((o) => o.clientOrderId === resting.payload.clientOrderId && o.status === "open");
      }, "the resting order");
      await platform.stop();

      const trade = fake.fillResting(resting.payload.clientOrderId);
      const fillId = `binance:BTCUSDT:${trade.id}`;
      const fillsOf = async (p: LivePlatform) => (await p.broker.call<Fill[], { id: string; limit: number }>("risk.listFills", { id: "default", limit: 1000 })).filter((f) => f.fillId === fillId);

      platform = await startLivePlatform({ fake, dataDir, services: [...services], config });
      await waitFor(async () => (await fillsOf(platform)).length > 0, "the reconciled fill", 15000);
      // The order's report (orders.placed) and its fill (orders.fills) are separate topics: either may land first.
      await waitFor(async () => {
        const orders = await platform.broker.call<Array<{ clientOrderId: string; status: string }>, { id: string }>("risk.listOrders", { id: "default" });
        return orders.find((o) => o.clientOrderId === resting.payload.clientOrderId)?.status === "filled";
      }, "the order to be filled", 15000);
      await new Promise((r) => setTimeout(r, 500));
      expect(await fillsOf(platform)).toHaveLength(1);
      const cash = (await platform.broker.call<{ cash: string }, { id: string }>("risk.getPortfolio", { id: "default" })).cash;
      // 0.01 BTC at the limit price, once (the fee was paid in BTC).
      expect(dec(cash).eq(dec(10000).sub(dec(price).mul("0.01")))).toBe(true);
      await platform.stop();

      platform = await startLivePlatform({ fake, dataDir, services: [...services], config });
      await new Promise((r) => setTimeout(r, 1000));
      expect(await fillsOf(platform)).toHaveLength(1);
      expect((await platform.broker.call<{ cash: string }, { id: string }>("risk.getPortfolio", { id: "default" })).cash).toBe(cash);
      expect(fake.ordersWithClientId(resting.payload.clientOrderId)).toHaveLength(1);
    } finally {
      await platform.stop();
      await fake.stop();
    }
  });
});

describe("an exchange that is down when the platform starts", () => {
  it("starts, and answers 503 'exchange binance unreachable' to a registration within seconds", async () => {
    const dead = `127.0.0.1:${await freePort()}`;
    const platform = await startLivePlatform({ urls: { public: `http://${dead}/api/v3`, private: `http://${dead}/api/v3`, ws: { spot: `ws://${dead}/ws` } } });
    try {
      const started = Date.now();
      const res = await platform.api("POST", "/api/instruments", { exchange: "binance", symbol: "BTC/USDT" });
      expect(res.status).toBe(503);
      expect(res.body.message).toBe("exchange binance unreachable");
      expect(Date.now() - started).toBeLessThan(5000);
      expect((await platform.api("GET", "/api/instruments")).body).toEqual([]);
      expect((await platform.api("GET", "/api/exchange/status")).body).toMatchObject({ exchange: "binance", markets: { loaded: false } });
    } finally {
      await platform.stop();
    }
  });
});
