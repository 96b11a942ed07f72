import { countOf, decimalsOf, formatClock, formatConfidence, formatDecimal, formatDuration, formatMoney, formatPercent, formatPrice, formatQuantity, formatTime, toneOf } from "../../dashboard/src/lib/format";

describe("dashboard formatting", () => {
  it("reads a market's precision from its tick or lot size", () => {
    expect(decimalsOf("0.01")).toBe(2);
    expect(decimalsOf("0.00001")).toBe(5);
    expect(decimalsOf("1")).toBe(0);
    expect(decimalsOf("0.5")).toBe(1);
    expect(decimalsOf("0.0100")).toBe(2);
    expect(decimalsOf("0")).toBeUndefined();
    expect(decimalsOf(undefined)).toBeUndefined();
  });

  it("rounds decimal strings half-up without float error and groups thousands", () => {
    expect(formatDecimal("60000.455", 2)).toBe("60,000.46");
    expect(formatDecimal("1.005", 2)).toBe("1.01"); // 1.005 as a float rounds to 1.00
    expect(formatDecimal("1234567.891", 0)).toBe("1,234,568");
    expect(formatDecimal("0.1", 5)).toBe("0.10000");
    expect(formatDecimal("-1234.5", 2)).toBe("−1,234.50");
    expect(formatDecimal("-0.001", 2)).toBe("0.00");
    expect(formatDecimal("12.5", 2, { sign: true })).toBe("+12.50");
    expect(formatDecimal("0.12300000", 8, { trim: true })).toBe("0.123");
    expect(formatDecimal("100.000", 3, { trim: true })).toBe("100");
    expect(formatDecimal("not a number", 2)).toBe("—");
    expect(formatDecimal(undefined, 2)).toBe("—");
  });

  it("formats prices at the tick size and quantities at the lot size of their market", () => {
    const btc = { tickSize: "0.01", lotSize: "0.00001" };
    const doge = { tickSize: "0.00001", lotSize: "1" };
    expect(formatPrice("60123.4", btc)).toBe("60,123.40");
    expect(formatQuantity("0.016631234", btc)).toBe("0.01663");
    expect(formatPrice("0.123456", doge)).toBe("0.12346");
    expect(formatQuantity("8123", doge)).toBe("8,123");
    // Without the market's rules: up to 8 decimals, trailing zeros trimmed.
    expect(formatPrice("0.000012340")).toBe("0.00001234");
  });

  it("formats money, percentages, tones and confidence", () => {
    expect(formatMoney("9996.4712")).toBe("9,996.47");
    expect(formatMoney("32.5", { sign: true })).toBe("+32.50");
    expect(formatMoney("-3.999", { sign: true })).toBe("−4.00");
    expect(formatPercent("0.2002")).toBe("20.02 %");
    expect(formatPercent(undefined)).toBe("—");
    expect(toneOf("-0.01")).toBe("loss");
    expect(toneOf("0")).toBe("flat");
    expect(toneOf("3")).toBe("gain");
    expect(formatConfidence(0.856)).toBe("86 %");
    expect(countOf(1, "open order")).toBe("1 open order");
    expect(countOf(0, "position")).toBe("0 positions");
  });

  it("shows times in UTC and durations in the largest two units", () => {
    expect(formatTime(Date.UTC(2025, 10, 24, 9, 3, 7))).toBe("2025-11-24 09:03:07");
    expect(formatTime(undefined)).toBe("—");
    expect(formatClock(Date.UTC(2025, 10, 24, 9, 3, 7))).toBe("09:03:07");
    expect(formatClock(undefined)).toBe("—");
    expect(formatDuration(12)).toBe("12 s");
    expect(formatDuration(250)).toBe("4 min 10 s");
    expect(formatDuration(7500)).toBe("2 h 5 min");
    expect(formatDuration(3 * 86400 + 4 * 3600 + 59)).toBe("3 d 4 h");
  });
});
