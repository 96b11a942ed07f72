import { applyFillToOrder, mergeOrderReport, type OrderRecord } from "../../lib/risk/portfolio";
import type { Fill, VenueOrder } from "../../lib/types";

const order: OrderRecord = {
  clientOrderId: "c1", venueOrderId: "", portfolioId: "p", instrumentKey: "binance:BTC/USDT", side: "SELL", type: "market",
  quantity: "0.5", price: "100", filledQuantity: "0", status: "pending_new", createdAt: 1, updatedAt: 1,
};
const report: VenueOrder = { ...order, venueOrderId: "V1", filledQuantity: "0.5", status: "filled", averagePrice: "100", updatedAt: 2 };
const fill = (id: string, quantity: string): Fill => ({
  fillId: id, clientOrderId: "c1", venueOrderId: "V1", portfolioId: "p", instrumentKey: "binance:BTC/USDT", side: "SELL",
  price: "100", quantity, fee: "0", feeCurrency: "USDT", liquidity: "taker", time: 3,
});

describe("order records against venue reports and fills", () => {
  it("keeps an order the venue calls filled working until its fills reach the book", () => {
    const reported = mergeOrderReport(order, report, "0")!;
    expect(reported).toMatchObject({ status: "open", filledQuantity: "0", venueFilledQuantity: "0.5" });
    const half = applyFillToOrder(reported, fill("f1", "0.2"));
    expect(half).toMatchObject({ status: "partially_filled", filledQuantity: "0.2" });
    expect(applyFillToOrder(half, fill("f2", "0.3"))).toMatchObject({ status: "filled", filledQuantity: "0.5" });
  });

  it("does not count the venue's filled quantity and the fills twice, in either order", () => {
    const fillsFirst = applyFillToOrder(applyFillToOrder(order, fill("f1", "0.2")), fill("f2", "0.3"));
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
    expect(applyFillToOrder(cancelled, fill("f1", "0.1")).status).toBe("cancelled");
  });
});
