/** The Decisions view: filters, and what a row says about the trade and the signal behind it. */
import type { DecisionRecord, MarketInfo } from "./api";
import { formatMoney, formatPrice, formatQuantity } from "./format";
import { reasonLabel } from "./labels";

export interface DecisionFilter {
  outcome: "" | "approved" | "rejected";
  /** A reject reason; only meaningful with rejected (or all) outcomes. */
  reason: string;
  instrumentKey: string;
}

/** The part of the filter the API applies (outcome, reason); the instrument is filtered here. */
export function decisionQuery(filter: DecisionFilter): { outcome?: string; reason?: string } {
  const reason = filter.outcome === "approved" ? undefined : filter.reason || undefined;
  return { outcome: filter.outcome || undefined, reason };
}

export function filterByInstrument(rows: readonly DecisionRecord[], instrumentKey: string): DecisionRecord[] {
  return instrumentKey ? rows.filter((d) => d.instrumentKey === instrumentKey) : [...rows];
}

/** "BUY 0.01663 @ 60,120.55 = 1,000.00" for an approval, the reason and its detail for a rejection. */
export function decisionOutcomeText(d: DecisionRecord, market?: MarketInfo): string {
  if (d.outcome === "approved") {
    return `${d.action} ${formatQuantity(d.quantity, market)} @ ${formatPrice(d.price, market)} = ${formatMoney(d.notional)}`;
  }
  const label = reasonLabel(d.reason);
  return d.detail ? `${label}: ${d.detail}` : label;
}

/** The indicator values the strategy saw, for the decision's detail row. */
export function signalFeatureList(d: DecisionRecord, market?: MarketInfo): Array<{ label: string; value: string }> {
  const f = d.signal.features;
  const num = (v: number, digits: number) => (Number.isFinite(v) ? v.toFixed(digits) : "—");
  return [
    { label: "Close", value: formatPrice(d.signal.price, market) },
    { label: "RSI 14", value: num(f.rsi14, 1) },
    { label: "MACD", value: num(f.macd, 3) },
    { label: "MACD signal", value: num(f.macdSignal, 3) },
    { label: "MACD hist.", value: num(f.macdHistogram, 3) },
    { label: "Bollinger %B", value: num(f.bbPercentB, 2) },
    { label: "EMA 12", value: formatPrice(String(f.ema12), market) },
    { label: "EMA 26", value: formatPrice(String(f.ema26), market) },
    { label: "ATR 14", value: num(f.atr14, 2) },
    // The standard deviation of 30 one-minute log returns, unannualised (README, "Indicators").
    { label: "Realized vol (30 × 1m)", value: num(f.realizedVolatility * 100, 3) + " %" },
  ];
}
