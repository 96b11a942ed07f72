import { Type } from "@sinclair/typebox";
import { ALL_TOPICS, TOPIC_TABLE, latestVersion } from "../../schemas";
import { Closed, DecimalString, Text } from "../../schemas/common";
import { TradeRejected, TradeRejectedV1, TradeRejectedV2 } from "../../schemas/trading";
import { backwardCompatibilityProblems, envelopeError, payloadError, registryCompatibility, upcast, upcastEnvelope } from "../../schemas/registry";
import { createEnvelope, readEnvelope } from "../../lib/bus/envelope";

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

  it("keys a dead letter by the key of the message it parks", () => {
    const spec = TOPIC_TABLE["dead.letter"];
    expect(spec.key).toBe("original_key");
    const parked = { topic: "orders.fills", partition: 0, offset: "7", group: "risk", reason: "handler_failed", error: "boom", attempts: 3, value: "{}", failedAt: 1 } as const;
    expect(spec.keyOf({ ...parked, key: "p1" })).toBe("p1");
    expect(spec.keyOf({ ...parked, key: "binance:BTC/USDT" })).toBe("binance:BTC/USDT");
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
    const older = Closed({ a: Text, b: Type.Optional(DecimalString) });
    expect(backwardCompatibilityProblems(older, Closed({ a: Text, b: DecimalString }))).toEqual(["$.b: became required"]);
    expect(backwardCompatibilityProblems(older, Closed({ a: Type.Number(), b: Type.Optional(DecimalString) }))).toEqual(["$.a: type changed from string to number"]);
    expect(backwardCompatibilityProblems(older, Closed({ a: Text }))).toEqual(["$.b: removed from a closed object"]);
  });

  it("a rename is incompatible unless the topic table declares it", () => {
    const problems = backwardCompatibilityProblems(TradeRejectedV2, TradeRejected);
    expect(problems).toEqual(expect.arrayContaining(["$.side: became required", "$.action: removed from a closed object"]));
    expect(TOPIC_TABLE["trades.rejected"].renames?.[3]).toEqual({ action: "side" });
    expect(registryCompatibility().find((r) => r.topic === "trades.rejected" && r.to === 3)?.problems).toEqual([]);
  });

  it("data written with v1 of trades.rejected reads under v2", () => {
    const v1 = {
      decisionId: "d", riskKey: "p:BTC/USDT", portfolioId: "p", instrumentKey: "binance:BTC/USDT", signalId: "s",
      strategy: "rsi-macd", modelVersion: "1", confidence: 0.7, receivedAt: 1, decidedAt: 2,
      action: "BUY", reason: "halted", detail: "portfolio is halted",
    };
    expect(payloadError("trades.rejected", 1, v1)).toBeUndefined();
    expect(payloadError("trades.rejected", 2, v1)).toBeUndefined();
    expect(TradeRejectedV2.required).toEqual(TradeRejectedV1.required);
  });

  it("v3 of trades.rejected says side, as trades.approved does, and reads v1 and v2 messages as v3", () => {
    const v2 = {
      decisionId: "d", riskKey: "p:BTC/USDT", portfolioId: "p", instrumentKey: "binance:BTC/USDT", signalId: "s",
      strategy: "rsi-macd", modelVersion: "1", confidence: 0.7, receivedAt: 1, decidedAt: 2,
      action: "SELL", reason: "no_position", detail: "nothing to sell", stage: 2,
    };
    expect(latestVersion("trades.rejected")).toBe(3);
    expect(payloadError("trades.rejected", 3, v2)).toMatch(/required property 'side'/);
    const { action, ...rest } = v2;
    const v3 = { ...rest, side: action };
    expect(upcast("trades.rejected", 2, v2)).toEqual(v3);
    expect(payloadError("trades.rejected", 3, upcast("trades.rejected", 2, v2))).toBeUndefined();
    const { stage, ...v1 } = v2;
    void stage;
    expect(payloadError("trades.rejected", 3, upcast("trades.rejected", 1, v1))).toBeUndefined();
    expect(upcast("trades.rejected", 3, v3)).toBe(v3);

    const written = { id: "e", type: "TradeRejected", version: 2, time: "t", producer: "risk", key: "p", idempotencyKey: "k", traceId: "x", payload: v2 };
    expect(envelopeError("trades.rejected", written)).toBeUndefined();
    expect(upcastEnvelope("trades.rejected", written)).toEqual({ ...written, version: 3, payload: v3 });
    // What a consumer of either bus is handed for that message on the topic.
    const consumed = readEnvelope("trades.rejected", { topic: "trades.rejected", partition: 0, offset: "0", key: "p", value: JSON.stringify(written), headers: {}, timestamp: 0 });
    expect(consumed).toEqual({ ...written, version: 3, payload: v3 });
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
