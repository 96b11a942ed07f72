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

/**
 * Decimal places of every quote-currency amount the accounting keeps and serves: cash, fees, cost,
 * average cost, P&L, market value, equity, exposure. Venues settle USDT at 8 places; 12 keeps every
 * fill's notional (tick places + lot places) and 8-place fee exact, so rounding only ever touches
 * quotients and products with marks, by at most half of 1e-12.
 */
export const MONEY_SCALE = 12;

/** A non-negative amount of money as accepted on input: digits, with at most MONEY_SCALE decimals. */
export const MONEY_AMOUNT = new RegExp(`^[0-9]+(\\.[0-9]{1,${MONEY_SCALE}})?$`);

/** `value` at MONEY_SCALE places, half to even. */
export function money(value: DecimalInput): Dec {
  return dec(value).toDecimalPlaces(MONEY_SCALE, Decimal.ROUND_HALF_EVEN);
}

/**
 * a × b (÷ divisor) at MONEY_SCALE places, rounded once, half to even, from the exact value: done in
 * integers, so neither the product nor the quotient is first cut to `Dec`'s 40 significant digits.
 */
export function moneyProduct(a: DecimalInput, b: DecimalInput, divisor: DecimalInput = 1): Dec {
  const [x, y, z] = [a, b, divisor].map(scaledInteger);
  if (z.units === 0n) throw new RangeError("moneyProduct: division by zero");
  // a·b/c·10^S = (X·Y·10^(zc + S)) / (Z·10^(xc + yc)), with a = X/10^xc etc.
  const numerator = x.units * y.units * 10n ** BigInt(z.places + MONEY_SCALE);
  const denominator = z.units * 10n ** BigInt(x.places + y.places);
  return new Dec(`${divideHalfEven(numerator, denominator)}e-${MONEY_SCALE}`);
}

/** The value as an integer count of 10^-places. */
function scaledInteger(value: DecimalInput): { units: bigint; places: number } {
  const d = dec(value);
  // From the digits: multiplying by 10^places would round to 40 significant digits.
  return { units: BigInt(d.toFixed().replace(".", "")), places: d.decimalPlaces() };
}

function divideHalfEven(numerator: bigint, denominator: bigint): bigint {
  const [n, d] = denominator < 0n ? [-numerator, -denominator] : [numerator, denominator];
  const quotient = n / d; // truncated toward zero
  const remainder = n % d;
  const twice = 2n * (remainder < 0n ? -remainder : remainder);
  if (twice > d || (twice === d && quotient % 2n !== 0n)) return quotient + (n < 0n ? -1n : 1n);
  return quotient;
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
