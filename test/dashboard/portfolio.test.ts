import { dayPnlOf, drawdownOf, fillValue, openPositions, returnOf, shareOf } from "../../dashboard/src/lib/portfolio";
import { barChange } from "../../dashboard/src/lib/chart-data";
import type { PortfolioSnapshot } from "../../dashboard/src/lib/api";

describe("portfolio figures", () => {
  it("measures the drawdown from the peak, never below zero", () => {
    expect(drawdownOf("10000", "9000")).toBe("0.1");
    expect(drawdownOf("10000", "10500")).toBe("0");
    expect(drawdownOf("0", "5")).toBeUndefined();
    expect(drawdownOf(undefined, "5")).toBeUndefined();
  });

  it("gives the return since the start, the P&L of the day and shares of equity exactly", () => {
    expect(returnOf("10000", "10023.45")).toBe("0.002345");
    expect(returnOf("0", "1")).toBeUndefined();
    expect(dayPnlOf("10000.1", "9999.9")).toBe("-0.2");
    expect(shareOf("999.9", "9999")).toBe("0.1");
    expect(shareOf("5", "0")).toBeUndefined();
  });

  it("keeps the positions with a quantity, and values fills exactly", () => {
    const positions = [{ instrumentKey: "a", quantity: "0.01" }, { instrumentKey: "b", quantity: "0" }, { instrumentKey: "c", quantity: "0.00" }] as PortfolioSnapshot["positions"];
    expect(openPositions(positions).map((p) => p.instrumentKey)).toEqual(["a"]);
    expect(fillValue({ price: "60000.1", quantity: "0.3" })).toBe("18000.03"); // 0.1 × 3 as floats is not 0.3
  });

  it("gives a bar's change from open to close", () => {
    expect(barChange({ open: "200", close: "201.5" })).toEqual({ delta: "1.5", percent: "0.75" });
    expect(barChange({ open: "0", close: "1" })).toBeUndefined();
    expect(barChange(undefined)).toBeUndefined();
  });
});
