import { applyFill, emptyBook, type PortfolioBook } from "../../lib/risk/accounting";
import { DEFAULT_LIMITS, dayKey, instrumentRules, portfolioRules, validateLimits, type PortfolioDecision, type PortfolioRiskState } from "../../lib/risk/rules";
import type { Fill, MarketInfo, RiskLimits, Side, TradingSignal } from "../../schemas";

const BTC = "binance:BTC/USDT";
const ETH = "binance:ETH/USDT";

const BTC_MARKET: MarketInfo = {
  exchange: "binance",
  symbol: "BTC/USDT",
  base: "BTC",
  quote: "USDT",
  tickSize: "0.01",
  lotSize: "0.00001",
  minQuantity: "0.00001",
  minNotional: "5",
  makerFee: "0.001",
  takerFee: "0.001",
};

const NOW = 1_700_000_000_000;

function signal(overrides: Partial<TradingSignal> = {}): TradingSignal {
  return {
    signalId: "sig-1",
    instrumentKey: BTC,
    exchange: "binance",
    symbol: "BTC/USDT",
    action: "BUY",
    strategy: "test",
    modelVersion: "1",
    confidence: 0.8,
    price: "60000",
    features: {
      close: 60000,
      return1: 0,
      rsi14: 50,
      macd: 0,
      macdSignal: 0,
      macdHistogram: 0,
      bbUpper: 0,
      bbMiddle: 0,
      bbLower: 0,
      bbPercentB: 0.5,
      atr14: 0,
      ema12: 0,
      ema26: 0,
      sma20: 0,
      realizedVolatility: 0,
    },
    marketTime: NOW - 1000,
    receivedAt: NOW - 100,
    ...overrides,
  };
}

/** A book holding `quantity` of `instrumentKey` bought at `price` with no fee, plus `cash` left over. */
function holding(instrumentKey: string, quantity: string, price: string, startCash = "10000"): PortfolioBook {
  const fill: Fill = {
    fillId: "binance:1",
    clientOrderId: "c1",
    venueOrderId: "v1",
    portfolioId: "p1",
    instrumentKey,
    side: "BUY",
    price,
    quantity,
    fee: "0",
    feeCurrency: "USDT",
    liquidity: "taker",
    time: NOW - 60_000,
  };
  return applyFill(emptyBook("p1", startCash), fill, { base: instrumentKey.includes("BTC") ? "BTC" : "ETH", quote: "USDT" });
}

/** Default limits and a flat day: day-start and peak equity default to the book's start cash. */
function state(overrides: Partial<Omit<PortfolioRiskState, "limits">> & { limits?: Partial<RiskLimits> } = {}): PortfolioRiskState {
  const { limits, ...rest } = overrides;
  const book = rest.book ?? emptyBook("p1", "10000");
  return {
    halted: false,
    book,
    marks: {},
    openOrders: [],
    dayStartEquity: book.startCash,
    peakEquity: book.startCash,
    ...rest,
    limits: { ...DEFAULT_LIMITS, ...limits },
  };
}

function openOrder(side: Side, remainingQuantity: string, price: string, instrumentKey = BTC) {
  return { instrumentKey, side, remainingQuantity, price };
}

function decide(s: PortfolioRiskState, sig: Partial<TradingSignal> = {}, market: MarketInfo = BTC_MARKET): PortfolioDecision {
  return portfolioRules({ signal: signal(sig), state: s, market });
}

function reasonOf(decision: PortfolioDecision): string {
  return decision.approved ? "approved" : decision.reason;
}

describe("DEFAULT_LIMITS", () => {
  it("holds the documented defaults and is frozen", () => {
    expect(DEFAULT_LIMITS).toEqual({
      orderNotional: "1000",
      maxOrderNotional: "5000",
      maxPositionNotional: "5000",
      maxExposure: "1",
      maxOpenOrders: 5,
      dailyLossLimit: "1000",
      maxDrawdown: "0.2",
      minConfidence: 0.5,
      maxDataAgeMs: 5000,
    });
    expect(Object.isFrozen(DEFAULT_LIMITS)).toBe(true);
    expect(validateLimits(DEFAULT_LIMITS)).toEqual({ ok: true, limits: DEFAULT_LIMITS });
  });
});

describe("validateLimits", () => {
  it("accepts a partial patch and canonicalizes its decimals", () => {
    expect(validateLimits({ orderNotional: "250.50", maxDrawdown: "1", maxOpenOrders: 0, minConfidence: 1, maxDataAgeMs: 1 })).toEqual({
      ok: true,
      limits: { orderNotional: "250.5", maxDrawdown: "1", maxOpenOrders: 0, minConfidence: 1, maxDataAgeMs: 1 },
    });
    expect(validateLimits({})).toEqual({ ok: true, limits: {} });
    expect(validateLimits({ orderNotional: "0", dailyLossLimit: "0", minConfidence: 0 })).toEqual({
      ok: true,
      limits: { orderNotional: "0", dailyLossLimit: "0", minConfidence: 0 },
    });
  });

  it.each([
    ["orderNotional", "-1"],
    ["orderNotional", 1000],
    ["maxOrderNotional", "1e3"],
    ["maxPositionNotional", ""],
    ["dailyLossLimit", "abc"],
    ["maxExposure", "0"],
    ["maxExposure", "-0.5"],
    ["maxDrawdown", "0"],
    ["maxDrawdown", "1.01"],
    ["maxDrawdown", 0.2],
    ["maxOpenOrders", -1],
    ["maxOpenOrders", 1.5],
    ["maxOpenOrders", "5"],
    ["minConfidence", 1.2],
    ["minConfidence", -0.1],
    ["minConfidence", Number.NaN],
    ["minConfidence", "0.5"],
    ["maxDataAgeMs", 0],
    ["maxDataAgeMs", 1.5],
    ["maxDataAgeMs", null],
  ])("refuses %s = %p", (field, value) => {
    const result = validateLimits({ [field]: value });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors).toEqual([{ field, message: expect.any(String) }]);
  });

  it("refuses unknown fields and reports every error with its field name", () => {
    const result = validateLimits({ maxExposure: "0", bogus: 1, minConfidence: 2, orderNotional: "10" });
    expect(result).toEqual({
      ok: false,
      errors: [
        { field: "maxExposure", message: "must be a decimal string in (0, 10], with at most 18 significant digits" },
        { field: "bogus", message: "is not a risk limit" },
        { field: "minConfidence", message: "must be a number in [0, 1]" },
      ],
    });
  });

  it.each([
    ["maxOrderNotional", "1" + "0".repeat(90_000)],
    ["maxOrderNotional", "1000000000.01"],
    ["orderNotional", "123456789.0123456789"],
    ["dailyLossLimit", "0." + "0".repeat(40) + "1"],
    ["maxExposure", "10.5"],
    ["maxOpenOrders", 1001],
    ["maxOpenOrders", 1e308],
    ["maxDataAgeMs", 3_600_001],
  ])("holds %s = %s within the hard bounds, for everyone", (field, value) => {
    const result = validateLimits({ [field]: value });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors.map((e) => e.field)).toEqual([field]);
  });

  it("accepts values at the hard bounds", () => {
    const atBounds = { maxOrderNotional: "1000000000", orderNotional: "12345678.9012345678", maxExposure: "10", maxOpenOrders: 1000, maxDrawdown: "1", maxDataAgeMs: 3_600_000 };
    expect(validateLimits(atBounds)).toEqual({ ok: true, limits: atBounds });
  });

  it("does not take __proto__ or constructor for a limit", () => {
    const patch = JSON.parse('{"__proto__": {"maxOpenOrders": 1}, "constructor": 1}');
    const result = validateLimits(patch);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors.map((e) => e.field).sort()).toEqual(["__proto__", "constructor"]);
  });

  it.each([[null], [[]], ["limits"], [5]])("refuses a patch that is not an object: %p", (patch) => {
    expect(validateLimits(patch)).toEqual({ ok: false, errors: [{ field: "limits", message: "must be an object" }] });
  });

  it("does not treat inherited properties as limits", () => {
    const result = validateLimits(JSON.parse('{"__proto__": {"x": 1}, "toString": "x"}'));
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors.map((e) => e.field)).toEqual(["__proto__", "toString"]);
  });
});

describe("instrumentRules (stage 1)", () => {
  const base = { signal: signal(), instrument: { enabled: true }, now: NOW, maxDataAgeMs: 5000 };

  it("passes a fresh signal on an enabled instrument", () => {
    expect(instrumentRules(base)).toEqual({ pass: true });
  });

  it("instrument_not_registered", () => {
    expect(instrumentRules({ ...base, instrument: undefined })).toMatchObject({ pass: false, reason: "instrument_not_registered" });
  });

  it("instrument_disabled", () => {
    expect(instrumentRules({ ...base, instrument: { enabled: false } })).toMatchObject({ pass: false, reason: "instrument_disabled" });
  });

  it.each(["0", "-1", "", "abc", "1e5", "NaN"])("invalid_price for %p", (price) => {
    expect(instrumentRules({ ...base, signal: signal({ price }) })).toMatchObject({ pass: false, reason: "invalid_price" });
  });

  it("stale_data once the data is strictly older than maxDataAgeMs", () => {
    expect(instrumentRules({ ...base, signal: signal({ receivedAt: NOW - 5000 }) })).toEqual({ pass: true });
    expect(instrumentRules({ ...base, signal: signal({ receivedAt: NOW - 5001 }) })).toMatchObject({
      pass: false,
      reason: "stale_data",
      detail: "data is 5001 ms old, limit 5000 ms",
    });
    expect(instrumentRules({ ...base, signal: signal({ receivedAt: Number.NaN }) })).toMatchObject({ pass: false, reason: "stale_data" });
  });

  it("checks in order: registered, enabled, price, age", () => {
    const bad = { ...base, signal: signal({ price: "0", receivedAt: NOW - 60_000 }) };
    expect(instrumentRules({ ...bad, instrument: undefined })).toMatchObject({ reason: "instrument_not_registered" });
    expect(instrumentRules({ ...bad, instrument: { enabled: false } })).toMatchObject({ reason: "instrument_disabled" });
    expect(instrumentRules(bad)).toMatchObject({ reason: "invalid_price" });
    expect(instrumentRules({ ...bad, signal: signal({ receivedAt: NOW - 60_000 }) })).toMatchObject({ reason: "stale_data" });
  });
});

describe("portfolioRules (stage 2): BUY sizing", () => {
  it("sizes orderNotional / price rounded down to the lot size", () => {
    expect(decide(state(), { price: "60123.45" })).toEqual({
      approved: true,
      side: "BUY",
      quantity: "0.01663",
      price: "60123.45",
      notional: "999.8529735",
    });
  });

  it("returns the price in canonical form", () => {
    expect(decide(state(), { price: "50000.00" })).toMatchObject({ approved: true, quantity: "0.02", price: "50000", notional: "1000" });
  });

  it("refuses a signal that is not BUY or SELL", () => {
    expect(() => decide(state(), { action: "HOLD" })).toThrow(/HOLD/);
  });
});

describe("portfolioRules (stage 2): one test per reason", () => {
  it("halted, for SELLs too", () => {
    expect(decide(state({ halted: true }))).toEqual({ approved: false, reason: "halted", detail: "portfolio is halted" });
    expect(decide(state({ halted: true, book: holding(BTC, "0.1", "60000") }), { action: "SELL" })).toMatchObject({ reason: "halted" });
  });

  it("min_confidence below the limit, not at it", () => {
    expect(decide(state(), { confidence: 0.49 })).toMatchObject({ approved: false, reason: "min_confidence", detail: "confidence 0.49 < 0.5" });
    expect(decide(state(), { confidence: 0.5 })).toMatchObject({ approved: true });
    expect(decide(state(), { confidence: Number.NaN })).toMatchObject({ reason: "min_confidence" });
  });

  it("max_open_orders at the limit, whatever the side", () => {
    const five = Array.from({ length: 5 }, () => openOrder("BUY", "0.001", "60000", ETH));
    expect(decide(state({ openOrders: five }))).toMatchObject({ approved: false, reason: "max_open_orders" });
    expect(decide(state({ openOrders: five.slice(1) }))).toMatchObject({ approved: true });
    expect(decide(state({ openOrders: five, book: holding(BTC, "0.1", "60000") }), { action: "SELL" })).toMatchObject({ reason: "max_open_orders" });
    expect(decide(state({ limits: { maxOpenOrders: 0 } }))).toMatchObject({ reason: "max_open_orders" });
  });

  it("max_drawdown beyond the limit halts the portfolio", () => {
    // equity 10000 vs peak 12600: drawdown 0.2063… > 0.2
    expect(decide(state({ peakEquity: "12600", dayStartEquity: "10000" }))).toMatchObject({
      approved: false,
      reason: "max_drawdown",
      haltPortfolio: true,
    });
    // Exactly at the limit passes: 10000 vs 12500 is a 0.2 drawdown.
    expect(decide(state({ peakEquity: "12500" }))).toMatchObject({ approved: true });
  });

  it("daily_loss_limit beyond the limit, without halting", () => {
    const decision = decide(state({ dayStartEquity: "11000.01" }));
    expect(decision).toEqual({ approved: false, reason: "daily_loss_limit", detail: "daily loss 1000.01 > 1000" });
    expect(decide(state({ dayStartEquity: "11000" }))).toMatchObject({ approved: true });
  });

  it("below_min_notional when the sized BUY is under minNotional, minQuantity or a single lot", () => {
    expect(decide(state({ limits: { orderNotional: "4.99" } }))).toMatchObject({ reason: "below_min_notional" });
    expect(decide(state(), {}, { ...BTC_MARKET, minQuantity: "0.1" })).toMatchObject({ reason: "below_min_notional" });
    // 0.5 / 60000 rounds down to zero lots, even with no venue minimums.
    expect(decide(state({ limits: { orderNotional: "0.5" } }), {}, { ...BTC_MARKET, minQuantity: "0", minNotional: "0" })).toMatchObject({
      reason: "below_min_notional",
    });
  });

  it("max_order_notional on the sized order's notional", () => {
    // 1000 / 60000 = 0.01666… BTC, down to 0.01666: 999.6
    expect(decide(state({ limits: { maxOrderNotional: "999.59" } }))).toMatchObject({ reason: "max_order_notional" });
    expect(decide(state({ limits: { maxOrderNotional: "999.6" } }))).toMatchObject({ approved: true });
    // Lot rounding brings 1000 at 60123.45 down to 999.8529735, which fits under 999.86.
    expect(decide(state({ limits: { maxOrderNotional: "999.86" } }), { price: "60123.45" })).toMatchObject({ approved: true });
  });

  it("max_position per instrument, counting the held quantity at the signal's price", () => {
    // 0.07 BTC × 60000 = 4200, + 999.6 > 5000
    expect(decide(state({ book: holding(BTC, "0.07", "50000") }))).toMatchObject({ reason: "max_position" });
    expect(decide(state({ book: holding(BTC, "0.06", "50000") }))).toMatchObject({ approved: true });
    // Other instruments do not count.
    expect(decide(state({ book: holding(ETH, "2", "2000") }))).toMatchObject({ approved: true });
  });

  it("max_exposure as a fraction of equity", () => {
    // 999.6 against 0.0999 × 10000 = 999 and 0.1 × 10000 = 1000.
    expect(decide(state({ limits: { maxExposure: "0.0999" } }))).toMatchObject({ reason: "max_exposure" });
    expect(decide(state({ limits: { maxExposure: "0.1" } }))).toMatchObject({ approved: true });
  });

  it("insufficient_cash including the taker fee", () => {
    // 999.8529735 × 1.001 = 1000.8528264735
    expect(decide(state({ book: emptyBook("p1", "1000.85") }), { price: "60123.45" })).toMatchObject({
      reason: "insufficient_cash",
      detail: "needs 1000.8528264735 incl. taker fee and working BUYs, cash 1000.85",
    });
    expect(decide(state({ book: emptyBook("p1", "1000.8528264735") }), { price: "60123.45" })).toMatchObject({ approved: true });
  });

  it("no_position for a SELL without a holding", () => {
    expect(decide(state(), { action: "SELL" })).toMatchObject({ approved: false, reason: "no_position" });
  });

  it("below_min_notional for a SELL of a dust position", () => {
    // 0.00008 × 60000 = 4.8 < 5
    expect(decide(state({ book: holding(BTC, "0.00008", "60000") }), { action: "SELL" })).toMatchObject({ reason: "below_min_notional" });
    expect(decide(state({ book: holding(BTC, "0.0001", "60000") }), { action: "SELL" })).toMatchObject({ approved: true, quantity: "0.0001" });
  });
});

describe("portfolioRules (stage 2): order of the checks", () => {
  it("reports the first failing check, BUY", () => {
    // Fails every BUY check; each step fixes the check that was reported, exposing the next one.
    let s = state({
      halted: true,
      book: holding(BTC, "0.07", "60000", "4300"), // cash 100, position 4200 at 60000
      openOrders: Array.from({ length: 5 }, () => openOrder("BUY", "0.001", "2000", ETH)),
      peakEquity: "100000",
      dayStartEquity: "50000",
      limits: { minConfidence: 0.9, orderNotional: "1", maxOrderNotional: "500", maxExposure: "0.01" },
    });
    const steps: Array<[string, (st: PortfolioRiskState) => PortfolioRiskState]> = [
      ["halted", (st) => ({ ...st, halted: false })],
      ["min_confidence", (st) => ({ ...st, limits: { ...st.limits, minConfidence: 0.5 } })],
      ["max_open_orders", (st) => ({ ...st, openOrders: st.openOrders.slice(1) })],
      ["max_drawdown", (st) => ({ ...st, peakEquity: "4300" })],
      ["daily_loss_limit", (st) => ({ ...st, dayStartEquity: "4300" })],
      ["below_min_notional", (st) => ({ ...st, limits: { ...st.limits, orderNotional: "1000" } })],
      ["max_order_notional", (st) => ({ ...st, limits: { ...st.limits, maxOrderNotional: "5000" } })],
      ["max_position", (st) => ({ ...st, limits: { ...st.limits, maxPositionNotional: "100000" } })],
      ["max_exposure", (st) => ({ ...st, limits: { ...st.limits, maxExposure: "10" } })],
      ["insufficient_cash", (st) => ({ ...st, book: { ...st.book, cash: "2000" } })],
    ];
    for (const [reason, fix] of steps) {
      expect(reasonOf(decide(s))).toBe(reason);
      s = fix(s);
    }
    expect(reasonOf(decide(s))).toBe("approved");
  });

  it("reports the first failing check, SELL", () => {
    let s = state({
      halted: true,
      book: holding(BTC, "0.00008", "60000"),
      openOrders: Array.from({ length: 5 }, () => openOrder("SELL", "0.00008", "60000")),
      limits: { minConfidence: 0.9 },
    });
    const steps: Array<[string, (st: PortfolioRiskState) => PortfolioRiskState]> = [
      ["halted", (st) => ({ ...st, halted: false })],
      ["min_confidence", (st) => ({ ...st, limits: { ...st.limits, minConfidence: 0.5 } })],
      ["max_open_orders", (st) => ({ ...st, openOrders: st.openOrders.slice(4) })],
      ["no_position", (st) => ({ ...st, openOrders: [] })],
      ["below_min_notional", (st) => ({ ...st, book: holding(BTC, "0.001", "60000") })],
    ];
    for (const [reason, fix] of steps) {
      expect(reasonOf(decide(s, { action: "SELL" }))).toBe(reason);
      s = fix(s);
    }
    expect(decide(s, { action: "SELL" })).toEqual({ approved: true, side: "SELL", quantity: "0.001", price: "60000", notional: "60" });
  });
});

describe("portfolioRules (stage 2): open orders", () => {
  it("counts open BUYs, on any instrument, with the taker fee, against cash", () => {
    // Alone: 1000 × 1.001 = 1001 ≤ 3000. With an ETH BUY of 1 @ 2000: (1000 + 2000) × 1.001 = 3003 > 3000.
    const s = state({ book: emptyBook("p1", "3000") });
    const at50k = { price: "50000" }; // sizes to exactly 0.02 BTC = 1000
    expect(decide(s, at50k)).toMatchObject({ approved: true });
    expect(decide({ ...s, openOrders: [openOrder("BUY", "1", "2000", ETH)] }, at50k)).toMatchObject({
      reason: "insufficient_cash",
      detail: "needs 3003 incl. taker fee and working BUYs, cash 3000",
    });
    // Open SELLs do not tie up cash.
    expect(decide({ ...s, openOrders: [openOrder("SELL", "1", "2000", ETH)] }, at50k)).toMatchObject({ approved: true });
  });

  it("counts open BUYs on the same instrument, at the signal's price, against the position limit", () => {
    // (0.05 held + 0.015 working) × 60000 = 3900, + 999.6 = 4899.6 ≤ 5000; one more 0.002 working: 5019.6 > 5000.
    const s = state({ book: holding(BTC, "0.05", "50000", "100000") });
    expect(decide({ ...s, openOrders: [openOrder("BUY", "0.015", "55000")] })).toMatchObject({ approved: true });
    expect(decide({ ...s, openOrders: [openOrder("BUY", "0.015", "55000"), openOrder("BUY", "0.002", "55000")] })).toMatchObject({
      reason: "max_position",
      detail: "position notional would be 5019.6 > 5000",
    });
    // Working BUYs on other instruments do not count towards this one.
    expect(decide({ ...s, openOrders: [openOrder("BUY", "1", "2000", ETH)] })).toMatchObject({ approved: true });
  });

  it("counts open BUYs, at their own price, against exposure", () => {
    // Equity: 8000 cash + 1 ETH marked 2100 = 10100, so the limit is 0.5 × 10100 = 5050.
    // 2100 held + 1 ETH × 1950 working + 1000 = 5050 ≤ 5050; 1.001 ETH working tips it over.
    const at50k = { price: "50000" };
    const s = state({
      book: holding(ETH, "1", "2000"),
      marks: { [ETH]: "2100" },
      dayStartEquity: "10100",
      peakEquity: "10100",
      openOrders: [openOrder("BUY", "1", "1950", ETH)],
      limits: { maxExposure: "0.5" },
    });
    expect(decide(s, at50k)).toMatchObject({ approved: true });
    expect(decide({ ...s, openOrders: [openOrder("BUY", "1.001", "1950", ETH)] }, at50k)).toMatchObject({
      reason: "max_exposure",
      detail: "exposure would be 5051.95 > 5050 (0.5 × equity 10100)",
    });
  });

  it("SELLs the whole position minus the working SELLs, rounded down to the lot", () => {
    const s = state({ book: holding(BTC, "0.123456789", "60000") });
    expect(decide(s, { action: "SELL", price: "61000" })).toEqual({
      approved: true,
      side: "SELL",
      quantity: "0.12345",
      price: "61000",
      notional: "7530.45",
    });
    expect(decide({ ...s, openOrders: [openOrder("SELL", "0.1", "61000")] }, { action: "SELL", price: "61000" })).toMatchObject({
      approved: true,
      quantity: "0.02345",
    });
    // Working SELLs of another instrument and working BUYs do not reduce what can be sold.
    expect(
      decide({ ...s, openOrders: [openOrder("SELL", "1", "2000", ETH), openOrder("BUY", "0.1", "60000")] }, { action: "SELL", price: "61000" }),
    ).toMatchObject({ approved: true, quantity: "0.12345" });
    expect(decide({ ...s, openOrders: [openOrder("SELL", "0.123456789", "61000")] }, { action: "SELL" })).toMatchObject({
      reason: "no_position",
    });
  });
});

describe("portfolioRules (stage 2): drawdown and daily loss", () => {
  it("marks the signal's instrument at the signal's price, not at the stored mark", () => {
    // All in BTC: 1 BTC, no cash. Stored mark 70000 would pass; the signal's 59000 is a 1500 loss on the day.
    const s = state({ book: holding(BTC, "1", "60000", "60000"), marks: { [BTC]: "70000" }, dayStartEquity: "60500", peakEquity: "60500" });
    expect(decide(s, { price: "59000" })).toMatchObject({ reason: "daily_loss_limit", detail: "daily loss 1500 > 1000" });
    expect(decide(s, { price: "59600" })).toMatchObject({ reason: "max_position" });
  });

  it("uses the stored marks for the other instruments", () => {
    const s = state({ book: holding(ETH, "1", "2000", "10000"), dayStartEquity: "10000", marks: { [ETH]: "900" } });
    expect(decide(s)).toMatchObject({ reason: "daily_loss_limit", detail: "daily loss 1100 > 1000" });
  });

  it("drawdown sets haltPortfolio; a SELL that reduces the position is still allowed", () => {
    const s = state({ book: holding(BTC, "0.05", "60000"), peakEquity: "20000", dayStartEquity: "20000" });
    const buy = decide(s);
    expect(buy).toMatchObject({ approved: false, reason: "max_drawdown", haltPortfolio: true });
    if (!buy.approved) expect(buy.detail).toBe("drawdown 0.5 > 0.2 (equity 10000, peak 20000)");
    expect(decide(s, { action: "SELL" })).toEqual({ approved: true, side: "SELL", quantity: "0.05", price: "60000", notional: "3000" });
  });

  it("a SELL is allowed under the daily loss limit", () => {
    const s = state({ book: holding(BTC, "0.05", "60000"), dayStartEquity: "12000" });
    expect(decide(s)).toMatchObject({ reason: "daily_loss_limit" });
    expect(decide(s)).not.toHaveProperty("haltPortfolio");
    expect(decide(s, { action: "SELL" })).toMatchObject({ approved: true, side: "SELL", quantity: "0.05" });
  });

  it("skips the drawdown check without a positive peak", () => {
    expect(decide(state({ peakEquity: "0" }))).toMatchObject({ approved: true });
  });
});

describe("dayKey", () => {
  it("is the UTC calendar day", () => {
    expect(dayKey(0)).toBe("1970-01-01");
    expect(dayKey(Date.UTC(2024, 1, 29, 23, 59, 59, 999))).toBe("2024-02-29");
    expect(dayKey(Date.UTC(2024, 2, 1))).toBe("2024-03-01");
  });
});
