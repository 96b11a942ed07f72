import { dec } from "../../lib/decimal";
import { VenueError } from "../../lib/errors";
import type { MarketInfo, OrderRequest, OrderStatus } from "../../schemas";
import { checkMinNotional, checkOrderRequest, fillTotals, isTerminal, movesBack, onMarketGrid, refusedOrder, statusAfterFills } from "../../lib/venue/order-rules";

const MARKET: MarketInfo = {
  exchange: "x",
  symbol: "ETH/USDT",
  base: "ETH",
  quote: "USDT",
  tickSize: "0.05",
  lotSize: "0.001",
  minQuantity: "0.01",
  minNotional: "10",
  makerFee: "0.001",
  takerFee: "0.001",
};

function request(overrides: Partial<OrderRequest> = {}): OrderRequest {
  return { clientOrderId: "c1", portfolioId: "p", instrumentKey: "x:ETH/USDT", side: "BUY", type: "market", quantity: "0.5", ...overrides };
}

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
    return undefined;
  } catch (err) {
    expect(err).toBeInstanceOf(VenueError);
    return (err as VenueError).code;
  }
}

describe("order rules", () => {
  it("refuses requests no venue could take", () => {
    expect(codeOf(() => checkOrderRequest(request()))).toBeUndefined();
    expect(codeOf(() => checkOrderRequest(request({ clientOrderId: "" })))).toBe("invalid_order");
    expect(codeOf(() => checkOrderRequest(request({ side: "HOLD" as never })))).toBe("invalid_order");
    expect(codeOf(() => checkOrderRequest(request({ type: "stop" as never })))).toBe("invalid_order");
    expect(codeOf(() => checkOrderRequest(request({ timeInForce: "FOK" as never })))).toBe("invalid_order");
    expect(codeOf(() => checkOrderRequest(request({ quantity: "0" })))).toBe("invalid_order");
    expect(codeOf(() => checkOrderRequest(request({ quantity: "1e3" })))).toBe("invalid_order");
  });

  it("puts the quantity on the lot grid and the limit on the tick grid in the trader's favour", () => {
    // 0.12345 has 123 whole lots of 0.001; 2000.07 lies between the ticks 2000.05 and 2000.10.
    const buy = onMarketGrid(request({ type: "limit", quantity: "0.12345", price: "2000.07" }), MARKET);
    expect([buy.quantity.toString(), buy.limit?.toString()]).toEqual(["0.123", "2000.05"]);
    const sell = onMarketGrid(request({ side: "SELL", type: "limit", quantity: "0.12345", price: "2000.07" }), MARKET);
    expect(sell.limit?.toString()).toBe("2000.1");
    expect(onMarketGrid(request(), MARKET).limit).toBeUndefined();
  });

  it("refuses a quantity below the minimum, a limit without a price and one below a tick", () => {
    expect(codeOf(() => onMarketGrid(request({ quantity: "0.0099" }), MARKET))).toBe("below_min_quantity");
    expect(codeOf(() => onMarketGrid(request({ quantity: "0.0009" }), MARKET))).toBe("below_min_quantity");
    expect(codeOf(() => onMarketGrid(request({ quantity: "0.01" }), MARKET))).toBeUndefined();
    expect(codeOf(() => onMarketGrid(request({ type: "limit" }), MARKET))).toBe("invalid_order");
    expect(codeOf(() => onMarketGrid(request({ type: "limit", price: "0.04" }), MARKET))).toBe("invalid_order");
  });

  it("refuses an order worth less than the minimum value, and takes one worth exactly that", () => {
    expect(codeOf(() => checkMinNotional(dec("0.004"), dec("2499.95"), MARKET))).toBe("below_min_notional"); // 9.9998
    expect(codeOf(() => checkMinNotional(dec("0.004"), dec("2500"), MARKET))).toBeUndefined(); // 10
    expect(() => checkMinNotional(dec("0.002"), dec("2000"), MARKET)).toThrow("order value 4 is below the minimum 10 of ETH/USDT");
  });

  it("never moves an order back, nor out of a final status", () => {
    const order = (status: OrderStatus) => ({ status });
    expect(movesBack(order("partially_filled"), order("open"))).toBe(true);
    expect(movesBack(order("open"), order("pending_new"))).toBe(true);
    expect(movesBack(order("filled"), order("cancelled"))).toBe(true);
    expect(movesBack(order("cancelled"), order("cancelled"))).toBe(false);
    expect(movesBack(order("open"), order("partially_filled"))).toBe(false);
    expect(movesBack(order("pending_new"), order("rejected"))).toBe(false);
    expect(["filled", "cancelled", "rejected"].map((s) => isTerminal(order(s as OrderStatus)))).toEqual([true, true, true]);
    expect(["pending_new", "open", "partially_filled"].map((s) => isTerminal(order(s as OrderStatus)))).toEqual([false, false, false]);
  });

  it("gives an order its status by what filled", () => {
    expect(statusAfterFills({ status: "open", quantity: "1" }, dec("0"))).toBe("open");
    expect(statusAfterFills({ status: "open", quantity: "1" }, dec("0.4"))).toBe("partially_filled");
    expect(statusAfterFills({ status: "pending_new", quantity: "1" }, dec("0.4"))).toBe("partially_filled");
    expect(statusAfterFills({ status: "partially_filled", quantity: "1" }, dec("1"))).toBe("filled");
    // A cancelled order keeps its status whatever filled before the cancel.
    expect(statusAfterFills({ status: "cancelled", quantity: "1" }, dec("0.4"))).toBe("cancelled");
  });

  it("adds up fills to the quantity and the volume-weighted average price", () => {
    expect(fillTotals([])).toEqual({ filled: dec(0) });
    // (0.1 × 100 + 0.3 × 104) / 0.4 = 41.2 / 0.4 = 103
    const totals = fillTotals([
      { quantity: "0.1", price: "100" },
      { quantity: "0.3", price: "104" },
    ]);
    expect([totals.filled.toString(), totals.averagePrice]).toEqual(["0.4", "103"]);
    // (1 × 1 + 2 × 2) / 3 = 5/3, cut at 8 places (half up): 1.66666667
    expect(fillTotals([{ quantity: "1", price: "1" }, { quantity: "2", price: "2" }]).averagePrice).toBe("1.66666667");
  });

  it("records a refused order as rejected with the refusal as its reason, bounded", () => {
    const order = refusedOrder(request({ type: "limit", price: "2000" }), "insufficient_funds", "not enough USDT", 1234);
    expect(order).toEqual({
      clientOrderId: "c1", venueOrderId: "none", portfolioId: "p", instrumentKey: "x:ETH/USDT", side: "BUY", type: "limit", quantity: "0.5",
      price: "2000", filledQuantity: "0", status: "rejected", reason: "insufficient_funds: not enough USDT", createdAt: 1234, updatedAt: 1234,
    });
    expect(refusedOrder(request(), "invalid_order", "x".repeat(600), 0).reason).toHaveLength(500);
  });
});
