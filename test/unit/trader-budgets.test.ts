import { loadConfig } from "../../lib/config";
import { DEFAULT_LIMITS } from "../../lib/risk/rules";
import { budgetOf, ceilingErrors, ceilingsOf, fundingHeadroom, limitsWithin, startCashRefusal, validateTraderPatch } from "../../lib/risk/traders";
import type { TraderRecord } from "../../schemas";

const record = (over: Partial<TraderRecord> = {}): TraderRecord => ({ traderId: "alice", ceilings: {}, updatedAt: 0, ...over });

describe("trader budgets", () => {
  it("counts the start cash of the trader's portfolios against the allowance, the default one unless the operator set one", () => {
    const portfolios = [{ portfolioId: "alice", startCash: "6000.25" }, { portfolioId: "alice.swing", startCash: "1000" }];
    expect(budgetOf("alice", undefined, "10000", portfolios)).toEqual({
      traderId: "alice", allowance: "10000", used: "7000.25", free: "2999.75", ceilings: DEFAULT_LIMITS, portfolioIds: ["alice", "alice.swing"],
    });
    expect(budgetOf("alice", record({ allowance: "8000" }), "10000", portfolios)).toMatchObject({ allowance: "8000", free: "999.75" });
  });

  it("refuses start cash beyond what is left, naming the remaining allowance", () => {
    const budget = budgetOf("alice", undefined, "10000", [{ portfolioId: "alice", startCash: "9000" }]);
    expect(startCashRefusal("1000", budget)).toBeUndefined();
    expect(startCashRefusal("1000.01", budget)).toBe("1000.01 exceeds the remaining allowance 1000 (allowance 10000, 9000 already allocated to the trader's portfolios)");
    expect(startCashRefusal("1000000000000", budget)).toMatch(/exceeds the remaining allowance 1000/);
  });

  it("lets a trader tighten any limit but loosen none beyond the ceiling; minConfidence's ceiling is a floor", () => {
    const ceilings = ceilingsOf(record({ ceilings: { maxOrderNotional: "2000" } }));
    expect(ceilings).toEqual({ ...DEFAULT_LIMITS, maxOrderNotional: "2000" });
    expect(ceilingErrors({ maxOrderNotional: "2000", maxDrawdown: "0.1", minConfidence: 0.9, maxOpenOrders: 5 }, ceilings)).toEqual([]);
    expect(ceilingErrors({ maxOrderNotional: "1000000000000", maxDrawdown: "1", minConfidence: 0, maxOpenOrders: 6 }, ceilings, "limits.")).toEqual([
      { field: "limits.maxOrderNotional", message: "1000000000000 is above 2000, the ceiling the operator set for this trader" },
      { field: "limits.maxDrawdown", message: "1 is above 0.2, the ceiling the operator set for this trader" },
      { field: "limits.minConfidence", message: "0 is below 0.5, the lowest the operator allows this trader" },
      { field: "limits.maxOpenOrders", message: "6 is above 5, the ceiling the operator set for this trader" },
    ]);
  });

  it("starts a trader's portfolio at the default limits, tightened to ceilings set below them", () => {
    expect(limitsWithin(DEFAULT_LIMITS)).toEqual(DEFAULT_LIMITS);
    const tight = ceilingsOf(record({ ceilings: { orderNotional: "100", minConfidence: 0.8, maxDrawdown: "0.5" } }));
    expect(limitsWithin(tight)).toEqual({ ...DEFAULT_LIMITS, orderNotional: "100", minConfidence: 0.8 });
  });

  it("validates the operator's change per field: allowance not below what is allocated, ceilings within the hard bounds", () => {
    expect(validateTraderPatch({ allowance: "5000.50", ceilings: { maxOrderNotional: "20000", maxDrawdown: "1", minConfidence: null } }, "3000")).toEqual({
      ok: true,
      change: { allowance: "5000.5", ceilings: { maxOrderNotional: "20000", maxDrawdown: "1" }, cleared: ["minConfidence"] },
    });
    const bad = validateTraderPatch({ allowance: "2999", ceilings: { maxOrderNotional: "1" + "0".repeat(90_000), bogus: 1 } }, "3000");
    expect(bad).toEqual({
      ok: false,
      errors: [
        { field: "allowance", message: "must be at least 3000, the start cash the trader's portfolios already hold" },
        { field: "ceilings.maxOrderNotional", message: expect.stringContaining("[0, 1000000000]") },
        { field: "ceilings.bogus", message: "is not a risk limit" },
      ],
    });
    expect(validateTraderPatch({ allowance: "-1", ceilings: [] }, "0")).toMatchObject({ ok: false, errors: [{ field: "allowance" }, { field: "ceilings", message: "must be an object" }] });
  });

  it("measures live funding headroom as free balance minus what was handed out", () => {
    expect(fundingHeadroom("25000.5", ["10000", "10000", "500"])).toEqual({ allocated: "20500", balance: "25000.5", headroom: "4500.5" });
    expect(fundingHeadroom("100", ["10000"])).toMatchObject({ headroom: "-9900" });
  });

  it("reads the default allowance and the quotas from the environment", () => {
    expect(loadConfig({ START_CASH: "500", TRADER_ALLOWANCE: "" })).toMatchObject({
      traderAllowance: "500",
      quotas: { instrumentsPerTrader: 10, instrumentsTotal: 50, portfoliosPerTrader: 5 },
    });
    const set = loadConfig({ TRADER_ALLOWANCE: "2500.5", INSTRUMENTS_PER_TRADER: "3", INSTRUMENTS_MAX: "20", PORTFOLIOS_PER_TRADER: "2" });
    expect(set).toMatchObject({ traderAllowance: "2500.5", quotas: { instrumentsPerTrader: 3, instrumentsTotal: 20, portfoliosPerTrader: 2 } });
    expect(() => loadConfig({ PORTFOLIOS_PER_TRADER: "1.5" })).toThrow('PORTFOLIOS_PER_TRADER must be a positive integer, got "1.5"');
    expect(() => loadConfig({ TRADER_ALLOWANCE: "lots" })).toThrow('TRADER_ALLOWANCE must be a decimal amount with at most 12 decimal places, got "lots"');
  });
});
