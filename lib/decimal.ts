/**
 * Money arithmetic. Prices, quantities, fees and cash are decimal strings on the wire and
 * decimal.js values in arithmetic: never JavaScript floats.
 */
import Decimal from "decimal.js";

export const Dec = Decimal.clone({ precision: 40, rounding: Decimal.ROUND_HALF_EVEN, toExpNeg: -40, toExpPos: 40 });
export type Dec = InstanceType<typeof Dec>;
export type DecimalInput = string | number | Dec;

/** A decimal string as carried in events and API responses: optional sign, digits, optional fraction. */
export const DECIMAL_PATTERN = "^-?[0-9]+(\\.[0-9]+)?$";
const DECIMAL_RE = new RegExp(DECIMAL_PATTERN);

export function dec(value: DecimalInput): Dec {
  return value instanceof Dec ? value : new Dec(value);
}

/** Canonical wire form: plain notation, no exponent, no trailing zeros. */
export function str(value: DecimalInput): string {
  const d = dec(value);
  return d.isZero() ? "0" : d.toFixed();
}

export function isDecimalString(value: unknown): value is string {
  return typeof value === "string" && DECIMAL_RE.test(value);
}

export type StepRounding = "down" | "up" | "nearest";

/** Rounds to a multiple of `step` (a tick size or a lot size); a zero step leaves the value as is. */
export function roundToStep(value: DecimalInput, step: DecimalInput, mode: StepRounding = "down"): Dec {
  const v = dec(value);
  const s = dec(step);
  if (s.isZero()) return v;
  const units = v.div(s);
  const rounded = mode === "down" ? units.floor() : mode === "up" ? units.ceil() : units.toDecimalPlaces(0, Decimal.ROUND_HALF_EVEN);
  return rounded.mul(s);
}

export function sum(values: DecimalInput[]): Dec {
  return values.reduce<Dec>((acc, v) => acc.add(dec(v)), new Dec(0));
}

export function max(a: DecimalInput, b: DecimalInput): Dec {
  return Dec.max(dec(a), dec(b));
}

export function min(a: DecimalInput, b: DecimalInput): Dec {
  return Dec.min(dec(a), dec(b));
}
