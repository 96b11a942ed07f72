/** Checks of rows before either store writes them, and the helpers both use to read them back. */
import { type FeaturesComputed, InstrumentKey, parseInstrumentKey } from "../../schemas";
import { invalidField } from "../errors";
import { MINUTE_MS, TIMEFRAMES, type Gap, type InstrumentCoverage, type KindCoverage, type MarketDataKind, type MinuteCandle, type RecentWindow, type StoredBook, type StoredTrade, type TimeRange, type Timeframe } from "./types";

/** What a DECIMAL(18,8) column holds exactly: up to 10 integer digits and 8 decimal places, not negative. */
const STORABLE_DECIMAL = /^[0-9]{1,10}(\.[0-9]{1,8})?$/;

function checkDecimal(value: unknown, field: string): void {
  if (typeof value !== "string" || !STORABLE_DECIMAL.test(value)) {
    throw invalidField(field, "must be a decimal string of at most 10 integer digits and 8 decimal places", value);
  }
}

/** The contract's instrument key (exchange:BASE/QUOTE): nothing a store must escape. */
const INSTRUMENT_KEY = new RegExp(InstrumentKey.pattern!);

function checkInstrument(value: unknown, field: string): void {
  if (typeof value !== "string" || !INSTRUMENT_KEY.test(value)) throw invalidField(field, "must be an instrument key (exchange:BASE/QUOTE)", value);
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

/** The fields an indicator row of the instrument has besides its values (the store keeps 1-minute rows only). */
export const indicatorIdentity = (instrumentKey: string): Pick<FeaturesComputed, "instrumentKey" | "exchange" | "symbol" | "timeframe"> => ({
  instrumentKey,
  ...parseInstrumentKey(instrumentKey),
  timeframe: "1m",
});

export function checkIndicators(rows: readonly FeaturesComputed[]): void {
  rows.forEach((r, i) => {
    const at = `indicators[${i}]`;
    checkInstrument(r.instrumentKey, `${at}.instrumentKey`);
    if (r.timeframe !== "1m") throw invalidField(`${at}.timeframe`, "must be 1m: the store keeps the indicators of 1-minute candles", r.timeframe);
    checkTime(r.openTime, `${at}.openTime`, MINUTE_MS);
    checkTime(r.closeTime, `${at}.closeTime`);
    checkDecimal(r.close, `${at}.close`);
    if (typeof r.features !== "object" || r.features === null || Array.isArray(r.features)) throw invalidField(`${at}.features`, "must be an object of named numbers", r.features);
    // JSON writes a finite number exactly and reads it back the same; NaN and infinities it turns into null.
    for (const [name, value] of Object.entries(r.features)) {
      if (typeof value !== "number" || !Number.isFinite(value)) throw invalidField(`${at}.features.${name}`, "must be a finite number", value);
    }
    checkTime(r.receivedAt, `${at}.receivedAt`);
  });
}

export function checkTrades(trades: readonly StoredTrade[]): void {
  trades.forEach((t, i) => {
    const at = `trades[${i}]`;
    checkInstrument(t.instrumentKey, `${at}.instrumentKey`);
    checkTime(t.time, `${at}.time`);
    // QuestDB's line protocol has no way to write a line break inside a value.
    if (typeof t.tradeId !== "string" || t.tradeId.length === 0 || /[\r\n]/.test(t.tradeId)) throw invalidField(`${at}.tradeId`, "must be a non-empty string without line breaks", t.tradeId);
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

export function checkWindow(window: RecentWindow): void {
  if (window?.before !== undefined) checkTime(window.before, "before");
  if (window?.after !== undefined) checkTime(window.after, "after");
  if (!Number.isSafeInteger(window?.limit) || window.limit <= 0) throw invalidField("limit", "must be a positive whole number", window?.limit);
}

/** Later than any time a store is asked about (10000-01-01), and within QuestDB's microsecond timestamps. */
const END_OF_TIME = Date.UTC(10000, 0, 1);

/** What `recentBuckets` asks a store: two queries over the 1-minute rows of [from, to). */
export interface NewestQueries<T> {
  /** The newest openTime of the instrument's 1-minute rows in [from, to). */
  newestMinute(from: number, to: number): Promise<number | undefined>;
  /** At most `limit` buckets (1-minute rows, or candles of a timeframe) made of the rows in [from, to), newest first. */
  newestBuckets(from: number, to: number, limit: number): Promise<T[]>;
}

/**
 * The newest `window.limit` buckets of `span` ms (aligned to the epoch) whose start is in (after, before),
 * oldest first. It finds the newest minute first, looking back from `before` (or `now`) over the
 * window's length before looking further, then asks only for the `limit` buckets that end with it:
 * a store reads the recent row groups or partitions, not the years before them (on 50
 * instrument-years in DuckDB, 3 ms instead of 150 ms). Gaps in the minutes can leave that short, and
 * then the whole window is asked.
 */
export async function recentBuckets<T>(span: number, window: RecentWindow, now: number, queries: NewestQueries<T>): Promise<T[]> {
  checkWindow(window);
  // The minutes of the buckets that start in (after, before): from the first aligned start after `after`
  // to the end of the last one before `before`.
  const from = window.after === undefined ? 0 : (Math.floor(window.after / span) + 1) * span;
  const to = window.before === undefined ? END_OF_TIME : Math.ceil(window.before / span) * span;
  if (from >= to) return [];
  // Any minute found in [lookBack, to) is the newest of [from, to) too.
  const lookBack = Math.max(from, Math.floor((window.before ?? now) - window.limit * span));
  const newest = (await queries.newestMinute(lookBack, to)) ?? (lookBack > from ? await queries.newestMinute(from, to) : undefined);
  if (newest === undefined) return [];
  const likely = Math.max(from, (Math.floor(newest / span) - window.limit + 1) * span);
  let buckets = await queries.newestBuckets(likely, to, window.limit);
  if (buckets.length < window.limit && likely > from) buckets = await queries.newestBuckets(from, to, window.limit);
  return buckets.reverse();
}

export function checkPageSize(pageSize: number): void {
  if (!Number.isSafeInteger(pageSize) || pageSize <= 0) throw invalidField("pageSize", "must be a positive whole number", pageSize);
}

/** A non-negative decimal held as an integer count of 10^-scale (DuckDB's DECIMAL), in canonical form. */
export function decimalFromUnits(units: bigint, scale: number): string {
  // In doubles while the count is an exact one (below 2^53: prices and volumes under 90 million at 8
  // places): a third less time per read of a year of candles than going through the bigint's digits.
  const count = Number(units);
  if (Number.isSafeInteger(count) && count >= 0) {
    const unit = 10 ** scale;
    let whole = Math.floor(count / unit);
    let fraction = count - whole * unit;
    // The division can round up to the next whole number just below it.
    if (fraction < 0) {
      whole--;
      fraction += unit;
    }
    if (fraction === 0) return String(whole);
    let places = scale;
    while (fraction % 10 === 0) {
      fraction /= 10;
      places--;
    }
    return `${whole}.${String(fraction).padStart(places, "0")}`;
  }
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
