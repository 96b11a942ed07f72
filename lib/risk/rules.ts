/**
 * The two-stage risk rules as pure functions. Each stage runs its checks in a fixed order and reports
 * the first one that fails.
 *
 * Stage 1, instrumentRules (once per signal, in instrument order):
 *   1. instrument_not_registered  the signal's instrument is unknown
 *   2. instrument_disabled        the instrument is registered but disabled
 *   3. invalid_price              signal.price is not a positive decimal string
 *   4. stale_data                 now − signal.receivedAt > maxDataAgeMs (an unreadable age is stale)
 *
 * Stage 2, portfolioRules (once per (portfolio, signal), in portfolio order; BUY and SELL only, on
 * signals that passed stage 1):
 *   1. halted                     the portfolio is halted (blocks SELLs too)
 *   2. min_confidence             signal.confidence < minConfidence
 *   3. max_open_orders            openOrders.length ≥ maxOpenOrders (openOrders includes approved
 *                                 trades not yet placed)
 *   BUY only, as BUYs increase risk; equity is valueBook(book, marks) with the signal's price as the
 *   mark of its instrument:
 *   4. max_drawdown               (peakEquity − equity) / peakEquity > maxDrawdown; sets haltPortfolio
 *                                 (skipped while peakEquity ≤ 0, where a drawdown has no meaning)
 *   5. daily_loss_limit           dayStartEquity − equity > dailyLossLimit
 *   6. below_min_notional         quantity = orderNotional / price rounded down to the lot size;
 *                                 quantity is 0, < minQuantity, or quantity × price < minNotional
 *   From here "notional" is the sized order's quantity × price (≤ orderNotional after lot rounding).
 *   7. max_order_notional         notional > maxOrderNotional
 *   8. max_position               (position qty + open BUY remaining on this instrument) × price
 *                                 + notional > maxPositionNotional
 *   9. max_exposure               exposure + Σ open BUY remaining × order price + notional
 *                                 > maxExposure × equity
 *  10. insufficient_cash          (notional + Σ open BUY remaining × order price) × (1 + takerFee) > cash
 *                                 (the signal's market's taker fee stands in for every open BUY)
 *   SELL (reduces the position, so 4–5 and 7–10 do not apply):
 *   6. no_position                quantity = position qty − Σ open SELL remaining on this instrument,
 *                                 rounded down to the lot size, is ≤ 0
 *   7. below_min_notional         quantity < minQuantity or quantity × price < minNotional
 *
 * An approval carries side, quantity, price (the signal's price) and notional = quantity × price.
 */
import { isoTime } from "../clock";
import { Dec, dec, isDecimalString, moneyProduct, roundToStep, str, sum } from "../decimal";
import { valueBook, type PortfolioBook } from "./accounting";
import type { DecimalString, MarketInfo, RejectReason, RiskLimits, Side, TradingSignal } from "../../schemas";


export const DEFAULT_LIMITS: RiskLimits = Object.freeze({
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

export interface LimitError {
  field: string;
  message: string;
}

type FieldCheck = (value: unknown) => string | undefined;

/**
 * Hard bounds for everyone, the operator included, so no limit can be made meaningless: no amount
 * above a billion quote units or with more than 18 significant digits (a 90,000-digit string is
 * refused before it is parsed), no exposure above 10 × equity, no more than 1000 working orders.
 */
export const LIMIT_BOUNDS = Object.freeze({
  maxAmount: "1000000000",
  maxSignificantDigits: 18,
  maxExposureMultiple: "10",
  maxOpenOrders: 1000,
  maxDataAgeMs: 3_600_000,
});
/** Longest decimal string read at all: 18 significant digits plus zeros, a point and slack. */
const MAX_DECIMAL_LENGTH = 40;

/** A decimal string ≥ 0 (> 0 when `positive`), at most `max`, with at most 18 significant digits; the reason if not. */
export function boundedDecimal(value: unknown, max: string, positive = false): string | undefined {
  const expected = `must be a decimal string in ${positive ? "(" : "["}0, ${max}], with at most ${LIMIT_BOUNDS.maxSignificantDigits} significant digits`;
  if (!isDecimalString(value) || value.length > MAX_DECIMAL_LENGTH) return expected;
  const d = dec(value);
  if (d.isNegative() || (positive && d.isZero()) || d.gt(max) || d.sd() > LIMIT_BOUNDS.maxSignificantDigits) return expected;
  return undefined;
}

const amount: FieldCheck = (v) => boundedDecimal(v, LIMIT_BOUNDS.maxAmount);
const exposureMultiple: FieldCheck = (v) => boundedDecimal(v, LIMIT_BOUNDS.maxExposureMultiple, true);
const fractionUpToOne: FieldCheck = (v) => boundedDecimal(v, "1", true);
export const integerUpTo = (min: number, max: number): FieldCheck => (v) =>
  Number.isInteger(v) && (v as number) >= min && (v as number) <= max ? undefined : `must be an integer in [${min}, ${max}]`;
const unitInterval: FieldCheck = (v) => (typeof v === "number" && v >= 0 && v <= 1 ? undefined : "must be a number in [0, 1]");

const LIMIT_CHECKS: Record<keyof RiskLimits, FieldCheck> = {
  orderNotional: amount,
  maxOrderNotional: amount,
  maxPositionNotional: amount,
  maxExposure: exposureMultiple,
  maxOpenOrders: integerUpTo(0, LIMIT_BOUNDS.maxOpenOrders),
  dailyLossLimit: amount,
  maxDrawdown: fractionUpToOne,
  minConfidence: unitInterval,
  maxDataAgeMs: integerUpTo(1, LIMIT_BOUNDS.maxDataAgeMs),
};

/**
 * Validates a partial update of the limits; every error is reported, not just the first. Accepted
 * decimal strings come back in canonical form ("1000.50" → "1000.5").
 */
export function validateLimits(
  patch: unknown,
): { ok: true; limits: Partial<RiskLimits> } | { ok: false; errors: LimitError[] } {
  if (typeof patch !== "object" || patch === null || Array.isArray(patch)) {
    return { ok: false, errors: [{ field: "limits", message: "must be an object" }] };
  }
  const errors: LimitError[] = [];
  const limits: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(patch)) {
    if (!Object.hasOwn(LIMIT_CHECKS, field)) {
      errors.push({ field, message: "is not a risk limit" });
      continue;
    }
    const message = LIMIT_CHECKS[field as keyof RiskLimits](value);
    if (message) errors.push({ field, message });
    else limits[field] = typeof value === "string" ? str(value) : value;
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, limits: limits as Partial<RiskLimits> };
}

export type RuleOutcome = { pass: true } | { pass: false; reason: RejectReason; detail: string };

/** Stage 1: instrument-level checks. */
export function instrumentRules(input: {
  signal: TradingSignal;
  instrument?: { enabled: boolean };
  now: number;
  maxDataAgeMs: number;
}): RuleOutcome {
  const { signal, instrument, now, maxDataAgeMs } = input;
  if (!instrument) return fail("instrument_not_registered", `${signal.instrumentKey} is not registered`);
  if (!instrument.enabled) return fail("instrument_disabled", `${signal.instrumentKey} is disabled`);
  if (!isDecimalString(signal.price) || !dec(signal.price).gt(0)) {
    return fail("invalid_price", `price ${JSON.stringify(signal.price)} is not a positive decimal`);
  }
  return freshData(signal, now, maxDataAgeMs);
}

/**
 * The stale-data guard, at stage 1 and again at stage 2: a signal that waited between the stages (a
 * backlog draining after an outage, a restart of risk) is rejected rather than traded on old data.
 */
export function freshData(signal: Pick<TradingSignal, "receivedAt">, now: number, maxDataAgeMs: number): RuleOutcome {
  const age = now - signal.receivedAt;
  // Negated so that a NaN age (missing or corrupt receivedAt) counts as stale.
  if (!(age <= maxDataAgeMs)) return fail("stale_data", `data is ${age} ms old, limit ${maxDataAgeMs} ms`);
  return { pass: true };
}

/**
 * The portfolio's kill switch, stage 2's first check: at stage 2 it comes before the data's age, so a
 * halted portfolio reports `halted` whatever the signal's age.
 */
export function portfolioHalt(state: { halted: boolean }): RuleOutcome {
  return state.halted ? fail("halted", "portfolio is halted") : { pass: true };
}

export interface OpenOrder {
  instrumentKey: string;
  side: Side;
  remainingQuantity: DecimalString;
  price: DecimalString;
}

export interface PortfolioRiskState {
  halted: boolean;
  limits: RiskLimits;
  book: PortfolioBook;
  marks: Record<string, DecimalString>;
  /** Working orders, including approved trades not yet placed. */
  openOrders: OpenOrder[];
  dayStartEquity: DecimalString;
  peakEquity: DecimalString;
}

export type PortfolioDecision =
  | { approved: true; side: Side; quantity: DecimalString; price: DecimalString; notional: DecimalString }
  | { approved: false; reason: RejectReason; detail: string; haltPortfolio?: boolean };

/** Stage 2: portfolio-level checks and sizing (order and semantics in the comment at the top). */
export function portfolioRules(input: { signal: TradingSignal; state: PortfolioRiskState; market: MarketInfo }): PortfolioDecision {
  const { signal, state, market } = input;
  const { limits } = state;
  if (signal.action !== "BUY" && signal.action !== "SELL") {
    throw new Error(`portfolioRules takes BUY and SELL signals, got ${signal.action}`);
  }
  const halt = portfolioHalt(state);
  if (!halt.pass) return reject(halt.reason, halt.detail);
  // Negated so that a NaN confidence is rejected.
  if (!(signal.confidence >= limits.minConfidence)) {
    return reject("min_confidence", `confidence ${signal.confidence} < ${limits.minConfidence}`);
  }
  if (state.openOrders.length >= limits.maxOpenOrders) {
    return reject("max_open_orders", `${state.openOrders.length} open orders, limit ${limits.maxOpenOrders}`);
  }

  const price = dec(signal.price);
  const held = dec(state.book.positions[signal.instrumentKey]?.quantity ?? 0);
  const sameInstrument = (side: Side) => state.openOrders.filter((o) => o.side === side && o.instrumentKey === signal.instrumentKey);

  if (signal.action === "SELL") {
    const workingSells = sum(sameInstrument("SELL").map((o) => o.remainingQuantity));
    const quantity = roundToStep(held.sub(workingSells), market.lotSize, "down");
    if (!quantity.gt(0)) {
      return reject("no_position", `holding ${str(held)} with ${str(workingSells)} already on working SELLs`);
    }
    return belowMinimum("SELL", quantity, price, market) ?? approve("SELL", quantity, price);
  }

  const valuation = valueBook(state.book, { ...state.marks, [signal.instrumentKey]: signal.price });
  const equity = dec(valuation.equity);
  const peak = dec(state.peakEquity);
  if (peak.gt(0)) {
    const drawdown = peak.sub(equity).div(peak);
    if (drawdown.gt(limits.maxDrawdown)) {
      const detail = `drawdown ${str(drawdown)} > ${limits.maxDrawdown} (equity ${str(equity)}, peak ${str(peak)})`;
      return { ...reject("max_drawdown", detail), haltPortfolio: true };
    }
  }
  const dayLoss = dec(state.dayStartEquity).sub(equity);
  if (dayLoss.gt(limits.dailyLossLimit)) {
    return reject("daily_loss_limit", `daily loss ${str(dayLoss)} > ${limits.dailyLossLimit}`);
  }

  const quantity = roundToStep(dec(limits.orderNotional).div(price), market.lotSize, "down");
  const belowMin = belowMinimum("BUY", quantity, price, market);
  if (belowMin) return belowMin;
  const notional = quantity.mul(price);
  if (notional.gt(limits.maxOrderNotional)) {
    return reject("max_order_notional", `order notional ${str(notional)} > ${limits.maxOrderNotional}`);
  }

  const workingBuysHere = sum(sameInstrument("BUY").map((o) => o.remainingQuantity));
  const positionNotional = held.add(workingBuysHere).mul(price).add(notional);
  if (positionNotional.gt(limits.maxPositionNotional)) {
    return reject("max_position", `position notional would be ${str(positionNotional)} > ${limits.maxPositionNotional}`);
  }

  const workingBuys = workingBuysValue(state.openOrders);
  const exposure = dec(valuation.exposure).add(workingBuys).add(notional);
  const maxExposure = dec(limits.maxExposure).mul(equity);
  if (exposure.gt(maxExposure)) {
    return reject("max_exposure", `exposure would be ${str(exposure)} > ${str(maxExposure)} (${limits.maxExposure} × equity ${str(equity)})`);
  }

  const cashNeeded = notional.add(workingBuys).mul(dec(market.takerFee).add(1));
  if (cashNeeded.gt(state.book.cash)) {
    return reject("insufficient_cash", `needs ${str(cashNeeded)} incl. taker fee and working BUYs, cash ${state.book.cash}`);
  }
  return approve("BUY", quantity, price);
}

/** What working BUYs will still spend: Σ remaining quantity × order price. */
export function workingBuysValue(openOrders: OpenOrder[]): Dec {
  return sum(openOrders.filter((o) => o.side === "BUY").map((o) => moneyProduct(o.remainingQuantity, o.price)));
}

/** UTC calendar day of `time` (yyyy-mm-dd): the key of the day-start equity. */
export function dayKey(time: number): string {
  return isoTime(time).slice(0, 10);
}

/** The venue's minimums, checked on a sized order; undefined when they are met. */
function belowMinimum(side: Side, quantity: Dec, price: Dec, market: MarketInfo): PortfolioDecision | undefined {
  const notional = quantity.mul(price);
  if (quantity.isZero() || quantity.lt(market.minQuantity) || notional.lt(market.minNotional)) {
    return reject(
      "below_min_notional",
      `${side} ${str(quantity)} × ${str(price)} = ${str(notional)} is below the minimum (quantity ${market.minQuantity}, notional ${market.minNotional})`,
    );
  }
  return undefined;
}

function approve(side: Side, quantity: Dec, price: Dec): PortfolioDecision {
  return { approved: true, side, quantity: str(quantity), price: str(price), notional: str(quantity.mul(price)) };
}

function fail(reason: RejectReason, detail: string): RuleOutcome {
  return { pass: false, reason, detail };
}

function reject(reason: RejectReason, detail: string): { approved: false; reason: RejectReason; detail: string } {
  return { approved: false, reason, detail };
}
