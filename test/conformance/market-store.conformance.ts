/** The market data store conformance suite: the same tests for the embedded store (DuckDB) and QuestDB. */
import { ManualClock, type Clock } from "../../lib/clock";
import { Dec, str } from "../../lib/decimal";
import { Errors } from "moleculer";
import { type FeaturesComputed, type FeatureVector, parseInstrumentKey } from "../../schemas";
import { TIMEFRAMES, TIMEFRAME_MS, type MarketDataStore, type MinuteCandle, type RecentWindow, type StoredBook, type StoredTrade, type TimeRange, type Timeframe } from "../../lib/marketdata/types";

const MIN = 60_000;
const DAY = 86_400_000;
const JAN_1 = Date.UTC(2024, 0, 1);
const A = "binance:BTC/USDT";
const B = "binance:ETH/USDT";

async function collect<T>(pages: AsyncIterable<T[]>): Promise<{ rows: T[]; sizes: number[] }> {
  const rows: T[] = [];
  const sizes: number[] = [];
  for await (const page of pages) {
    rows.push(...page);
    sizes.push(page.length);
  }
  return { rows, sizes };
}

/** A deterministic walk of 1-minute candles with 8-place prices (no float ever touches them). */
function minuteCandles(instrumentKey: string, from: number, count: number, skip: (i: number) => boolean = () => false): MinuteCandle[] {
  const candles: MinuteCandle[] = [];
  let seed = 12345;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648);
  let close = new Dec("93500.12345678");
  for (let i = 0; i < count; i++) {
    const open = close;
    close = open.add(new Dec(next() % 200001).sub(100000).div(1e6)).toDecimalPlaces(8);
    const high = Dec.max(open, close).add(new Dec(next() % 5000).div(1e4));
    const low = Dec.min(open, close).sub(new Dec(next() % 5000).div(1e4));
    if (skip(i)) continue;
    candles.push({
      instrumentKey,
      openTime: from + i * MIN,
      open: str(open),
      high: str(high),
      low: str(low),
      close: str(close),
      volume: str(new Dec(next() % 100000000).div(1e8).add(next() % 50)),
      tradeCount: next() % 300,
    });
  }
  return candles;
}

/** The resample computed independently: plain JS and decimal.js over the same rows. */
function resampledByHand(candles: MinuteCandle[], timeframe: Timeframe, range: TimeRange) {
  const span = TIMEFRAME_MS[timeframe];
  const buckets = new Map<number, MinuteCandle[]>();
  for (const c of candles) {
    if (c.openTime < range.from || c.openTime >= range.to) continue;
    const start = Math.floor(c.openTime / span) * span;
    buckets.set(start, [...(buckets.get(start) ?? []), c]);
  }
  return [...buckets.entries()]
    .sort(([a], [b]) => a - b)
    .map(([openTime, rows]) => ({
      instrumentKey: rows[0].instrumentKey,
      timeframe,
      openTime,
      closeTime: openTime + span - 1,
      open: rows[0].open,
      high: str(Dec.max(...rows.map((r) => r.high))),
      low: str(Dec.min(...rows.map((r) => r.low))),
      close: rows[rows.length - 1].close,
      volume: str(rows.reduce((sum, r) => sum.add(r.volume), new Dec(0))),
      tradeCount: rows.reduce((sum, r) => sum + r.tradeCount, 0),
    }));
}

/** The newest `limit` of the buckets whose openTime is in (after, before), oldest first: plain JS over the hand resample. */
function recentByHand<T extends { openTime: number }>(buckets: T[], { before = Infinity, after = -Infinity, limit }: RecentWindow): T[] {
  return buckets.filter((b) => b.openTime > after && b.openTime < before).slice(-limit);
}

/** Doubles that a decimal rendering with fewer than 17 digits would change, and the extremes. */
const AWKWARD_NUMBERS = [0.1 + 0.2, 1 / 3, -2 / 3, 5e-324, 1.7976931348623157e308, -123.456e-7, 2 ** 53 + 2, Math.PI * 1e20, 0];

/** Indicator rows of the candles: the close as a number, the other values drawn from AWKWARD_NUMBERS. */
function indicatorRows(candles: MinuteCandle[]): FeaturesComputed[] {
  const names: Array<keyof FeatureVector> = ["close", "return1", "rsi14", "macd", "macdSignal", "macdHistogram", "bbUpper", "bbMiddle", "bbLower", "bbPercentB", "atr14", "ema12", "ema26", "sma20", "realizedVolatility"];
  return candles.map((c, i) => {
    const features = Object.fromEntries(names.map((name, n) => [name, n === 0 ? Number(c.close) : AWKWARD_NUMBERS[(i + n) % AWKWARD_NUMBERS.length]])) as FeatureVector;
    return { instrumentKey: c.instrumentKey, ...parseInstrumentKey(c.instrumentKey), timeframe: "1m", openTime: c.openTime, closeTime: c.openTime + MIN - 1, close: c.close, features, receivedAt: c.openTime + MIN + i };
  });
}

export interface MarketStoreFactory {
  /** A new, empty store of the implementation under test. */
  open(clock: Clock): Promise<MarketDataStore>;
}

export function marketStoreConformance(name: string, factory: MarketStoreFactory): void {
  describe(`market data store conformance: ${name}`, () => {
    let store: MarketDataStore;
    const clock = new ManualClock(Date.UTC(2024, 2, 3, 12));

    beforeEach(async () => {
      store = await factory.open(clock);
    });

    afterEach(async () => {
      await store.close();
    });

    it("reads back candles, trades and books exact to the digit", async () => {
      const candle: MinuteCandle = {
        instrumentKey: A,
        openTime: JAN_1,
        open: "93500.12345678",
        high: "9999999999.99999999",
        low: "0.00000001",
        close: "93500.5",
        volume: "0",
        tradeCount: 7,
      };
      const trades: StoredTrade[] = [
        { instrumentKey: A, time: JAN_1 + 1, tradeId: "t1", price: "0.1", quantity: "0.2", takerSide: "BUY" },
        { instrumentKey: A, time: JAN_1 + 1, tradeId: "t2", price: "1234567890.12345678", quantity: "3", takerSide: "SELL" },
        // Characters a store's wire format quotes or escapes.
        { instrumentKey: A, time: JAN_1 + 1, tradeId: 'x "y" \\z,=\t é€😀', price: "2", quantity: "1", takerSide: "BUY" },
      ];
      const book: StoredBook = { instrumentKey: A, time: JAN_1 + 2, bids: [["93500.1", "0.30000001"], ["93500", "2"]], asks: [["93500.2", "0.00000001"]] };
      // Either side of 2^53 units of 10^-8 (90071992.54740992), where an exact count stops fitting a double.
      const edges: MinuteCandle = { ...candle, openTime: JAN_1 + MIN, open: "90071992.54740991", high: "90071992.54740992", low: "89999999.99999999", close: "100", volume: "0.00000009" };
      await store.writeCandles([candle, edges]);
      await store.writeTrades(trades);
      await store.writeBooks([book]);
      const all = { from: JAN_1, to: JAN_1 + DAY };
      expect((await collect(store.readCandles(A, all))).rows).toEqual([candle, edges]);
      expect((await collect(store.readTrades(A, all))).rows).toEqual(trades);
      expect((await collect(store.readBooks(A, all))).rows).toEqual([book]);
      expect((await collect(store.readCandles(B, all))).rows).toEqual([]);
    });

    it("refuses a value it cannot hold exactly with a 422 naming the field, and writes none of the batch", async () => {
      const good = minuteCandles(A, JAN_1, 2);
      const tooPrecise = { ...good[1], close: "1.123456789" };
      const error = await store.writeCandles([good[0], tooPrecise]).catch((err: unknown) => err);
      expect(error).toBeInstanceOf(Errors.ValidationError);
      expect((error as Errors.ValidationError).code).toBe(422);
      expect((error as Errors.ValidationError).data).toEqual([expect.objectContaining({ field: "candles[1].close" })]);
      await expect(store.writeTrades([{ instrumentKey: A, time: JAN_1, tradeId: "x", price: "-1", quantity: "1", takerSide: "BUY" }])).rejects.toThrow(
        "trades[0].price",
      );
      await expect(store.writeCandles([{ ...good[0], openTime: JAN_1 + 1 }])).rejects.toThrow("candles[0].openTime");
      await expect(store.writeCandles([{ ...good[0], instrumentKey: "binance:BTC USDT" }])).rejects.toThrow("candles[0].instrumentKey");
      await expect(store.writeTrades([{ instrumentKey: A, time: JAN_1, tradeId: "a\nb", price: "1", quantity: "1", takerSide: "BUY" }])).rejects.toThrow("trades[0].tradeId");
      expect(await store.coverage()).toEqual([]);
    });

    it("refuses a bad range, page size, timeframe or retention age with a 422 naming it", async () => {
      const refusal = (work: Promise<unknown>) => work.then(() => undefined, (err: Errors.ValidationError) => ({ code: err.code, field: err.data?.[0]?.field }));
      const firstPage = (pages: AsyncIterable<unknown>) => pages[Symbol.asyncIterator]().next();
      expect(await refusal(firstPage(store.readCandles(A, { from: Number.NaN, to: 1 })))).toEqual({ code: 422, field: "from" });
      expect(await refusal(firstPage(store.readTrades(A, { from: 0, to: 1.5 })))).toEqual({ code: 422, field: "to" });
      expect(await refusal(firstPage(store.readBooks(A, { from: 0, to: 1 }, 0)))).toEqual({ code: 422, field: "pageSize" });
      expect(await refusal(store.resample(A, "2h; DROP TABLE candles" as Timeframe, { from: 0, to: 1 }))).toEqual({ code: 422, field: "timeframe" });
      expect(await refusal(store.deleteOlderThan("trades", -1))).toEqual({ code: 422, field: "maxAgeMs" });
    });

    it("keeps one row per key: a redelivered row replaces the stored one, the last of a batch wins", async () => {
      const candles = minuteCandles(A, JAN_1, 30);
      await store.writeCandles(candles);
      await store.writeCandles(candles);
      const corrected = { ...candles[5], close: "1.5", volume: "2.25" };
      await store.writeCandles([candles[5], corrected]);
      const trade: StoredTrade = { instrumentKey: A, time: JAN_1, tradeId: "42", price: "93500", quantity: "0.1", takerSide: "BUY" };
      await store.writeTrades([trade, trade]);
      await store.writeTrades([trade]);
      const book: StoredBook = { instrumentKey: A, time: JAN_1, bids: [["1", "1"]], asks: [["2", "1"]] };
      await store.writeBooks([book]);
      await store.writeBooks([{ ...book, asks: [["3", "1"]] }]);

      const range = { from: JAN_1, to: JAN_1 + DAY };
      const read = (await collect(store.readCandles(A, range))).rows;
      expect(read).toHaveLength(30);
      expect(read[5]).toEqual(corrected);
      expect(read.filter((_, i) => i !== 5)).toEqual(candles.filter((_, i) => i !== 5));
      expect((await collect(store.readTrades(A, range))).rows).toEqual([trade]);
      expect((await collect(store.readBooks(A, range))).rows).toEqual([{ ...book, asks: [["3", "1"]] }]);
      const [coverage] = await store.coverage(A);
      expect(coverage.candles?.rows).toBe(30);
      expect(coverage.trades?.rows).toBe(1);
      expect(coverage.books?.rows).toBe(1);
    });

    it("keeps every row of writes made at once, as ingestion's partitions make them", async () => {
      const trades: StoredTrade[] = Array.from({ length: 600 }, (_, i) => ({
        instrumentKey: i % 2 === 0 ? A : B,
        time: JAN_1 + Math.floor(i / 3),
        tradeId: `${i}`,
        price: `${1000 + i}.5`,
        quantity: "0.25",
        takerSide: i % 3 === 0 ? "SELL" : "BUY",
      }));
      const candles = minuteCandles(A, JAN_1, 50);
      await Promise.all([
        ...Array.from({ length: 6 }, (_, w) => store.writeTrades(trades.filter((_, i) => i % 6 === w))),
        store.writeCandles(candles.slice(0, 25)),
        store.writeCandles(candles.slice(25)),
      ]);
      const range = { from: JAN_1, to: JAN_1 + DAY };
      const byKey = (a: StoredTrade, b: StoredTrade) => a.time - b.time || (a.tradeId < b.tradeId ? -1 : 1);
      expect((await collect(store.readTrades(A, range))).rows).toEqual(trades.filter((t) => t.instrumentKey === A).sort(byKey));
      expect((await collect(store.readTrades(B, range))).rows).toEqual(trades.filter((t) => t.instrumentKey === B).sort(byKey));
      expect((await collect(store.readCandles(A, range))).rows).toEqual(candles);
    });

    it("reads a range in time order, a page at a time, keeping instruments apart", async () => {
      const candles = minuteCandles(A, JAN_1, 2500);
      // Written out of order and in several batches, with another instrument's rows in between.
      await store.writeCandles(candles.slice(1200).reverse());
      await store.writeCandles(minuteCandles(B, JAN_1, 100));
      await store.writeCandles(candles.slice(0, 1200));
      const whole = await collect(store.readCandles(A, { from: JAN_1, to: JAN_1 + DAY * 3 }, 1000));
      expect(whole.sizes).toEqual([1000, 1000, 500]);
      expect(whole.rows).toEqual(candles);
      const part = await collect(store.readCandles(A, { from: JAN_1 + 10 * MIN, to: JAN_1 + 20 * MIN }, 4));
      expect(part.sizes).toEqual([4, 4, 2]);
      expect(part.rows).toEqual(candles.slice(10, 20));

      // Trades sharing a millisecond are ordered by id and no page boundary loses or repeats one.
      const trades: StoredTrade[] = ["c", "a", "b", "e", "d"].map((tradeId, i) => ({
        instrumentKey: A,
        time: JAN_1 + (i < 3 ? 5 : 9),
        tradeId,
        price: `${i + 1}`,
        quantity: "1",
        takerSide: "BUY",
      }));
      await store.writeTrades(trades);
      const tradePages = await collect(store.readTrades(A, { from: JAN_1, to: JAN_1 + MIN }, 2));
      expect(tradePages.sizes).toEqual([2, 2, 1]);
      expect(tradePages.rows.map((t) => `${t.time - JAN_1}${t.tradeId}`)).toEqual(["5a", "5b", "5c", "9d", "9e"]);
    });

    it("resamples to every timeframe as an independent computation over the same rows does", async () => {
      // Three days less a few minutes, with missing minutes, read over a range that cuts buckets at both ends.
      const candles = minuteCandles(A, JAN_1, 3 * 1440 - 7, (i) => i % 97 === 3 || (i >= 600 && i < 700));
      await store.writeCandles(candles);
      const range = { from: JAN_1 + 7 * MIN, to: JAN_1 + 2 * DAY + 13 * MIN };
      for (const timeframe of TIMEFRAMES) {
        const expected = resampledByHand(candles, timeframe, range);
        expect({ timeframe, candles: await store.resample(A, timeframe, range) }).toEqual({ timeframe, candles: expected });
      }
      const wholeDays = await store.resample(A, "1d", { from: JAN_1, to: JAN_1 + 3 * DAY });
      expect(wholeDays).toEqual(resampledByHand(candles, "1d", { from: JAN_1, to: JAN_1 + 3 * DAY }));
      expect(wholeDays).toHaveLength(3);
    });

    it("keeps the indicators of 1-minute candles: feature values read back as the same numbers, one row per key", async () => {
      const candles = minuteCandles(A, JAN_1, 40);
      const rows = indicatorRows(candles);
      await store.writeIndicators(rows.slice(20));
      await store.writeIndicators(rows);
      const corrected = { ...rows[7], close: "1.25", features: { ...rows[7].features, rsi14: 71.25 }, receivedAt: rows[7].receivedAt + 1 };
      await store.writeIndicators([rows[7], corrected]);
      await store.writeIndicators(indicatorRows(minuteCandles(B, JAN_1, 3)));
      const expected = rows.map((r, i) => (i === 7 ? corrected : r));
      const read = await collect(store.readIndicators(A, { from: JAN_1, to: JAN_1 + DAY }, 16));
      expect(read.sizes).toEqual([16, 16, 8]);
      expect(read.rows).toEqual(expected);
      // Exactly the same doubles, not merely close ones.
      read.rows.forEach((r, i) => Object.entries(expected[i].features).forEach(([name, value]) => expect(Object.is(r.features[name as keyof FeatureVector], value)).toBe(true)));
      expect((await collect(store.readIndicators(A, { from: JAN_1 + 5 * MIN, to: JAN_1 + 9 * MIN }))).rows).toEqual(expected.slice(5, 9));
      const [coverage] = await store.coverage(A);
      expect(coverage.indicators).toEqual({ first: JAN_1, last: JAN_1 + 39 * MIN, rows: 40 });
    });

    it("refuses an indicator row it cannot keep exactly with a 422 naming the field", async () => {
      const [row] = indicatorRows(minuteCandles(A, JAN_1, 1));
      const refusal = (work: Promise<unknown>) => work.then(() => undefined, (err: Errors.ValidationError) => ({ code: err.code, field: err.data?.[0]?.field }));
      expect(await refusal(store.writeIndicators([row, { ...row, features: { ...row.features, rsi14: Number.NaN } }]))).toEqual({ code: 422, field: "indicators[1].features.rsi14" });
      expect(await refusal(store.writeIndicators([{ ...row, features: { ...row.features, atr14: Infinity } }]))).toEqual({ code: 422, field: "indicators[0].features.atr14" });
      expect(await refusal(store.writeIndicators([{ ...row, timeframe: "5m" as "1m" }]))).toEqual({ code: 422, field: "indicators[0].timeframe" });
      expect(await refusal(store.writeIndicators([{ ...row, instrumentKey: "BTC/USDT" }]))).toEqual({ code: 422, field: "indicators[0].instrumentKey" });
      expect(await refusal(store.writeIndicators([{ ...row, close: "1e3" }]))).toEqual({ code: 422, field: "indicators[0].close" });
      expect(await store.coverage()).toEqual([]);
    });

    it("serves the newest candles of every timeframe in a window, oldest first, across gaps", async () => {
      // Two days, then nothing for two days, then half a day: the newest buckets of a window can lie either side of the gap.
      const candles = [
        ...minuteCandles(A, JAN_1, 2 * 1440, (i) => i % 89 === 5),
        ...minuteCandles(A, JAN_1 + 4 * DAY + 3 * MIN, 720),
      ];
      await store.writeCandles(candles);
      await store.writeCandles(minuteCandles(B, JAN_1 + 5 * DAY, 10));
      const windows: RecentWindow[] = [
        { limit: 3 },
        { limit: 500 },
        { limit: 5000 },
        { before: JAN_1 + 4 * DAY + 30 * MIN, limit: 40 },
        { before: JAN_1 + DAY + 17 * MIN + 1, limit: 7 },
        { after: JAN_1 + 4 * DAY + 600 * MIN - 1, limit: 1000 },
        { after: JAN_1 + 10 * MIN, before: JAN_1 + 4 * DAY + 30 * MIN, limit: 30 },
        { after: JAN_1 + 1439 * MIN, before: JAN_1 + 1441 * MIN, limit: 10 },
        { after: JAN_1 + 6 * DAY, limit: 10 },
      ];
      for (const timeframe of TIMEFRAMES) {
        const all = resampledByHand(candles, timeframe, { from: 0, to: JAN_1 + 10 * DAY });
        for (const window of windows) {
          expect({ timeframe, window, candles: await store.recentCandles(A, timeframe, window) }).toEqual({ timeframe, window, candles: recentByHand(all, window) });
        }
      }
      expect(await store.recentCandles("binance:SOL/USDT", "1h", { limit: 10 })).toEqual([]);
      // With the clock before the newest rows (a store looks back from now first), the newest are still found.
      const now = clock.now();
      clock.set(JAN_1 + DAY);
      try {
        expect(await store.recentCandles(A, "1h", { limit: 5 })).toEqual(recentByHand(resampledByHand(candles, "1h", { from: 0, to: JAN_1 + 10 * DAY }), { limit: 5 }));
      } finally {
        clock.set(now);
      }
    });

    it("serves the newest indicator rows of a window, oldest first", async () => {
      const rows = indicatorRows([...minuteCandles(A, JAN_1, 200), ...minuteCandles(A, JAN_1 + 3 * DAY, 50)]);
      await store.writeIndicators(rows);
      for (const window of [{ limit: 20 }, { limit: 1000 }, { before: JAN_1 + 3 * DAY + 5 * MIN, limit: 10 }, { after: JAN_1 + 150 * MIN, before: JAN_1 + 3 * DAY + 5 * MIN, limit: 100 }]) {
        expect({ window, rows: await store.recentIndicators(A, window) }).toEqual({ window, rows: recentByHand(rows, window) });
      }
    });

    it("refuses a bad window with a 422 naming its field", async () => {
      const refusal = (work: Promise<unknown>) => work.then(() => undefined, (err: Errors.ValidationError) => ({ code: err.code, field: err.data?.[0]?.field }));
      expect(await refusal(store.recentCandles(A, "1h", { limit: 0 }))).toEqual({ code: 422, field: "limit" });
      expect(await refusal(store.recentCandles(A, "1m", { limit: 2.5 }))).toEqual({ code: 422, field: "limit" });
      expect(await refusal(store.recentCandles(A, "1m", { before: Number.NaN, limit: 5 }))).toEqual({ code: 422, field: "before" });
      expect(await refusal(store.recentIndicators(A, { after: -1, limit: 5 }))).toEqual({ code: 422, field: "after" });
      expect(await refusal(store.recentCandles(A, "3m" as Timeframe, { limit: 5 }))).toEqual({ code: 422, field: "timeframe" });
    });

    it("reports coverage per instrument with the gaps in its 1-minute candles", async () => {
      await store.writeCandles(minuteCandles(A, JAN_1, 40, (i) => (i >= 10 && i < 15) || i === 30));
      await store.writeCandles(minuteCandles(B, JAN_1 + DAY, 5));
      await store.writeTrades([{ instrumentKey: B, time: JAN_1 + DAY + 5, tradeId: "1", price: "1", quantity: "1", takerSide: "SELL" }]);
      expect(await store.coverage()).toEqual([
        {
          instrumentKey: A,
          candles: {
            first: JAN_1,
            last: JAN_1 + 39 * MIN,
            rows: 34,
            gaps: [
              { from: JAN_1 + 10 * MIN, to: JAN_1 + 15 * MIN },
              { from: JAN_1 + 30 * MIN, to: JAN_1 + 31 * MIN },
            ],
          },
        },
        {
          instrumentKey: B,
          candles: { first: JAN_1 + DAY, last: JAN_1 + DAY + 4 * MIN, rows: 5, gaps: [] },
          trades: { first: JAN_1 + DAY + 5, last: JAN_1 + DAY + 5, rows: 1 },
        },
      ]);
      expect((await store.coverage(B)).map((c) => c.instrumentKey)).toEqual([B]);
    });

    it("drops rows older than the retention boundary of their kind: whole UTC days of trades and books, months of candles and indicators", async () => {
      const march = Date.UTC(2024, 2, 1);
      const trades: StoredTrade[] = [0, 1, 2].map((day) => ({ instrumentKey: A, time: march + day * DAY + 1000, tradeId: `${day}`, price: "1", quantity: "1", takerSide: "BUY" }));
      const books: StoredBook[] = [0, 1, 2].map((day) => ({ instrumentKey: A, time: march + day * DAY + 2000, bids: [["1", "1"]], asks: [["2", "1"]] }));
      const candles = [Date.UTC(2024, 0, 20), Date.UTC(2024, 1, 20), Date.UTC(2024, 2, 2)].flatMap((start) => minuteCandles(A, start, 3));
      const indicators = indicatorRows(candles);
      await store.writeTrades(trades);
      await store.writeBooks(books);
      await store.writeCandles(candles);
      await store.writeIndicators(indicators);

      // now = Mar 3 12:00: 1.5 days back is Mar 2 00:00, so Mar 1 goes; 20 days back is Feb 12, in February, so January goes.
      await store.deleteOlderThan("trades", 1.5 * DAY);
      await store.deleteOlderThan("candles", 20 * DAY);
      await store.deleteOlderThan("indicators", 40 * DAY);
      const everything = { from: 0, to: Date.UTC(2025, 0, 1) };
      expect((await collect(store.readTrades(A, everything))).rows).toEqual(trades.slice(1));
      expect((await collect(store.readBooks(A, everything))).rows).toEqual(books);
      expect((await collect(store.readCandles(A, everything))).rows).toEqual(candles.slice(3));
      // 40 days back is Jan 23: January's indicators stay, whole months go.
      expect((await collect(store.readIndicators(A, everything))).rows).toEqual(indicators);
      await store.deleteOlderThan("indicators", 30 * DAY);
      expect((await collect(store.readIndicators(A, everything))).rows).toEqual(indicators.slice(3));
      await store.deleteOlderThan("books", 0.25 * DAY);
      expect((await collect(store.readBooks(A, everything))).rows).toEqual(books.slice(2));
    });
  });
}
