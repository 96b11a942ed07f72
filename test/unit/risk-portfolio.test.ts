import { Portfolio, mergeOrderReport, withFilledQuantity } from "../../lib/risk/portfolio";
import { DEFAULT_LIMITS } from "../../lib/risk/rules";
import type { Fill, OrderRecord, PortfolioRecord, VenueOrder } from "../../schemas";

const order: OrderRecord = {
  clientOrderId: "c1", venueOrderId: "", portfolioId: "p", instrumentKey: "binance:BTC/USDT", side: "SELL", type: "market",
  quantity: "0.5", price: "100", filledQuantity: "0", status: "pending_new", createdAt: 1, updatedAt: 1,
};
const report: VenueOrder = { ...order, venueOrderId: "V1", filledQuantity: "0.5", status: "filled", averagePrice: "100", updatedAt: 2 };

describe("order records against venue reports and fills", () => {
  it("keeps an order the venue calls filled working until its fills reach the book", () => {
    const reported = mergeOrderReport(order, report, "0")!;
    expect(reported).toMatchObject({ status: "open", filledQuantity: "0", venueFilledQuantity: "0.5" });
    const half = withFilledQuantity(reported, "0.2");
    expect(half).toMatchObject({ status: "partially_filled", filledQuantity: "0.2" });
    expect(withFilledQuantity(half, "0.5")).toMatchObject({ status: "filled", filledQuantity: "0.5" });
  });

  it("does not count the venue's filled quantity and the fills twice, in either order", () => {
    const fillsFirst = withFilledQuantity(withFilledQuantity(order, "0.2"), "0.5");
    expect(fillsFirst.status).toBe("filled");
    const thenReport = mergeOrderReport(fillsFirst, report, fillsFirst.filledQuantity)!;
    expect(thenReport).toMatchObject({ status: "filled", filledQuantity: "0.5" });
  });

  it("ignores stale or repeated reports and keeps a cancel", () => {
    const reported = mergeOrderReport(order, report, "0")!;
    expect(mergeOrderReport(reported, report, "0")).toBeUndefined();
    expect(mergeOrderReport(reported, { ...report, status: "open", filledQuantity: "0" }, "0")).toBeUndefined();
    const cancelled = mergeOrderReport(order, { ...report, status: "cancelled", filledQuantity: "0.1" }, "0")!;
    expect(cancelled.status).toBe("cancelled");
    expect(withFilledQuantity(cancelled, "0.1").status).toBe("cancelled");
  });
});

describe("orders derived from the fills in the book", () => {
  it("is idempotent: the same applied quantity leaves the same record", () => {
    const working = mergeOrderReport(order, report, "0")!;
    const done = withFilledQuantity(working, "0.5");
    expect(done).toMatchObject({ status: "filled", filledQuantity: "0.5" });
    expect(withFilledQuantity(done, "0.5")).toBe(done);
  });
});

describe("the figures a portfolio records and serves", () => {
  const fill = (fillId: string, side: "BUY" | "SELL", quantity: string, price: string, fee: string, time: number): Fill => ({
    fillId, clientOrderId: fillId, venueOrderId: fillId, portfolioId: "p", instrumentKey: "binance:BTC/USDT", side, price, quantity, fee,
    feeCurrency: "USDT", liquidity: "taker", time,
  });
  // Three buys at an average of 60243.18504414361389… (an endless quotient), then a third is sold.
  const fills = [
    fill("f1", "BUY", "0.01231", "60241.17", "0.74156880", 1),
    fill("f2", "BUY", "0.00457", "60248.93", "0.27533761", 2),
    fill("f3", "BUY", "0.00011", "60230.01", "0.00662530", 3),
    fill("f4", "SELL", "0.00566", "60301.55", "0.34130677", 4),
  ];
  const record: PortfolioRecord = {
    portfolioId: "p", name: "p", startCash: "10000", limits: { ...DEFAULT_LIMITS }, halted: false,
    dayKey: "2026-01-01", dayStartEquity: "10000", peakEquity: "10000", createdAt: 0, updatedAt: 0,
  };
  const marketOf = () => ({ base: "BTC", quote: "USDT" });

  it("serves the average cost and P&L at 12 places, with no residue digits, and cash exactly", () => {
    const portfolio = new Portfolio(record, fills, [], marketOf);
    const snapshot = portfolio.snapshot({ "binance:BTC/USDT": "60285.04" }, "mark", 10);
    // Cost 0.01231 × 60241.17 + 0.00457 × 60248.93 + 0.00011 × 60230.01 = 1023.5317139 for 0.01699 BTC.
    // Selling 0.00566 of them releases 1023.5317139 × 566 / 1699 = 340.97642734985285… → 340.976427349853
    // and realizes 0.00566 × 60301.55 − that = 0.330345650147; 682.555286550147 of cost stays for 0.01133.
    // (Expected values from Python's fractions, independent of the code under test.)
    expect(snapshot.positions[0]).toMatchObject({ quantity: "0.01133", averageCost: "60243.185044143601" });
    expect(snapshot.realizedPnl).toBe("0.330345650147");
    expect(snapshot.unrealizedPnl).toBe("0.474216649853"); // 0.01133 × 60285.04 − 682.555286550147
    expect(snapshot.cash).toBe("9316.41022062"); // every cash movement is exact
    expect(snapshot.equity).toBe("9999.43972382");
  });

  it("records day-start and peak equity as served", () => {
    const portfolio = new Portfolio(record, fills, [], marketOf);
    const marks = { "binance:BTC/USDT": "90000.01" };
    expect(portfolio.track(marks, Date.UTC(2026, 0, 2))).toBe(true);
    expect(portfolio.record.dayStartEquity).toBe(portfolio.value(marks).equity);
    expect(portfolio.record.peakEquity).toBe(portfolio.value(marks).equity);
  });
});
