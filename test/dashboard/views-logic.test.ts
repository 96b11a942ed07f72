import { LIMIT_FIELDS, limitsDraft, limitsPatch, traderDraft, traderFieldErrors, traderPatch } from "../../dashboard/src/lib/limits";
import { decisionOutcomeText, decisionQuery, filterByInstrument } from "../../dashboard/src/lib/decisions";
import { reasonLabel, REJECT_REASONS } from "../../dashboard/src/lib/labels";
import { healthSummary, serviceRows, topicRows } from "../../dashboard/src/lib/system";
import { hrefOf, parseLocation, titleOf } from "../../dashboard/src/lib/router";
import { forgetToken, keepToken, normalizeToken, storedToken } from "../../dashboard/src/lib/session";
import { coalesce } from "../../dashboard/src/lib/coalesce";
import type { DecisionRecord, RiskLimits } from "../../dashboard/src/lib/api";
import { DEFAULT_LIMITS } from "../../lib/risk/rules";

describe("risk limits form", () => {
  const limits: RiskLimits = { ...DEFAULT_LIMITS };

  it("has a labelled input for every limit the API knows", () => {
    expect(LIMIT_FIELDS.map((f) => f.key).sort()).toEqual(Object.keys(DEFAULT_LIMITS).sort());
    expect(LIMIT_FIELDS.every((f) => f.label && f.hint)).toBe(true);
  });

  it("sends only changed fields, numbers where the API wants numbers, and unparseable input as typed", () => {
    const draft = limitsDraft(limits);
    expect(limitsPatch(limits, draft)).toEqual({});
    draft.maxDrawdown = " 0.25 ";
    draft.maxOpenOrders = "3";
    draft.minConfidence = "0.6";
    draft.maxDataAgeMs = "ten";
    draft.orderNotional = "";
    expect(limitsPatch(limits, draft)).toEqual({ maxDrawdown: "0.25", maxOpenOrders: 3, minConfidence: 0.6, maxDataAgeMs: "ten", orderNotional: "" });
  });
});

describe("trader budget form (the operator's)", () => {
  const budget = { allowance: "10000", ceilings: { ...DEFAULT_LIMITS } };

  it("sends only what changed: the allowance as typed, ceilings as the limits form does", () => {
    const draft = traderDraft(budget);
    expect(traderPatch(budget, draft)).toEqual({});
    draft.allowance = " 25000 ";
    draft.ceilings.maxOrderNotional = "8000";
    draft.ceilings.maxOpenOrders = "10";
    expect(traderPatch(budget, draft)).toEqual({ allowance: "25000", ceilings: { maxOrderNotional: "8000", maxOpenOrders: 10 } });
  });

  it("puts the API's field errors on the allowance and on each ceiling's input", () => {
    expect(traderFieldErrors({ allowance: "must be at least 3000", "ceilings.maxDrawdown": "must be in (0, 1]", other: "x" })).toEqual({
      allowance: "must be at least 3000",
      ceilings: { maxDrawdown: "must be in (0, 1]" },
    });
    expect(traderFieldErrors({})).toEqual({ ceilings: {} });
  });
});

describe("decisions", () => {
  const approved = { outcome: "approved", action: "BUY", quantity: "0.016634", price: "60123.456", notional: "1000.09" } as DecisionRecord;
  const rejected = { outcome: "rejected", action: "SELL", reason: "halted", detail: "portfolio is halted (manual)", instrumentKey: "binance:ETH/USDT" } as DecisionRecord;

  it("asks the API for the outcome and reason, and ignores a reason for approvals", () => {
    expect(decisionQuery({ outcome: "", reason: "", instrumentKey: "" })).toEqual({ outcome: undefined, reason: undefined });
    expect(decisionQuery({ outcome: "rejected", reason: "halted", instrumentKey: "x" })).toEqual({ outcome: "rejected", reason: "halted" });
    expect(decisionQuery({ outcome: "approved", reason: "halted", instrumentKey: "" })).toEqual({ outcome: "approved", reason: undefined });
    expect(filterByInstrument([approved, rejected], "binance:ETH/USDT")).toEqual([rejected]);
    expect(filterByInstrument([approved, rejected], "")).toEqual([approved, rejected]);
  });

  it("says what was traded, or why not", () => {
    expect(decisionOutcomeText(approved, { tickSize: "0.01", lotSize: "0.00001" } as never)).toBe("BUY 0.01663 @ 60,123.46 = 1,000.09");
    expect(decisionOutcomeText(rejected)).toBe("Portfolio halted: portfolio is halted (manual)");
    expect(reasonLabel("something_new")).toBe("something_new");
    expect(REJECT_REASONS).toContain("halted");
  });
});

describe("system view", () => {
  it("lists every platform service, down when the registry does not have it", () => {
    const rows = serviceRows({ services: ["gateway", "risk", "extra"] });
    expect(rows.find((r) => r.name === "risk")).toMatchObject({ up: true });
    expect(rows.find((r) => r.name === "execution")).toMatchObject({ up: false });
    expect(rows[rows.length - 1]).toEqual({ name: "extra", role: "", up: true });
    expect(rows).toHaveLength(8);
  });

  it("headlines the health report: healthy, degraded with its causes, or what is down", () => {
    const all = ["exchange", "execution", "features", "gateway", "ingestion", "prediction", "risk"];
    expect(healthSummary({ status: "ok", causes: [], services: all })).toEqual({ label: "Healthy", tone: "gain", causes: [] });
    const stale = { kind: "market_data_stale" as const, subject: "binance:BTC/USDT", message: "no market data for binance:BTC/USDT for 45 s" };
    expect(healthSummary({ status: "degraded", causes: [stale], services: all })).toEqual({ label: "Degraded", tone: "warn", causes: [stale.message] });
    const down = { kind: "service_down" as const, subject: "exchange", message: "service exchange is not running" };
    expect(healthSummary({ status: "unavailable", causes: [down], services: all.filter((s) => s !== "exchange") })).toEqual({
      label: "1 service down",
      tone: "loss",
      causes: [down.message],
    });
    expect(healthSummary({ status: "unavailable", causes: [{ kind: "routes_pending", message: "adding routes" }], services: all })).toMatchObject({ label: "Unavailable", tone: "loss" });
  });

  it("flags lagging consumer groups", () => {
    const [row] = topicRows([{ topic: "market.raw.data", key: "instrument_key", producer: "exchange", partitions: 6, messages: 900, groups: [{ group: "ingestion", lag: 150, members: 1 }, { group: "features", lag: 0, members: 1 }] }]);
    expect(row!.groups.map((g) => [g.group, g.lagging])).toEqual([["features", false], ["ingestion", true]]);
    expect(row!.maxLag).toBe(150);
  });
});

describe("pages", () => {
  it("maps paths to pages and back, keeping the selection in the query", () => {
    expect(parseLocation("/market", "?instrument=binance%3ABTC%2FUSDT")).toEqual({ page: "market", query: { instrument: "binance:BTC/USDT" } });
    expect(parseLocation("/decisions/").page).toBe("decisions");
    expect(parseLocation("/").page).toBe("overview");
    expect(parseLocation("/nope").page).toBeUndefined();
    expect(hrefOf("market", { instrument: "binance:BTC/USDT", empty: "" })).toBe("/market?instrument=binance%3ABTC%2FUSDT");
    expect(hrefOf("risk")).toBe("/risk");
    expect(titleOf(undefined)).toBe("Not found");
  });
});

describe("session", () => {
  it("keeps the token in the given storage until sign-out", () => {
    const storage = new Map<string, string>();
    const fake = { getItem: (k: string) => storage.get(k) ?? null, setItem: (k: string, v: string) => void storage.set(k, v), removeItem: (k: string) => void storage.delete(k) };
    expect(storedToken(fake)).toBeNull();
    keepToken(fake, "abc");
    expect(storedToken(fake)).toBe("abc");
    forgetToken(fake);
    expect(storedToken(fake)).toBeNull();
    expect(normalizeToken("  Bearer  abc \n")).toBe("abc");
  });
});

describe("coalesced reloads", () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it("turns a burst into one run and a trigger during a run into exactly one more", async () => {
    let runs = 0;
    let finish: () => void = () => undefined;
    const reload = coalesce(() => new Promise<void>((resolve) => { runs++; finish = resolve; }), 250);
    reload.trigger();
    reload.trigger();
    reload.trigger();
    await jest.advanceTimersByTimeAsync(249);
    expect(runs).toBe(0);
    await jest.advanceTimersByTimeAsync(1);
    expect(runs).toBe(1);
    reload.trigger(); // while running
    reload.trigger();
    finish();
    await jest.advanceTimersByTimeAsync(250);
    expect(runs).toBe(2);
    finish();
    await jest.advanceTimersByTimeAsync(1000);
    expect(runs).toBe(2);
    reload.trigger();
    reload.cancel();
    await jest.advanceTimersByTimeAsync(1000);
    expect(runs).toBe(2);
  });
});
