import { mergeOrderReport, withFilledQuantity, type OrderRecord } from "../../lib/risk/portfolio";
import type { VenueOrder } from "../../lib/types";

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
