/** Checks of rows before either store writes them, and the helpers both use to read them back. */
import { invalidField } from "../errors";
import { MINUTE_MS, TIMEFRAMES, type Gap, type InstrumentCoverage, type KindCoverage, type MarketDataKind, type MinuteCandle, type StoredBook, type StoredTrade, type TimeRange, type Timeframe } from "./types";

/** What a DECIMAL(18,8) column holds exactly: up to 10 integer digits and 8 decimal places, not negative. */
const STORABLE_DECIMAL = /^[0-9]{1,10}(\.[0-9]{1,8})?$/;

function checkDecimal(value: unknown, field: string): void {
  if (typeof value !== "string" || !STORABLE_DECIMAL.test(value)) {
    throw invalidField(field, "must be a decimal string of at most 10 integer digits and 8 decimal places", value);
  }
}

function checkInstrument(value: unknown, field: string): void {
  if (typeof value !== "string" || value.length === 0) throw invalidField(field, "must be an instrument key", value);
}

function checkTime(value: unknown, field: string, step = 1): void {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0 || value % step !== 0) {
    throw invalidField(field, step === 1 ? "must be epoch milliseconds" : `must be epoch milliseconds, a multiple of ${step}`, value);
  }
}

export function checkCandles(candles: readonly MinuteCandle[]): void {
  candles.forEach((c, i) => {
    const at = `candles[${i}]`;
    checkInstrument(c.instrumentKey, `${at}.instrumentKey`);
    checkTime(c.openTime, `${at}.openTime`, MINUTE_MS);
    for (const field of ["open", "high", "low", "close", "volume"] as const) checkDecimal(c[field], `${at}.${field}`);
    if (!Number.isSafeInteger(c.tradeCount) || c.tradeCount < 0) throw invalidField(`${at}.tradeCount`, "must be a whole number, not negative", c.tradeCount);
  });
}

export function checkTrades(trades: readonly StoredTrade[]): void {
  trades.forEach((t, i) => {
    const at = `trades[${i}]`;
    checkInstrument(t.instrumentKey, `${at}.instrumentKey`);
    checkTime(t.time, `${at}.time`);
    if (typeof t.tradeId !== "string" || t.tradeId.length === 0) throw invalidField(`${at}.tradeId`, "must be a non-empty string", t.tradeId);
    checkDecimal(t.price, `${at}.price`);
    checkDecimal(t.quantity, `${at}.quantity`);
    if (t.takerSide !== "BUY" && t.takerSide !== "SELL") throw invalidField(`${at}.takerSide`, "must be BUY or SELL", t.takerSide);
  });
}

export function checkBooks(books: readonly StoredBook[]): void {
  books.forEach((b, i) => {
    const at = `books[${i}]`;
    checkInstrument(b.instrumentKey, `${at}.instrumentKey`);
    checkTime(b.time, `${at}.time`);
    for (const side of ["bids", "asks"] as const) {
      if (!Array.isArray(b[side])) throw invalidField(`${at}.${side}`, "must be a list of [price, quantity] levels", b[side]);
      b[side].forEach(([price, quantity], level) => {
        checkDecimal(price, `${at}.${side}[${level}][0]`);
        checkDecimal(quantity, `${at}.${side}[${level}][1]`);
      });
    }
  });
}

/** A DECIMAL column's text ("93500.50000000") in canonical form ("93500.5"), as `str` of lib/decimal writes it. */
export function canonicalDecimal(text: string): string {
  if (!text.includes(".")) return text;
  let end = text.length;
  while (text.charCodeAt(end - 1) === 48 /* 0 */) end--;
  if (text.charCodeAt(end - 1) === 46 /* . */) end--;
  return text.slice(0, end);
}

/** A read's range and page size; the stores put them into SQL, so nothing else gets through. */
export function checkRange(range: TimeRange): void {
  checkTime(range?.from, "from");
  checkTime(range?.to, "to");
}

export function checkTimeframe(timeframe: Timeframe): void {
  if (!TIMEFRAMES.includes(timeframe)) throw invalidField("timeframe", `must be one of ${TIMEFRAMES.join(", ")}`, timeframe);
}

export function checkPageSize(pageSize: number): void {
  if (!Number.isSafeInteger(pageSize) || pageSize <= 0) throw invalidField("pageSize", "must be a positive whole number", pageSize);
}

/** A non-negative decimal held as an integer count of 10^-scale (DuckDB's DECIMAL), in canonical form. */
export function decimalFromUnits(units: bigint, scale: number): string {
  const digits = units.toString().padStart(scale + 1, "0");
  const point = digits.length - scale;
  return canonicalDecimal(`${digits.slice(0, point)}.${digits.slice(point)}`);
}

/**
 * Pages of rows in key order by keyset paging: each page starts after the last row of the one before,
 * so a long range costs the same per page from its start to its end.
 */
export async function* keysetPages<T>(fetchAfter: (last: T | undefined, limit: number) => Promise<T[]>, range: TimeRange, pageSize: number): AsyncIterable<T[]> {
  checkRange(range);
  checkPageSize(pageSize);
  let last: T | undefined;
  for (;;) {
    const page = await fetchAfter(last, pageSize);
    if (page.length > 0) yield page;
    if (page.length < pageSize) return;
    last = page[page.length - 1];
  }
}

/** Collects a store's coverage rows into one entry per instrument, in instrument order. */
export class CoverageCollector {
  private readonly byInstrument = new Map<string, InstrumentCoverage>();

  held(kind: MarketDataKind, instrumentKey: string, held: KindCoverage): void {
    const entry = this.entry(instrumentKey);
    if (kind === "candles") entry.candles = { ...held, gaps: [] };
    else entry[kind] = held;
  }

  /** A gap of an instrument whose candles were reported by `held` already. */
  gap(instrumentKey: string, gap: Gap): void {
    this.entry(instrumentKey).candles?.gaps.push(gap);
  }

  list(): InstrumentCoverage[] {
    return [...this.byInstrument.values()].sort((a, b) => (a.instrumentKey < b.instrumentKey ? -1 : a.instrumentKey > b.instrumentKey ? 1 : 0));
  }

  private entry(instrumentKey: string): InstrumentCoverage {
    let entry = this.byInstrument.get(instrumentKey);
    if (!entry) this.byInstrument.set(instrumentKey, (entry = { instrumentKey }));
    return entry;
  }
}
