import { accountHalt, accountLimitsInForce, accountRules, accountUsage, validateAccountLimits } from "../../lib/risk/account";

const buy = (notional: string) => ({ side: "BUY" as const, notional });

describe("account-wide gate", () => {
  it("sums positions and working BUYs over every portfolio, and counts every working order", () => {
    const usage = accountUsage([
      { exposure: "1000.5", openOrders: [{ instrumentKey: "x", side: "BUY", remainingQuantity: "0.01", price: "60000" }] },
      { exposure: "200", openOrders: [{ instrumentKey: "x", side: "SELL", remainingQuantity: "1", price: "60000" }] },
      { exposure: "0", openOrders: [] },
    ]);
    expect(usage).toEqual({ exposure: "1800.5", openOrders: 2 });
  });

  it("applies only the limits that are set", () => {
    expect(accountRules({ limits: {}, usage: { exposure: "1e9", openOrders: 1000 }, order: buy("1000") })).toEqual({ pass: true });
  });

  it("refuses a BUY that would take the account's exposure over its limit, and allows one that reaches it", () => {
    const usage = { exposure: "1000", openOrders: 0 };
    expect(accountRules({ limits: { maxExposure: "2000" }, usage, order: buy("1000") })).toEqual({ pass: true });
    expect(accountRules({ limits: { maxExposure: "2000" }, usage, order: buy("1000.01") })).toMatchObject({ pass: false, reason: "account_max_exposure" });
    // A SELL lowers the exposure: never refused by it.
    expect(accountRules({ limits: { maxExposure: "0" }, usage, order: { side: "SELL", notional: "5000" } })).toEqual({ pass: true });
  });

  it("refuses any order once the account has its maximum of working orders", () => {
    const limits = { maxOpenOrders: 2 };
    expect(accountRules({ limits, usage: { exposure: "0", openOrders: 1 }, order: buy("1") })).toEqual({ pass: true });
    expect(accountRules({ limits, usage: { exposure: "0", openOrders: 2 }, order: { side: "SELL", notional: "1" } })).toMatchObject({ pass: false, reason: "account_max_open_orders" });
  });

  it("names the halt's reason", () => {
    expect(accountHalt({ halted: false, limits: {}, updatedAt: 0 })).toEqual({ pass: true });
    expect(accountHalt({ halted: true, haltReason: "incident", limits: {}, updatedAt: 0 })).toEqual({ pass: false, reason: "account_halted", detail: "the account is halted (incident)" });
  });

  it("validates limits per field, canonicalises decimals and clears a limit set to null", () => {
    expect(validateAccountLimits({ maxExposure: "1500.50", maxOpenOrders: null })).toEqual({ ok: true, set: { maxExposure: "1500.5" }, cleared: ["maxOpenOrders"] });
    const bad = validateAccountLimits({ maxExposure: 5, maxOpenOrders: -1, maxDrawdown: "0.1" });
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.errors.map((e) => e.field)).toEqual(["maxExposure", "maxOpenOrders", "maxDrawdown"]);
    expect(validateAccountLimits([]).ok).toBe(false);
    const huge = validateAccountLimits({ maxExposure: "9".repeat(100), maxOpenOrders: 100_001 });
    expect(!huge.ok && huge.errors.map((e) => e.field)).toEqual(["maxExposure", "maxOpenOrders"]);
  });

  it("is on by default: limits derived from the portfolios' start cash and count, the operator's where set", () => {
    const portfolios = [{ startCash: "10000" }, { startCash: "2500.5" }, { startCash: "0" }];
    // 10000 + 2500.5 + 0 handed out; 5 working orders (the default per-portfolio limit) × 3 portfolios.
    expect(accountLimitsInForce({}, portfolios)).toEqual({ maxExposure: "12500.5", maxOpenOrders: 15 });
    expect(accountLimitsInForce({ maxOpenOrders: 4 }, portfolios)).toEqual({ maxExposure: "12500.5", maxOpenOrders: 4 });
    expect(accountLimitsInForce({ maxExposure: "100" }, [])).toEqual({ maxExposure: "100", maxOpenOrders: 0 });
  });
});
