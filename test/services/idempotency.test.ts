/**
 * Nothing placed twice, nothing counted twice: the same approval delivered twice gives one order at
 * the venue and in the system of record; the same fill delivered twice counts once; a bad message on
 * a topic goes to the dead-letter topic with the reason and the consumer keeps going.
 */
import { type Execution, type Fill, TOPICS } from "../../schemas";
import { createEnvelope, readEnvelope, toRecord } from "../../lib/bus/envelope";
import type { BusMessage } from "../../lib/bus/types";
import { startPlatform, waitFor, type Platform } from "../helpers/platform";
import { approval } from "../helpers/signals";

jest.setTimeout(60000);

describe("idempotency and dead-lettering", () => {
  let platform: Platform;
  const deadLetters: BusMessage[] = [];

  beforeAll(async () => {
    // Risk, execution and the venue only: no strategy, so every order here is the test's own.
    platform = await startPlatform({ services: ["exchange", "risk", "execution"], config: { simSpeed: 60 } });
    await platform.bus.subscribe({ topics: [TOPICS.deadLetter], group: "test-dlq", handler: async (m) => void deadLetters.push(m) });
    await platform.broker.call("risk.registerInstrument", { exchange: "binance", symbol: "ETH/USDT", portfolioId: "default" });
    // The paper broker needs a book before it fills a market order.
    await platform.broker.call("exchange.startMarketDataStream", { instrumentKey: "binance:ETH/USDT" });
    await new Promise((r) => setTimeout(r, 300));
  });

  afterAll(async () => {
    await platform?.stop();
  });

  it("places one order for an approval delivered twice", async () => {
    const { payload, key } = approval("sig-twice", "ETH/USDT", { quantity: "0.1", price: "3000", notional: "300" });
    const record = toRecord(createEnvelope(TOPICS.tradesApproved, payload, "risk", { idempotencyKey: key }));
    await platform.bus.publish(TOPICS.tradesApproved, [record]);
    await platform.bus.publish(TOPICS.tradesApproved, [record]);
    // A third delivery as a fresh envelope with the same idempotency key (a retried publish).
    await platform.bus.publish(TOPICS.tradesApproved, [toRecord(createEnvelope(TOPICS.tradesApproved, payload, "risk", { idempotencyKey: key }))]);

    const execution = await platform.broker.call<Execution, { clientOrderId: string }>("exchange.getOrder", { clientOrderId: payload.clientOrderId });
    expect(execution.order.status).toBe("filled");
    await waitFor(async () => {
      const fills = await platform.broker.call<Fill[], { id: string }>("risk.listFills", { id: "default" });
      return fills.length === execution.fills.length;
    }, "the fills in the system of record");
    await new Promise((r) => setTimeout(r, 500));
    const orders = await platform.broker.call<Array<{ clientOrderId: string }>, { id: string }>("risk.listOrders", { id: "default" });
    expect(orders.filter((o) => o.clientOrderId === payload.clientOrderId)).toHaveLength(1);
    const open = await platform.broker.call<{ openOrders: unknown[]; fills: Fill[] }, { since: number }>("exchange.executionsSince", { since: 0 });
    expect(open.fills.filter((f) => f.clientOrderId === payload.clientOrderId)).toHaveLength(execution.fills.length);
    const fills = await platform.broker.call<Fill[], { id: string }>("risk.listFills", { id: "default" });
    expect(fills).toHaveLength(execution.fills.length);
  });

  it("counts a fill delivered twice once", async () => {
    const before = await platform.broker.call<{ cash: string }, { id: string }>("risk.getPortfolio", { id: "default" });
    const fill: Fill = {
      fillId: "binance:test-fill-1", clientOrderId: "tbp-manual", venueOrderId: "X1", portfolioId: "default", instrumentKey: "binance:ETH/USDT",
      side: "BUY", price: "2000", quantity: "0.5", fee: "1", feeCurrency: "USDT", liquidity: "taker", time: Date.now(),
    };
    const record = toRecord(createEnvelope(TOPICS.ordersFills, fill, "execution", { idempotencyKey: fill.fillId }));
    await platform.bus.publish(TOPICS.ordersFills, [record, record]);
    await platform.bus.publish(TOPICS.ordersFills, [toRecord(createEnvelope(TOPICS.ordersFills, fill, "execution", { idempotencyKey: fill.fillId }))]);
    const after = await waitFor(async () => {
      const p = await platform.broker.call<{ cash: string }, { id: string }>("risk.getPortfolio", { id: "default" });
      return p.cash !== before.cash ? p : undefined;
    }, "the fill applied");
    await new Promise((r) => setTimeout(r, 500));
    const settled = await platform.broker.call<{ cash: string }, { id: string }>("risk.getPortfolio", { id: "default" });
    expect(settled.cash).toBe(after.cash);
    // 0.5 × 2000 + 1 fee, once.
    expect(Number(before.cash) - Number(settled.cash)).toBeCloseTo(1001, 6);
    const fills = await platform.broker.call<Fill[], { id: string }>("risk.listFills", { id: "default" });
    expect(fills.filter((f) => f.fillId === fill.fillId)).toHaveLength(1);
  });

  it("dead-letters invalid topic messages with the reason and keeps consuming", async () => {
    await platform.bus.publish(TOPICS.ordersFills, [
      { key: "default", value: "not json at all" },
      { key: "default", value: JSON.stringify({ ...createEnvelope(TOPICS.ordersFills, {
        fillId: "binance:bad", clientOrderId: "c", venueOrderId: "v", portfolioId: "default", instrumentKey: "binance:ETH/USDT",
        side: "BUY", price: "1", quantity: "1", fee: "0", feeCurrency: "USDT", liquidity: "taker", time: 1,
      }, "execution", { idempotencyKey: "binance:bad" }), payload: { fillId: "binance:bad", price: 1.5 } }) },
    ]);
    const fill: Fill = {
      fillId: "binance:after-bad", clientOrderId: "tbp-manual-2", venueOrderId: "X2", portfolioId: "default", instrumentKey: "binance:ETH/USDT",
      side: "BUY", price: "2000", quantity: "0.01", fee: "0", feeCurrency: "USDT", liquidity: "taker", time: Date.now(),
    };
    await platform.bus.publish(TOPICS.ordersFills, [toRecord(createEnvelope(TOPICS.ordersFills, fill, "execution", { idempotencyKey: fill.fillId }))]);
    const letters = await waitFor(() => {
      const mine = deadLetters.map((m) => readEnvelope(TOPICS.deadLetter, m).payload).filter((p) => p.topic === TOPICS.ordersFills && p.group === "risk");
      return mine.length >= 2 ? mine : undefined;
    }, "two dead letters");
    expect(letters.map((l) => l.reason)).toEqual(["invalid_message", "invalid_message"]);
    expect(letters[0]!.error).toMatch(/JSON/);
    expect(letters[1]!.error).toMatch(/payload/);
    await waitFor(async () => {
      const fills = await platform.broker.call<Fill[], { id: string }>("risk.listFills", { id: "default" });
      return fills.some((f) => f.fillId === "binance:after-bad");
    }, "the consumer to keep going");
  });
});
