/** The risk engine on a manual clock and in-memory stores, without a broker. */
import { type Fill, type MarketInfo, type PortfolioSignal, TOPICS, type TopicName, type TradingSignal } from "../../schemas";
import { OPERATOR } from "../../lib/auth";
import { ManualClock } from "../../lib/clock";
import { dec } from "../../lib/decimal";
import { DuplicateKeyError } from "../../lib/errors";
import { clientOrderIdOf, decisionKeyOf } from "../../lib/ids";
import { KeyedMutex } from "../../lib/keyed-mutex";
import { RiskEngine, type RiskRecords, type RiskStores } from "../../lib/risk/engine";
import type { RecordStore } from "../../lib/risk/stores";
import type { FindQuery } from "../../lib/store/collection";
import { signal as makeSignal } from "../helpers/signals";

const T0 = Date.UTC(2026, 0, 5, 12);
const MAX_DATA_AGE_MS = 2_000;
const market: MarketInfo = {
  exchange: "binance", symbol: "BTC/USDT", base: "BTC", quote: "USDT", tickSize: "0.01", lotSize: "0.00001",
  minQuantity: "0.00001", minNotional: "10", makerFee: "0.001", takerFee: "0.001",
};

/** A collection kept in a Map: the operations risk uses, with equality and `$in` queries. */
class MemoryStore<T extends object> implements RecordStore<T> {
  readonly docs = new Map<string, T>();

  async get(id: string) {
    return this.docs.get(id);
  }
  async insert(id: string, doc: T) {
    if (this.docs.has(id)) throw new DuplicateKeyError("memory", id);
    this.docs.set(id, doc);
    return doc;
  }
  async insertIfAbsent(id: string, doc: T) {
    if (this.docs.has(id)) return false;
    this.docs.set(id, doc);
    return true;
  }
  async put(id: string, doc: T) {
    this.docs.set(id, doc);
  }
  async find({ query = {}, sort, limit, offset }: FindQuery = {}) {
    if (sort || limit !== undefined || offset !== undefined) throw new Error("MemoryStore finds without sort or paging");
    const matches = (doc: T) =>
      Object.entries(query).every(([field, wanted]) => {
        const value = (doc as Record<string, unknown>)[field];
        const among = (wanted as { $in?: unknown[] } | null)?.$in;
        return among ? among.includes(value) : value === wanted;
      });
    return [...this.docs.values()].filter(matches);
  }
}

function emptyStores(): MemoryStores {
  const stores = {
    instruments: new MemoryStore(), portfolios: new MemoryStore(), orders: new MemoryStore(), fills: new MemoryStore(),
    decisions: new MemoryStore(), account: new MemoryStore(), traders: new MemoryStore(),
  };
  return stores as MemoryStores satisfies RiskStores;
}

interface Published {
  topic: TopicName;
  payload: Record<string, unknown>;
  options?: { idempotencyKey?: string; traceId?: string };
}

type MemoryStores = { [K in keyof RiskRecords]: MemoryStore<RiskRecords[K]> };

const QUOTAS = { instrumentsPerTrader: 5, instrumentsTotal: 2, portfoliosPerTrader: 3 };

/** An engine over these stores (new empty ones by default), not started. */
function setup(stores: MemoryStores = emptyStores()) {
  const clock = new ManualClock(T0);
  const published: Published[] = [];
  /** Called with each publication, before it counts as published. */
  let onPublish: (p: Published) => void = () => undefined;
  const engine = new RiskEngine({
    clock,
    stores,
    locks: new KeyedMutex(),
    config: { startCash: "10000", traderAllowance: "10000", traderTokens: {}, tradingMode: "paper", quotas: QUOTAS },
    publish: async (topic, payload, options) => {
      const p = { topic, payload: payload as unknown as Record<string, unknown>, options };
      onPublish(p);
      published.push(p);
    },
    balanceOf: () => Promise.reject(new Error("paper trading asks no balance")),
    log: { warn: () => undefined, error: () => undefined },
  });
  const of = (topic: TopicName) => published.filter((p) => p.topic === topic).map((p) => p.payload);
  return { clock, stores, engine, published, of, watch: (fn: (p: Published) => void) => (onPublish = fn) };
}

/** The engine started, its default portfolio trading BTC/USDT with data at most MAX_DATA_AGE_MS old. */
async function ready() {
  const ctx = setup();
  await ctx.engine.start();
  await ctx.engine.portfolios.setLimits(OPERATOR, "default", { maxDataAgeMs: MAX_DATA_AGE_MS });
  await ctx.engine.instruments.register(OPERATOR, { exchange: "binance", symbol: "BTC/USDT" }, async () => market);
  ctx.published.length = 0;
  return ctx;
}

function signalAt(id: string, receivedAt: number, overrides: Partial<TradingSignal> = {}): TradingSignal {
  return makeSignal(id, { marketTime: receivedAt, receivedAt, ...overrides });
}

function stage2(s: TradingSignal, portfolioId = "default"): [PortfolioSignal, { traceId: string; idempotencyKey: string }] {
  const riskKey = `${portfolioId}:${s.symbol}`;
  return [{ portfolioId, riskKey, signal: s }, { traceId: `t-${s.signalId}`, idempotencyKey: decisionKeyOf(riskKey, s.signalId) }];
}

describe("RiskEngine stage 1", () => {
  it("republishes a passing signal once per portfolio holding the instrument, keyed by portfolio and signal", async () => {
    const { engine, of, clock } = await ready();
    await engine.portfolios.createFor(OPERATOR, { id: "second" });
    await engine.instruments.register(OPERATOR, { exchange: "binance", symbol: "BTC/USDT", portfolioId: "second" }, async () => market);
    await engine.screen(signalAt("s1", clock.now()), { traceId: "t1" });
    const routed = of(TOPICS.tradingSignalsPortfolio) as unknown as PortfolioSignal[];
    expect(routed.map((r) => [r.portfolioId, r.riskKey])).toEqual([["default", "default:BTC/USDT"], ["second", "second:BTC/USDT"]]);
    expect(of(TOPICS.tradesRejected)).toEqual([]);
  });
});

describe("RiskEngine stage 2", () => {
  it("rejects a signal whose data grew older than the portfolio's limit while it waited, by the injected clock", async () => {
    const { engine, clock, of } = await ready();
    const s = signalAt("s-stale", T0);
    clock.set(T0 + MAX_DATA_AGE_MS + 1);
    await engine.decide(...stage2(s));
    expect(of(TOPICS.tradesApproved)).toEqual([]);
    expect(of(TOPICS.tradesRejected)).toEqual([expect.objectContaining({ signalId: "s-stale", reason: "stale_data", stage: 2 })]);
  });

  it("approves the same signal at exactly the limit's age", async () => {
    const { engine, clock, of } = await ready();
    clock.set(T0 + MAX_DATA_AGE_MS);
    await engine.decide(...stage2(signalAt("s-fresh", T0)));
    expect(of(TOPICS.tradesRejected)).toEqual([]);
    // 1000 (orderNotional) / 60000 rounded down to the 0.00001 lot.
    expect(of(TOPICS.tradesApproved)).toEqual([expect.objectContaining({ signalId: "s-fresh", side: "BUY", quantity: "0.01666", decidedAt: T0 + MAX_DATA_AGE_MS })]);
  });

  it("reports a halted portfolio as halted, not stale, whatever the signal's age", async () => {
    const { engine, clock, of } = await ready();
    await engine.portfolios.setHalted(engine.portfolios.get("default")!, true, "manual");
    clock.set(T0 + 10 * MAX_DATA_AGE_MS);
    await engine.decide(...stage2(signalAt("s-halted", T0)));
    expect(of(TOPICS.tradesRejected)).toEqual([expect.objectContaining({ reason: "halted", stage: 2 })]);
  });

  it("reports the account's kill switch before the portfolio's", async () => {
    const { engine, of, clock } = await ready();
    await engine.account.setHalted(true, "audit");
    await engine.portfolios.setHalted(engine.portfolios.get("default")!, true);
    await engine.decide(...stage2(signalAt("s-account", clock.now())));
    expect(of(TOPICS.tradesRejected)).toEqual([expect.objectContaining({ reason: "account_halted", detail: "the account is halted (audit)" })]);
  });

  it("records the order and the decision before the approval is published", async () => {
    const { engine, clock, stores, watch } = await ready();
    const s = signalAt("s-recorded", clock.now());
    const [payload, delivery] = stage2(s);
    const seen: Array<{ decision: boolean; order: boolean }> = [];
    watch((p) => {
      if (p.topic !== TOPICS.tradesApproved) return;
      seen.push({ decision: stores.decisions.docs.has(delivery.idempotencyKey), order: stores.orders.docs.has(p.payload.clientOrderId as string) });
    });
    await engine.decide(payload, delivery);
    expect(seen).toEqual([{ decision: true, order: true }]);
    expect(stores.orders.docs.get(clientOrderIdOf(delivery.idempotencyKey))).toMatchObject({ status: "pending_new", quantity: "0.01666" });
  });

  it("republishes a replayed signal's stored decision, even once its data is stale, and records one order", async () => {
    const { engine, clock, of, stores } = await ready();
    const s = signalAt("s-replayed", clock.now());
    await engine.decide(...stage2(s));
    clock.advance(10 * MAX_DATA_AGE_MS);
    await engine.decide(...stage2(s));
    const approvals = of(TOPICS.tradesApproved);
    expect(approvals).toHaveLength(2);
    expect(approvals[1]).toEqual(approvals[0]);
    expect(of(TOPICS.tradesRejected)).toEqual([]);
    expect(stores.orders.docs.size).toBe(1);
    expect(engine.portfolios.get("default")!.openOrders()).toHaveLength(1);
  });

  it("republishes a replayed rejection with its first decision id", async () => {
    const { engine, clock, of } = await ready();
    const s = signalAt("s-low", clock.now(), { confidence: 0.1 });
    await engine.decide(...stage2(s));
    await engine.decide(...stage2(s));
    const rejections = of(TOPICS.tradesRejected);
    expect(rejections.map((r) => r.reason)).toEqual(["min_confidence", "min_confidence"]);
    expect(rejections[1]!.decisionId).toBe(rejections[0]!.decisionId);
  });
});

describe("RiskEngine accounting", () => {
  it("applies a fill delivered twice once, and fills its order", async () => {
    const { engine, clock, stores, of } = await ready();
    const [payload, delivery] = stage2(signalAt("s-fill", clock.now()));
    await engine.decide(payload, delivery);
    const clientOrderId = clientOrderIdOf(delivery.idempotencyKey);
    const fill: Fill = {
      fillId: "binance:f1", clientOrderId, venueOrderId: "V1", portfolioId: "default", instrumentKey: "binance:BTC/USDT", side: "BUY",
      price: "60000", quantity: "0.01666", fee: "0.9996", feeCurrency: "USDT", liquidity: "taker", time: clock.now(),
    };
    await engine.onFill(fill, { traceId: "t-fill" });
    const updates = of(TOPICS.portfolioUpdated).length;
    await engine.onFill(fill, { traceId: "t-fill" });
    expect(of(TOPICS.portfolioUpdated)).toHaveLength(updates);
    const snapshot = engine.portfolios.get("default")!.snapshot({}, "mark", clock.now());
    // 10000 − 0.01666 × 60000 − 0.9996 fee
    expect(dec(snapshot.cash).eq("8999.4004")).toBe(true);
    expect(snapshot.positions.map((p) => [p.instrumentKey, dec(p.quantity).toString()])).toEqual([["binance:BTC/USDT", "0.01666"]]);
    expect(stores.fills.docs.size).toBe(1);
    expect(stores.orders.docs.get(clientOrderId)).toMatchObject({ status: "filled", filledQuantity: "0.01666" });
  });

  it("rebuilds each book from its stored fills at start-up", async () => {
    const first = await ready();
    const [payload, delivery] = stage2(signalAt("s-restart", first.clock.now()));
    await first.engine.decide(payload, delivery);
    const fill: Fill = {
      fillId: "binance:f2", clientOrderId: clientOrderIdOf(delivery.idempotencyKey), venueOrderId: "V2", portfolioId: "default",
      instrumentKey: "binance:BTC/USDT", side: "BUY", price: "60000", quantity: "0.01", fee: "0.6", feeCurrency: "USDT", liquidity: "taker", time: T0,
    };
    await first.engine.onFill(fill, { traceId: "t" });
    const restarted = setup(first.stores);
    await restarted.engine.start();
    const book = restarted.engine.portfolios.get("default")!;
    // 10000 − 0.01 × 60000 − 0.6 fee; the order stays working for its unfilled 0.00666.
    expect(dec(book.snapshot({}, "mark", T0).cash).eq("9399.4")).toBe(true);
    expect(book.openOrders().map((o) => dec(o.remainingQuantity).toString())).toEqual(["0.00666"]);
  });
});

describe("RiskEngine's registry and portfolios", () => {
  it("records and announces nothing when the venue does not confirm the market", async () => {
    const { engine, stores, published } = await ready();
    const refused = engine.instruments.register(OPERATOR, { exchange: "binance", symbol: "ETH/USDT" }, () => Promise.reject(new Error("venue down")));
    await expect(refused).rejects.toThrow("venue down");
    expect([...stores.instruments.docs.keys()]).toEqual(["binance:BTC/USDT"]);
    expect(published).toEqual([]);
  });

  it("refuses an instrument past the platform's quota with 429 before asking the venue", async () => {
    const { engine } = await ready();
    await engine.instruments.register(OPERATOR, { exchange: "binance", symbol: "ETH/USDT" }, async () => ({ ...market, symbol: "ETH/USDT", base: "ETH" }));
    let asked = false;
    const third = engine.instruments.register(OPERATOR, { exchange: "binance", symbol: "SOL/USDT" }, async () => {
      asked = true;
      return market;
    });
    await expect(third).rejects.toMatchObject({ code: 429, data: { quota: "instrumentsTotal", limit: QUOTAS.instrumentsTotal } });
    expect(asked).toBe(false);
  });

  it("provisions a trader's own portfolio once, however often and concurrently asked", async () => {
    const { engine, stores, of } = await ready();
    await Promise.all([engine.portfolios.provision("alice"), engine.portfolios.provision("alice")]);
    await engine.portfolios.provision("alice");
    const owned = [...stores.portfolios.docs.values()].filter((p) => p.owner === "alice");
    expect(owned.map((p) => [p.portfolioId, dec(p.startCash).toString()])).toEqual([["alice", "10000"]]);
    expect(of(TOPICS.portfolioUpdated).filter((u) => u.portfolioId === "alice" && u.cause === "created")).toHaveLength(1);
  });

  it("funds a provisioned portfolio with no more than what is left of the trader's allowance", async () => {
    const { engine, stores } = await ready();
    await engine.portfolios.setTrader("bob", { allowance: "2500" });
    await engine.portfolios.provision("bob");
    expect(dec(stores.portfolios.docs.get("bob")!.startCash).toString()).toBe("2500");
  });
});
