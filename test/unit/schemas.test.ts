import { ALL_TOPICS, TOPIC_TABLE, latestVersion } from "../../schemas";
import { backwardCompatibilityProblems, envelopeError, payloadError, registryCompatibility } from "../../schemas/registry";
import { tradeRejectedV1, tradeRejectedV2 } from "../../schemas/payloads/trading";
import { object, decimal, text } from "../../schemas/json-schema";
import { createEnvelope } from "../../lib/bus/envelope";

describe("topic table", () => {
  it("declares exactly the seed's topics with their keys, producers and consumers", () => {
    const table = Object.fromEntries(
      ALL_TOPICS.filter((t) => t !== "dead.letter").map((t) => [t, [TOPIC_TABLE[t].key, TOPIC_TABLE[t].producer, [...TOPIC_TABLE[t].consumers].sort()]]),
    );
    expect(table).toEqual({
      "instrument.registered": ["instrument_key", "risk", ["ingestion"]],
      "market.raw.data": ["instrument_key", "exchange", ["features", "ingestion"]],
      "features.indicators": ["instrument_key", "features", ["gateway", "ingestion", "prediction"]],
      "trading.signals": ["instrument_key", "prediction", ["gateway", "risk"]],
      "trading.signals.portfolio": ["portfolio_key", "risk", ["risk"]],
      "trades.approved": ["portfolio_key", "risk", ["execution", "gateway"]],
      "trades.rejected": ["portfolio_key", "risk", ["gateway"]],
      "orders.placed": ["portfolio_key", "execution", ["risk"]],
      "orders.fills": ["portfolio_key", "execution", ["gateway", "risk"]],
      "portfolio.updated": ["portfolio_key", "risk", ["gateway"]],
    });
  });

  it("asks for idempotency keys on approvals and fills", () => {
    expect(TOPIC_TABLE["trades.approved"].idempotent).toBe(true);
    expect(TOPIC_TABLE["orders.fills"].idempotent).toBe(true);
  });
});

describe("schema versions", () => {
  it("every new version of every topic stays backward compatible", () => {
    const report = registryCompatibility();
    expect(report.length).toBeGreaterThan(0);
    for (const entry of report) expect({ ...entry, problems: entry.problems }).toEqual({ ...entry, problems: [] });
  });

  it("the checker catches incompatible changes", () => {
    const older = object({ a: text, b: decimal }, ["b"]);
    expect(backwardCompatibilityProblems(older, object({ a: text, b: decimal }))).toEqual(["$.b: became required"]);
    expect(backwardCompatibilityProblems(older, object({ a: { type: "number" }, b: decimal }, ["b"]))).toEqual(["$.a: type changed from string to number"]);
    expect(backwardCompatibilityProblems(older, object({ a: text }))).toEqual(["$.b: removed from a closed object"]);
  });

  it("data written with v1 of trades.rejected reads under v2", () => {
    const v1 = {
      decisionId: "d", riskKey: "p:BTC/USDT", portfolioId: "p", instrumentKey: "binance:BTC/USDT", signalId: "s",
      strategy: "rsi-macd", modelVersion: "1", confidence: 0.7, receivedAt: 1, decidedAt: 2,
      action: "BUY", reason: "halted", detail: "portfolio is halted",
    };
    expect(payloadError("trades.rejected", 1, v1)).toBeUndefined();
    expect(payloadError("trades.rejected", 2, v1)).toBeUndefined();
    expect(tradeRejectedV2.required).toEqual(tradeRejectedV1.required);
  });
});

describe("envelopes", () => {
  it("names the field and the reason of an invalid payload", () => {
    expect(payloadError("orders.fills", 1, { fillId: "x" })).toMatch(/payload must have required property/);
    expect(payloadError("market.raw.data", 1, { kind: "trade", instrumentKey: "binance:BTC/USDT", exchange: "binance", symbol: "BTC/USDT", time: 1, receivedAt: 1, tradeId: "1", price: "1e5", quantity: "1", takerSide: "BUY" }))
      .toBe('payload.price must match pattern "^-?[0-9]+(\\.[0-9]+)?$"');
  });

  it("refuses a fill without idempotency key and an unknown version", () => {
    const fill = {
      fillId: "binance:1", clientOrderId: "c", venueOrderId: "v", portfolioId: "p", instrumentKey: "binance:BTC/USDT",
      side: "BUY", price: "100", quantity: "1", fee: "0.1", feeCurrency: "USDT", liquidity: "taker", time: 1,
    } as const;
    expect(() => createEnvelope("orders.fills", fill, "test")).toThrow(/idempotency key/);
    const env = createEnvelope("orders.fills", fill, "test", { idempotencyKey: fill.fillId });
    expect(envelopeError("orders.fills", env)).toBeUndefined();
    expect(envelopeError("orders.fills", { ...env, version: latestVersion("orders.fills") + 1 })).toMatch(/newer/);
    const { idempotencyKey, ...withoutKey } = env;
    void idempotencyKey;
    expect(envelopeError("orders.fills", withoutKey)).toMatch(/idempotencyKey is required/);
    expect(env.key).toBe("p");
  });
});
