/**
 * Display formatting. Prices and quantities arrive as decimal strings and are rounded with decimal.js
 * to the market's precision (its tick size for prices, its lot size for quantities), never through
 * floats. Times are shown in UTC: the market clock of the simulator is not the wall clock, and one
 * zone everywhere keeps the chart, the tables and the logs comparable.
 */
import Decimal from "decimal.js";
import type { MarketInfo } from "../../../schemas/market";

export const MISSING = "—";
/** Quote-currency amounts (cash, equity, P&L, notional) are shown with cents. */
const MONEY_DECIMALS = 2;
/** Without a market's rules, show up to this many decimals and trim trailing zeros. */
const FALLBACK_DECIMALS = 8;

type DecimalLike = Decimal | string | number | null | undefined;

function toDecimal(value: DecimalLike): Decimal | undefined {
  if (value === null || value === undefined || value === "") return undefined;
  try {
    const d = new Decimal(value);
    return d.isFinite() ? d : undefined;
  } catch {
    return undefined;
  }
}

/** Decimals of a step such as a tick or lot size: "0.01" → 2, "0.00001" → 5, "1" → 0, "0.5" → 1. */
export function decimalsOf(step: string | undefined): number | undefined {
  const d = toDecimal(step);
  if (!d || d.lte(0)) return undefined;
  return d.decimalPlaces();
}

function group(integerDigits: string): string {
  return integerDigits.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/**
 * `value` rounded half-up to `decimals` places, with thousands separators; "—" when it is not a
 * number. `trim` drops trailing fraction zeros; `sign` prefixes "+" to positive values. Negative
 * values use the typographic minus.
 */
export function formatDecimal(value: DecimalLike, decimals: number, options: { trim?: boolean; sign?: boolean } = {}): string {
  const d = toDecimal(value);
  if (!d) return MISSING;
  const rounded = d.toDecimalPlaces(decimals, Decimal.ROUND_HALF_UP);
  let fixed = rounded.abs().toFixed(decimals);
  if (options.trim && fixed.includes(".")) fixed = fixed.replace(/\.?0+$/, "");
  const [integerPart, fraction] = fixed.split(".");
  const body = fraction === undefined ? group(integerPart!) : `${group(integerPart!)}.${fraction}`;
  if (rounded.isZero()) return body;
  if (rounded.isNegative()) return `−${body}`;
  return options.sign ? `+${body}` : body;
}

/** A price at the market's tick precision. */
export function formatPrice(value: DecimalLike, market?: Pick<MarketInfo, "tickSize">): string {
  const decimals = decimalsOf(market?.tickSize);
  return decimals === undefined ? formatDecimal(value, FALLBACK_DECIMALS, { trim: true }) : formatDecimal(value, decimals);
}

/** A quantity at the market's lot precision. */
export function formatQuantity(value: DecimalLike, market?: Pick<MarketInfo, "lotSize">): string {
  const decimals = decimalsOf(market?.lotSize);
  return decimals === undefined ? formatDecimal(value, FALLBACK_DECIMALS, { trim: true }) : formatDecimal(value, decimals);
}

/** An amount of quote currency (cash, equity, notional, fees). */
export function formatMoney(value: DecimalLike, options: { sign?: boolean } = {}): string {
  return formatDecimal(value, MONEY_DECIMALS, options);
}

/** A fraction as a percentage: 0.1234 → "12.34 %". */
export function formatPercent(fraction: DecimalLike, decimals = 2): string {
  const d = toDecimal(fraction);
  return d ? `${formatDecimal(d.mul(100), decimals)} %` : MISSING;
}

/** The CSS tone of a signed amount: gains green, losses red, zero neutral. */
export function toneOf(value: DecimalLike): "gain" | "loss" | "flat" {
  const d = toDecimal(value);
  if (!d || d.isZero()) return "flat";
  return d.isNegative() ? "loss" : "gain";
}

const pad = (n: number, width = 2) => String(n).padStart(width, "0");

/** Epoch ms as "2025-11-24 14:03:07" (UTC). */
export function formatTime(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return MISSING;
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

/** Epoch ms as "14:03:07" (UTC), for lists of recent events. */
export function formatClock(ms: number | null | undefined): string {
  return formatTime(ms).slice(11) || MISSING;
}

/** A duration in seconds as "3 d 4 h", "2 h 5 min", "4 min 10 s" or "12 s". */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const days = Math.floor(s / 86_400);
  const hours = Math.floor((s % 86_400) / 3600);
  const minutes = Math.floor((s % 3600) / 60);
  if (days > 0) return `${days} d ${hours} h`;
  if (hours > 0) return `${hours} h ${minutes} min`;
  if (minutes > 0) return `${minutes} min ${s % 60} s`;
  return `${s} s`;
}

/** "1 open order", "3 open orders". */
export function countOf(count: number, singular: string, plural = `${singular}s`): string {
  return `${count} ${count === 1 ? singular : plural}`;
}

/** A confidence in [0, 1] as a percentage without decimals. */
export function formatConfidence(confidence: number | undefined): string {
  return confidence === undefined ? MISSING : `${Math.round(confidence * 100)} %`;
}
