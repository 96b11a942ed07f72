/**
 * The checks every 1-minute candle from outside (a file, an exchange) passes before the store gets
 * it, with the place it came from: `file:line: reason`. A source is checked whole before any of it
 * is written, so a refused one leaves nothing behind.
 */
import { isoTime } from "../../clock";
import { canonicalDecimal, checkCandles } from "../rows";
import { MINUTE_MS, type MinuteCandle } from "../types";

/** A candle source refused: the file (or exchange and symbol), the line when there is one, and why. */
export class ImportError extends Error {
  constructor(
    readonly source: string,
    readonly line: number | undefined,
    readonly reason: string,
  ) {
    super(line === undefined ? `${source}: ${reason}` : `${source}:${line}: ${reason}`);
    this.name = "ImportError";
  }
}

/** Stopped on request (Ctrl-C) between two batches; what was written stays, and a re-run completes it. */
export class ImportInterrupted extends Error {
  constructor(
    readonly source: string,
    readonly written: number,
    readonly total: number,
  ) {
    super(`interrupted: ${source}: ${written} of ${total} written`);
    this.name = "ImportInterrupted";
  }
}

/** A candle and the line of its source it was read from (none for an exchange's answer). */
export interface SourceRow {
  line?: number;
  candle: MinuteCandle;
}

/** Why a row is refused; the parsers throw it, and the caller adds the file and line. */
export class RowError extends Error {}

const UNSIGNED_DECIMAL = /^[0-9]+(\.[0-9]+)?$/;
const UNSIGNED_INTEGER = /^[0-9]+$/;

/** A price or volume field as a canonical decimal string (no trailing zeros, no leading ones), or a RowError. */
export function decimalField(text: string, field: string): string {
  if (!UNSIGNED_DECIMAL.test(text)) {
    if (text.startsWith("-") && UNSIGNED_DECIMAL.test(text.slice(1))) throw new RowError(`${field} ${text} is negative`);
    throw new RowError(`${field} "${text}" is not a decimal number`);
  }
  const digits = text.length > 1 && text.charCodeAt(0) === 48 /* 0 */ && text.charCodeAt(1) !== 46 /* . */ ? text.replace(/^0+(?=[0-9])/, "") : text;
  return canonicalDecimal(digits);
}

/** A whole-number field (a time, a count), or a RowError. */
export function integerField(text: string, field: string): number {
  const value = Number(text);
  if (!UNSIGNED_INTEGER.test(text) || !Number.isSafeInteger(value)) throw new RowError(`${field} "${text}" is not a whole number`);
  return value;
}

/** a − b's sign for canonical non-negative decimal strings, exactly (no float rounding). */
export function compareDecimals(a: string, b: string): number {
  const pointA = a.indexOf(".");
  const pointB = b.indexOf(".");
  const intA = pointA < 0 ? a : a.slice(0, pointA);
  const intB = pointB < 0 ? b : b.slice(0, pointB);
  if (intA.length !== intB.length) return intA.length - intB.length;
  if (intA !== intB) return intA < intB ? -1 : 1;
  // Canonical fractions have no trailing zeros, so comparing their digits as text orders them.
  const fracA = pointA < 0 ? "" : a.slice(pointA + 1);
  const fracB = pointB < 0 ? "" : b.slice(pointB + 1);
  return fracA === fracB ? 0 : fracA < fracB ? -1 : 1;
}

const sameValues = (a: MinuteCandle, b: MinuteCandle) =>
  a.open === b.open && a.high === b.high && a.low === b.low && a.close === b.close && a.volume === b.volume && a.tradeCount === b.tradeCount;

/**
 * Checks candles in source order: each on a minute, OHLC consistent (the high the highest, the low
 * the lowest), values the store can hold exactly, and times increasing. A minute given twice with the
 * same values is a repeat (skipped), with other values a refusal.
 */
export class CandleSequence {
  private previous: SourceRow | undefined;
  /** Candles accepted, repeats not counted. */
  accepted = 0;
  repeats = 0;
  first: number | undefined;
  last: number | undefined;

  constructor(private readonly source: string) {}

  /** True for a new candle, false for a repeat of the one before; throws an ImportError for a bad one. */
  accept(row: SourceRow): boolean {
    const { candle } = row;
    const at = () => isoTime(candle.openTime);
    if (candle.openTime % MINUTE_MS !== 0) this.refuse(row, `open time ${at()} is not on a minute`);
    const { open, high, low, close } = candle;
    if (compareDecimals(high, open) < 0 || compareDecimals(high, close) < 0) this.refuse(row, `high ${high} is below the open ${open} or the close ${close}`);
    if (compareDecimals(low, open) > 0 || compareDecimals(low, close) > 0) this.refuse(row, `low ${low} is above the open ${open} or the close ${close}`);
    try {
      checkCandles([candle]);
    } catch (err) {
      // The store's 422 names the field (`candles[0].high`) and says what fits it.
      const refusal = (err as { data?: Array<{ field: string; message: string }> }).data?.[0];
      this.refuse(row, refusal ? `${refusal.field.replace(/^candles\[0\]\./, "")} ${refusal.message}` : (err as Error).message);
    }
    const previous = this.previous;
    if (previous && candle.openTime <= previous.candle.openTime) {
      const where = previous.line === undefined ? "the previous candle" : `line ${previous.line}`;
      if (candle.openTime < previous.candle.openTime) this.refuse(row, `open time ${at()} is before the previous candle's (${where}): times must increase`);
      if (!sameValues(candle, previous.candle)) this.refuse(row, `a second candle for ${at()} with other values than ${where}`);
      this.repeats++;
      return false;
    }
    this.previous = row;
    this.accepted++;
    this.first ??= candle.openTime;
    this.last = candle.openTime;
    return true;
  }

  /** Refuses the row: at its line, or (an exchange's candle, which has none) at its time. */
  private refuse(row: SourceRow, reason: string): never {
    throw new ImportError(this.source, row.line, row.line === undefined ? `candle at ${isoTime(row.candle.openTime)}: ${reason}` : reason);
  }
}
