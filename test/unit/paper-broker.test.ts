import { ManualClock } from "../../lib/clock";
import { dec } from "../../lib/decimal";
import { simMarketInfo } from "../../lib/market/catalog";
import { MarketSimulator } from "../../lib/market/simulator";
import type { BookLevel, MarketEventDraft, OrderRequest } from "../../schemas";
import { VenueError } from "../../lib/errors";
import { PaperBroker, PaperBrokerOptions, PaperBrokerState } from "../../lib/venue/paper-broker";

const BTC = "paper:BTC/USDT";
const T0 = Date.UTC(2024, 0, 1, 12, 0, 0);

const ASKS: BookLevel[] = [
  ["60000", "0.1"],
  ["60010", "0.2"],
  ["60020", "0.5"],
];
const BIDS: BookLevel[] = [
  ["59990", "0.1"],
  ["59980", "0.2"],
  ["59970", "0.5"],
];

function setup(options: Partial<PaperBrokerOptions> = {}): { broker: PaperBroker; clock: ManualClock } {
  const clock = new ManualClock(T0);
  const broker = new PaperBroker({ exchange: "paper", market: (symbol) => simMarketInfo("paper", symbol), clock, ...options });
  return { broker, clock };
}

function header(instrumentKey = BTC) {
  const [exchange, symbol] = [instrumentKey.slice(0, instrumentKey.indexOf(":")), instrumentKey.slice(instrumentKey.indexOf(":") + 1)];
  return { instrumentKey, exchange, symbol, time: T0 };
}

function book(bids: BookLevel[] = BIDS, asks: BookLevel[] = ASKS): MarketEventDraft {
  return { kind: "book", ...header(), bids, asks };
}

function trade(price: string, quantity: string, tradeId = "1"): MarketEventDraft {
  return { kind: "trade", ...header(), tradeId, price, quantity, takerSide: "SELL" };
}

function order(clientOrderId: string, fields: Partial<OrderRequest> = {}): OrderRequest {
  return { clientOrderId, portfolioId: "pf-1", instrumentKey: BTC, side: "BUY", type: "market", quantity: "0.05", ...fields };
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof VenueError ? err.code : `not a VenueError: ${String(err)}`;
  }
  return undefined;
}

describe("PaperBroker market orders", () => {
  it("refuses orders while it has no market data for the instrument", () => {
    const { broker } = setup();
    expect(codeOf(() => broker.place(order("a")))).toBe("venue_unavailable");
  });

  it("fills a market buy at the best ask plus slippage, with a taker fee in the quote currency", () => {
    const { broker } = setup();
    broker.onMarket(book());
    const execution = broker.place(order("a"));
    expect(execution.order).toEqual({
      clientOrderId: "a",
      venueOrderId: "P1",
      portfolioId: "pf-1",
      instrumentKey: BTC,
      side: "BUY",
      type: "market",
      quantity: "0.05",
      filledQuantity: "0.05",
      averagePrice: "60030",
      status: "filled",
      createdAt: T0,
      updatedAt: T0,
    });
    expect(execution.fills).toEqual([
      {
        fillId: "paper:paper-1",
        clientOrderId: "a",
        venueOrderId: "P1",
        portfolioId: "pf-1",
        instrumentKey: BTC,
        side: "BUY",
        price: "60030", // 60000 + 5 bps
        quantity: "0.05",
        fee: "3.0015", // 0.05 × 60030 × 0.001
        feeCurrency: "USDT",
        liquidity: "taker",
        time: T0,
      },
    ]);
  });

  it("moves a sell's price down by the slippage, rounded to the tick against the trader", () => {
    const { broker } = setup();
    broker.onMarket(book());
    const { fills } = broker.place(order("s", { side: "SELL" }));
    expect(fills.map((f) => [f.price, f.quantity, f.fee])).toEqual([["59960", "0.05", "2.998"]]); // 59990 × 0.9995 = 59960.005
    const { broker: exact } = setup({ slippageBps: 0 });
    exact.onMarket(book());
    expect(exact.place(order("s", { side: "SELL" })).fills[0].price).toBe("59990");
  });

  it("walks the book level by level, one fill per level, and consumes the liquidity it took", () => {
    const { broker } = setup();
    broker.onMarket(book());
    const big = broker.place(order("big", { quantity: "0.25" }));
    expect(big.fills.map((f) => [f.fillId, f.price, f.quantity, f.fee])).toEqual([
      ["paper:paper-1", "60030", "0.1", "6.003"],
      ["paper:paper-2", "60040.01", "0.15", "9.0060015"], // 60010 × 1.0005 = 60040.005, rounded up
    ]);
    expect(big.order).toMatchObject({ status: "filled", filledQuantity: "0.25", averagePrice: "60036.006" });

    // 0.05 is left at 60010; the next order goes on to 60020.
    const next = broker.place(order("next", { quantity: "0.1" }));
    expect(next.fills.map((f) => [f.price, f.quantity])).toEqual([
      ["60040.01", "0.05"],
      ["60050.01", "0.05"],
    ]);
  });

  it("fills what the book cannot give at the last level plus slippage", () => {
    const { broker } = setup();
    broker.onMarket(book());
    const { order: placed, fills } = broker.place(order("huge", { quantity: "1" }));
    expect(fills.map((f) => [f.price, f.quantity])).toEqual([
      ["60030", "0.1"],
      ["60040.01", "0.2"],
      ["60050.01", "0.5"],
      ["60050.01", "0.2"],
    ]);
    expect(placed).toMatchObject({ status: "filled", filledQuantity: "1" });
  });

  it("uses a ticker's best prices and, without a book, the last trade", () => {
    const { broker } = setup({ slippageBps: 0 });
    broker.onMarket({ kind: "ticker", ...header(), bid: "59000", ask: "59001", last: "59000.5", bidQuantity: "0.01", askQuantity: "0.02" });
    expect(broker.place(order("t", { quantity: "0.03" })).fills.map((f) => [f.price, f.quantity])).toEqual([
      ["59001", "0.02"],
      ["59001", "0.01"],
    ]);

    const { broker: tradesOnly } = setup();
    tradesOnly.onMarket(trade("50000", "1"));
    expect(tradesOnly.place(order("l", { side: "SELL" })).fills.map((f) => f.price)).toEqual(["49975"]);
  });

  it("lets a newer ticker replace the book levels it crosses", () => {
    const { broker } = setup({ slippageBps: 0 });
    broker.onMarket(book());
    broker.onMarket({ kind: "ticker", ...header(), bid: "59995", ask: "60015", last: "60000", bidQuantity: "0.3", askQuantity: "0.05" });
    expect(broker.place(order("a", { quantity: "0.1" })).fills.map((f) => [f.price, f.quantity])).toEqual([
      ["60015", "0.05"],
      ["60020", "0.05"],
    ]);
  });
});

describe("PaperBroker validation", () => {
  it("rounds the quantity down to the lot and the limit price to the tick in the trader's favour", () => {
    const { broker } = setup();
    broker.onMarket(book());
    expect(broker.place(order("q", { quantity: "0.123456789" })).order.quantity).toBe("0.12345");
    expect(broker.place(order("b", { type: "limit", price: "59000.129", quantity: "0.001" })).order.price).toBe("59000.12");
    expect(broker.place(order("s", { side: "SELL", type: "limit", price: "61000.121", quantity: "0.001" })).order.price).toBe("61000.13");
  });

  it("refuses quantities below the minimum and orders below the minimum value", () => {
    const { broker } = setup();
    broker.onMarket(book());
    expect(codeOf(() => broker.place(order("tiny", { quantity: "0.000009" })))).toBe("below_min_quantity");
    expect(codeOf(() => broker.place(order("small", { quantity: "0.00008" })))).toBe("below_min_notional"); // 4.8 USDT
    expect(codeOf(() => broker.place(order("small-limit", { type: "limit", price: "50000", quantity: "0.00009" })))).toBe("below_min_notional"); // 4.5 USDT at the limit price
    expect(broker.place(order("ok", { quantity: "0.00009" })).order.status).toBe("filled"); // 5.4 USDT
    expect(broker.place(order("ok-limit", { type: "limit", price: "50000", quantity: "0.0001" })).order.status).toBe("open"); // exactly 5
  });

  it("refuses malformed orders and unknown symbols", () => {
    const { broker } = setup();
    broker.onMarket(book());
    expect(codeOf(() => broker.place(order("np", { type: "limit" })))).toBe("invalid_order");
    expect(codeOf(() => broker.place(order("neg", { quantity: "-1" })))).toBe("invalid_order");
    expect(codeOf(() => broker.place(order("nan", { quantity: "abc" })))).toBe("invalid_order");
    expect(codeOf(() => broker.place(order("tif", { timeInForce: "FOK" as never })))).toBe("invalid_order");
    expect(codeOf(() => broker.place(order("key", { instrumentKey: "no-colon" })))).toBe("invalid_order");
    expect(codeOf(() => broker.place(order("sym", { instrumentKey: "paper:btc-usdt" })))).toBe("unknown_symbol");
    expect(codeOf(() => broker.place(order("ex", { instrumentKey: "binance:BTC/USDT" })))).toBe("unknown_symbol");
  });

  it("refuses a client order id it has seen, even once the order is over", () => {
    const { broker } = setup();
    broker.onMarket(book());
    broker.place(order("dup"));
    expect(codeOf(() => broker.place(order("dup")))).toBe("duplicate_client_order_id");
    broker.place(order("rest", { type: "limit", price: "50000" }));
    broker.cancel("rest");
    expect(codeOf(() => broker.place(order("rest", { type: "limit", price: "50000" })))).toBe("duplicate_client_order_id");
    // A refused order was never accepted, so its id stays free.
    expect(codeOf(() => broker.place(order("retry", { quantity: "0.00001" })))).toBe("below_min_notional");
    expect(broker.place(order("retry")).order.status).toBe("filled");
  });
});

describe("PaperBroker limit orders", () => {
  it("rests a limit buy below the market and fills it across trades at or below its price", () => {
    const { broker, clock } = setup({ partialFillRatio: 0.5 });
    broker.onMarket(book());
    const placed = broker.place(order("lim", { type: "limit", price: "59950", quantity: "0.3" }));
    expect(placed.fills).toEqual([]);
    expect(placed.order).toMatchObject({ status: "open", filledQuantity: "0", price: "59950" });
    expect(placed.order.averagePrice).toBeUndefined();

    expect(broker.onMarket(trade("59960", "5"))).toEqual([]); // above the limit

    clock.advance(1000);
    const first = broker.onMarket(trade("59950", "0.2")); // half of the print is ours
    expect(first).toHaveLength(1);
    expect(first[0].order).toMatchObject({ status: "partially_filled", filledQuantity: "0.1", averagePrice: "59950", updatedAt: T0 + 1000 });
    expect(first[0].fills).toEqual([
      {
        fillId: "paper:paper-1",
        clientOrderId: "lim",
        venueOrderId: "P1",
        portfolioId: "pf-1",
        instrumentKey: BTC,
        side: "BUY",
        price: "59950",
        quantity: "0.1",
        fee: "5.995",
        feeCurrency: "USDT",
        liquidity: "maker",
        time: T0 + 1000,
      },
    ]);

    clock.advance(1000);
    const second = broker.onMarket(trade("59940", "1")); // fills at the limit, not at the print
    expect(second[0].order).toMatchObject({ status: "filled", filledQuantity: "0.3", averagePrice: "59950" });
    expect(second[0].fills.map((f) => [f.price, f.quantity, f.fee])).toEqual([["59950", "0.2", "11.99"]]);
    expect(broker.openOrders()).toEqual([]);
    expect(broker.onMarket(trade("59900", "1"))).toEqual([]);
    expect(broker.fillsOf("lim").map((f) => f.quantity)).toEqual(["0.1", "0.2"]);
  });

  it("fills a resting sell on trades at or above its price", () => {
    const { broker } = setup();
    broker.onMarket(book());
    broker.place(order("ask", { side: "SELL", type: "limit", price: "60100", quantity: "0.1" }));
    expect(broker.onMarket(trade("60099.99", "1"))).toEqual([]);
    const [execution] = broker.onMarket(trade("60100", "1"));
    expect(execution.order).toMatchObject({ status: "filled", filledQuantity: "0.1" });
    expect(execution.fills[0]).toMatchObject({ price: "60100", liquidity: "maker", side: "SELL", fee: "6.01" });
  });

  it("shares a print between resting orders, best price first", () => {
    const { broker } = setup();
    broker.onMarket(book());
    broker.place(order("low", { type: "limit", price: "59950", quantity: "0.1" }));
    broker.place(order("high", { type: "limit", price: "59960", quantity: "0.1" }));
    const executions = broker.onMarket(trade("59940", "0.15"));
    expect(executions.map((e) => [e.order.clientOrderId, e.fills[0].quantity, e.order.status])).toEqual([
      ["high", "0.1", "filled"],
      ["low", "0.05", "partially_filled"],
    ]);
  });

  it("takes the marketable part of a limit order up to its price and rests the rest", () => {
    const { broker } = setup();
    broker.onMarket(book());
    const { order: placed, fills } = broker.place(order("m", { type: "limit", price: "60005", quantity: "0.25" }));
    // 60000 is marketable; slippage would make it 60030, but a limit order never pays more than its price.
    expect(fills.map((f) => [f.price, f.quantity, f.liquidity])).toEqual([["60005", "0.1", "taker"]]);
    expect(placed).toMatchObject({ status: "partially_filled", filledQuantity: "0.1" });
    expect(broker.openOrders().map((o) => o.clientOrderId)).toEqual(["m"]);
  });

  it("cancels the unfilled remainder of an IOC order", () => {
    const { broker } = setup();
    broker.onMarket(book());
    const partial = broker.place(order("ioc", { type: "limit", price: "60005", quantity: "0.25", timeInForce: "IOC" }));
    expect(partial.fills).toHaveLength(1);
    expect(partial.order).toMatchObject({ status: "cancelled", filledQuantity: "0.1", reason: "ioc_unfilled" });

    const none = broker.place(order("ioc2", { type: "limit", price: "59000", quantity: "0.25", timeInForce: "IOC" }));
    expect(none.fills).toEqual([]);
    expect(none.order).toMatchObject({ status: "cancelled", filledQuantity: "0" });

    const full = broker.place(order("ioc3", { type: "limit", price: "60010", quantity: "0.1", timeInForce: "IOC" }));
    expect(full.order.status).toBe("filled");
    expect(broker.openOrders()).toEqual([]);
  });

  it("cancels resting orders, leaves finished ones alone and knows no unknown ones", () => {
    const { broker, clock } = setup();
    broker.onMarket(book());
    broker.place(order("r", { type: "limit", price: "59000" }));
    clock.advance(500);
    expect(broker.cancel("r")).toMatchObject({ status: "cancelled", updatedAt: T0 + 500 });
    clock.advance(500);
    expect(broker.cancel("r")).toMatchObject({ status: "cancelled", updatedAt: T0 + 500 });
    expect(broker.onMarket(trade("58000", "1"))).toEqual([]);
    broker.place(order("done"));
    expect(broker.cancel("done").status).toBe("filled");
    expect(codeOf(() => broker.cancel("nope"))).toBe("order_not_found");
    expect(codeOf(() => broker.getOrder("nope"))).toBe("order_not_found");
    expect(broker.getOrder("done")).toMatchObject({ status: "filled", venueOrderId: "P2" });
  });

  it("lists open orders per portfolio and fills since a time", () => {
    const { broker, clock } = setup();
    broker.onMarket(book());
    broker.place(order("a1", { type: "limit", price: "59000" }));
    broker.place(order("b1", { portfolioId: "pf-2", type: "limit", price: "59000" }));
    broker.place(order("m1"));
    clock.advance(10_000);
    broker.place(order("m2", { portfolioId: "pf-2" }));
    expect(broker.openOrders().map((o) => o.clientOrderId)).toEqual(["a1", "b1"]);
    expect(broker.openOrders("pf-2").map((o) => o.clientOrderId)).toEqual(["b1"]);
    expect(broker.fillsSince(T0).map((f) => f.clientOrderId)).toEqual(["m1", "m2"]);
    expect(broker.fillsSince(T0 + 10_000).map((f) => f.clientOrderId)).toEqual(["m2"]);
    expect(broker.fillsOf("unknown")).toEqual([]);
  });
});

describe("PaperBroker snapshot and restore", () => {
  it("keeps refusing seen ids, keeps resting orders and continues its sequences after a restart", () => {
    const { broker, clock } = setup();
    broker.onMarket(book());
    broker.place(order("filled"));
    broker.place(order("resting", { type: "limit", price: "59950", quantity: "0.2" }));
    const state = JSON.parse(JSON.stringify(broker.snapshot())) as PaperBrokerState;
    expect(state).toMatchObject({ version: 1, orderSeq: 2, fillSeq: 1, lastPrices: {} });

    const { broker: restarted } = setup();
    restarted.restore(state);
    expect(codeOf(() => restarted.place(order("filled")))).toBe("duplicate_client_order_id");
    expect(codeOf(() => restarted.place(order("resting")))).toBe("duplicate_client_order_id");
    expect(restarted.openOrders().map((o) => o.clientOrderId)).toEqual(["resting"]);
    expect(restarted.fillsOf("filled")).toEqual(broker.fillsOf("filled"));

    clock.advance(1);
    const [execution] = restarted.onMarket(trade("59950", "1"));
    expect(execution.order).toMatchObject({ clientOrderId: "resting", status: "filled", averagePrice: "59950" });
    expect(execution.fills[0].fillId).toBe("paper:paper-2");
    // The trade gave a last price: market orders work again before the next book.
    const next = restarted.place(order("after"));
    expect(next.order.venueOrderId).toBe("P3");
    expect(next.fills.map((f) => f.price)).toEqual(["59979.98"]); // 59950 × 1.0005 = 59979.975, rounded up
    expect(restarted.snapshot().lastPrices).toEqual({ [BTC]: "59950" });
  });

  it("refuses a snapshot of an unknown version", () => {
    const { broker } = setup();
    expect(() => broker.restore({ version: 2 } as unknown as PaperBrokerState)).toThrow(/version/);
  });
});

describe("PaperBroker on simulated market data", () => {
  it("trades against the simulator's book and fills resting orders from its trades", () => {
    const sim = new MarketSimulator({ exchange: "paper", symbol: "BTC/USDT", seed: 42, startTime: T0 });
    const clock = new ManualClock(T0);
    const broker = new PaperBroker({ exchange: "paper", market: (symbol) => simMarketInfo("paper", symbol), clock, slippageBps: 0 });
    const feed = (until: number) => {
      const executions = sim.advanceTo(until).flatMap((event) => {
        clock.set(event.time);
        return broker.onMarket(event);
      });
      clock.set(until);
      return executions;
    };

    feed(T0 + 5000); // ends on a book snapshot
    const bestAsk = sim.book().asks[0];
    const bought = broker.place(order("buy", { quantity: "0.001" }));
    expect(bought.fills.map((f) => f.price)).toEqual([bestAsk[0]]);

    const limit = dec(sim.lastPrice()).mul("0.999").toDecimalPlaces(2).toFixed();
    broker.place(order("dip", { type: "limit", price: limit, quantity: "0.01" }));
    const executions = feed(T0 + 6 * 3600_000);
    const fills = executions.flatMap((e) => e.fills);
    expect(fills.length).toBeGreaterThan(0);
    expect(fills.every((f) => f.price === limit && f.liquidity === "maker")).toBe(true);
    expect(broker.getOrder("dip")).toMatchObject({ status: "filled", filledQuantity: "0.01" });
  });
});
