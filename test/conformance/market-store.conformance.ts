/** The market data store conformance suite: the same tests for the embedded store (DuckDB) and QuestDB. */
import { ManualClock, type Clock } from "../../lib/clock";
import { Dec, str } from "../../lib/decimal";
import { Errors } from "moleculer";
import { TIMEFRAMES, TIMEFRAME_MS, type MarketDataStore, type MinuteCandle, type StoredBook, type StoredTrade, type TimeRange, type Timeframe } from "../../lib/marketdata/types";

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
      ];
      const book: StoredBook = { instrumentKey: A, time: JAN_1 + 2, bids: [["93500.1", "0.30000001"], ["93500", "2"]], asks: [["93500.2", "0.00000001"]] };
      await store.writeCandles([candle]);
      await store.writeTrades(trades);
      await store.writeBooks([book]);
      const all = { from: JAN_1, to: JAN_1 + DAY };
      expect((await collect(store.readCandles(A, all))).rows).toEqual([candle]);
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

    it("drops rows older than the retention boundary of their kind: whole UTC days of trades and books, months of candles", async () => {
      const march = Date.UTC(2024, 2, 1);
      const trades: StoredTrade[] = [0, 1, 2].map((day) => ({ instrumentKey: A, time: march + day * DAY + 1000, tradeId: `${day}`, price: "1", quantity: "1", takerSide: "BUY" }));
      const books: StoredBook[] = [0, 1, 2].map((day) => ({ instrumentKey: A, time: march + day * DAY + 2000, bids: [["1", "1"]], asks: [["2", "1"]] }));
      const candles = [Date.UTC(2024, 0, 20), Date.UTC(2024, 1, 20), Date.UTC(2024, 2, 2)].flatMap((start) => minuteCandles(A, start, 3));
      await store.writeTrades(trades);
      await store.writeBooks(books);
      await store.writeCandles(candles);

      // now = Mar 3 12:00: 1.5 days back is Mar 2 00:00, so Mar 1 goes; 20 days back is Feb 12, in February, so January goes.
      await store.deleteOlderThan("trades", 1.5 * DAY);
      await store.deleteOlderThan("candles", 20 * DAY);
      const everything = { from: 0, to: Date.UTC(2025, 0, 1) };
      expect((await collect(store.readTrades(A, everything))).rows).toEqual(trades.slice(1));
      expect((await collect(store.readBooks(A, everything))).rows).toEqual(books);
      expect((await collect(store.readCandles(A, everything))).rows).toEqual(candles.slice(3));
      await store.deleteOlderThan("books", 0.25 * DAY);
      expect((await collect(store.readBooks(A, everything))).rows).toEqual(books.slice(2));
    });
  });
}
