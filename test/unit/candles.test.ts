import { CandleBuilder, MAX_GAP_CANDLES, MINUTE_MS, minuteOf } from "../../lib/market/candles";

const T0 = Date.UTC(2024, 2, 1, 9, 30, 0); // a minute boundary
const SEC = 1000;

function builder(): CandleBuilder {
  return new CandleBuilder("sim:BTC/USDT", "sim", "BTC/USDT");
}

describe("CandleBuilder", () => {
  it("aggregates the trades of a minute and closes the candle on the next minute's trade", () => {
    const b = builder();
    expect(b.onTrade({ time: T0 + 1 * SEC, price: "100", quantity: "1" })).toEqual([]);
    expect(b.onTrade({ time: T0 + 20 * SEC, price: "105", quantity: "0.5" })).toEqual([]);
    expect(b.onTrade({ time: T0 + 40 * SEC, price: "99", quantity: "2" })).toEqual([]);
    expect(b.onTrade({ time: T0 + MINUTE_MS - 1, price: "101", quantity: "0.25" })).toEqual([]);
    expect(b.current()).toMatchObject({ open: "100", high: "105", low: "99", close: "101", volume: "3.75", tradeCount: 4, closed: false });

    const closed = b.onTrade({ time: T0 + MINUTE_MS, price: "102", quantity: "1" });
    expect(closed).toEqual([
      {
        kind: "candle",
        instrumentKey: "sim:BTC/USDT",
        exchange: "sim",
        symbol: "BTC/USDT",
        time: T0 + MINUTE_MS - 1,
        timeframe: "1m",
        openTime: T0,
        closeTime: T0 + MINUTE_MS - 1,
        open: "100",
        high: "105",
        low: "99",
        close: "101",
        volume: "3.75",
        tradeCount: 4,
        closed: true,
      },
    ]);
    expect(b.current()).toMatchObject({ openTime: T0 + MINUTE_MS, open: "102", tradeCount: 1 });
  });

  it("aligns candles to the UTC minute", () => {
    const b = builder();
    b.onTrade({ time: T0 + 30_500, price: "1", quantity: "1" });
    expect(b.current()).toMatchObject({ openTime: T0, closeTime: T0 + 59_999 });
    expect(minuteOf(T0 + 59_999)).toBe(T0);
    expect(minuteOf(T0 + 60_000)).toBe(T0 + MINUTE_MS);
  });

  it("sums volume in decimal, not in floats", () => {
    const b = builder();
    b.onTrade({ time: T0, price: "1", quantity: "0.1" });
    b.onTrade({ time: T0 + 1, price: "1", quantity: "0.2" });
    expect(b.current()!.volume).toBe("0.3");
  });

  it("fills minutes without trades with flat candles at the previous close", () => {
    const b = builder();
    b.onTrade({ time: T0 + 5 * SEC, price: "100", quantity: "1" });
    b.onTrade({ time: T0 + 50 * SEC, price: "101.5", quantity: "1" });
    const closed = b.onTrade({ time: T0 + 3 * MINUTE_MS + 7 * SEC, price: "103", quantity: "2" });
    expect(closed.map((c) => c.openTime)).toEqual([T0, T0 + MINUTE_MS, T0 + 2 * MINUTE_MS]);
    expect(closed[0]).toMatchObject({ close: "101.5", volume: "2", tradeCount: 2 });
    for (const flat of closed.slice(1)) {
      expect(flat).toMatchObject({ open: "101.5", high: "101.5", low: "101.5", close: "101.5", volume: "0", tradeCount: 0, closed: true });
      expect(flat.closeTime).toBe(flat.openTime + MINUTE_MS - 1);
    }
  });

  it("closes candles on time with closeUpTo, without waiting for a trade", () => {
    const b = builder();
    expect(b.closeUpTo(T0 + 10 * MINUTE_MS)).toEqual([]); // nothing traded yet
    b.onTrade({ time: T0 + 5 * SEC, price: "100", quantity: "1" });
    expect(b.closeUpTo(T0 + MINUTE_MS - 2)).toEqual([]);
    const first = b.closeUpTo(T0 + MINUTE_MS - 1);
    expect(first).toHaveLength(1);
    expect(first[0]).toMatchObject({ openTime: T0, close: "100", tradeCount: 1 });
    expect(b.current()).toBeUndefined();
    expect(b.closeUpTo(T0 + MINUTE_MS - 1)).toEqual([]); // idempotent

    // Minutes 1 and 2 end without trades; minute 3 is still running.
    const flats = b.closeUpTo(T0 + 3 * MINUTE_MS + 5 * SEC);
    expect(flats.map((c) => [c.openTime, c.close, c.volume])).toEqual([
      [T0 + MINUTE_MS, "100", "0"],
      [T0 + 2 * MINUTE_MS, "100", "0"],
    ]);
    // A trade in minute 3 does not re-emit anything, and its candle closes normally.
    expect(b.onTrade({ time: T0 + 3 * MINUTE_MS + 9 * SEC, price: "99", quantity: "3" })).toEqual([]);
    expect(b.closeUpTo(T0 + 4 * MINUTE_MS)).toEqual([
      expect.objectContaining({ openTime: T0 + 3 * MINUTE_MS, open: "99", close: "99", volume: "3", tradeCount: 1 }),
    ]);
  });

  it("ignores trades of a minute that is already closed", () => {
    const b = builder();
    b.onTrade({ time: T0 + MINUTE_MS + 1, price: "100", quantity: "1" });
    expect(b.onTrade({ time: T0 + 10, price: "90", quantity: "1" })).toEqual([]);
    b.closeUpTo(T0 + 2 * MINUTE_MS);
    expect(b.onTrade({ time: T0 + 2 * MINUTE_MS - 5, price: "80", quantity: "1" })).toEqual([]);
    expect(b.current()).toBeUndefined();
  });

  it("bounds the flat candles of a long gap to the most recent day", () => {
    const b = builder();
    b.onTrade({ time: T0, price: "100", quantity: "1" });
    const resume = T0 + 2000 * MINUTE_MS;
    const closed = b.onTrade({ time: resume, price: "100", quantity: "1" });
    expect(closed).toHaveLength(1 + MAX_GAP_CANDLES);
    expect(closed[0].openTime).toBe(T0);
    expect(closed[1].openTime).toBe(resume - MAX_GAP_CANDLES * MINUTE_MS);
    expect(closed[closed.length - 1].openTime).toBe(resume - MINUTE_MS);
  });
});
