/** Ingestion's rules for the market data store (lib/market/history.ts), without a broker or a store. */
import { Errors } from "moleculer";
import { GroupWriter, applyRetention, marketRows, storeFailure } from "../../lib/market/history";
import { DependencyUnavailableError, invalidField } from "../../lib/errors";
import type { MarketDataKind } from "../../lib/marketdata/types";
import type { MarketEvent } from "../../schemas";

const KEY = "binance:BTC/USDT";
const base = { instrumentKey: KEY, exchange: "binance", symbol: "BTC/USDT", receivedAt: 2 };
const candle = (closed: boolean): MarketEvent => ({
  kind: "candle", ...base, time: 60_000, timeframe: "1m", openTime: 0, closeTime: 59_999,
  open: "1", high: "2", low: "0.5", close: "1.5", volume: "3", tradeCount: 4, closed,
});

describe("market data rows of a batch of market events", () => {
  it("stores trades, books and closed candles, not tickers or candles still forming", () => {
    const events: MarketEvent[] = [
      { kind: "trade", ...base, time: 1, tradeId: "t1", price: "1.5", quantity: "0.2", takerSide: "SELL" },
      { kind: "ticker", ...base, time: 1, bid: "1", ask: "2", last: "1.5", bidQuantity: "1", askQuantity: "1" },
      { kind: "book", ...base, time: 5, bids: [["1", "2"]], asks: [["2", "3"]] },
      candle(false),
      candle(true),
    ];
    expect(marketRows(events)).toEqual({
      trades: [{ instrumentKey: KEY, time: 1, tradeId: "t1", price: "1.5", quantity: "0.2", takerSide: "SELL" }],
      books: [{ instrumentKey: KEY, time: 5, bids: [["1", "2"]], asks: [["2", "3"]] }],
      candles: [{ instrumentKey: KEY, openTime: 0, open: "1", high: "2", low: "0.5", close: "1.5", volume: "3", tradeCount: 4 }],
    });
  });
});

describe("store failures", () => {
  it("pass bad input on as it is, and make anything else the store's unavailability", () => {
    const refused = invalidField("candles[0].high", "must fit DECIMAL(18,8)", "1e30");
    expect(() => storeFailure(refused)).toThrow(refused);
    const down = (() => {
      try {
        storeFailure(Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:8812"), { code: "ECONNREFUSED" }));
      } catch (err) {
        return err;
      }
    })();
    expect(down).toBeInstanceOf(DependencyUnavailableError);
    expect(down).toBeInstanceOf(Errors.MoleculerRetryableError);
    expect((down as Error).message).toBe("market data store: connect ECONNREFUSED 127.0.0.1:8812");
  });
});

describe("retention", () => {
  it("drops each kind kept for a limited time, and leaves the kinds kept forever alone", async () => {
    const dropped: Array<[MarketDataKind, number]> = [];
    await applyRetention({ deleteOlderThan: async (kind, maxAge) => void dropped.push([kind, maxAge]) }, { candles: 0, indicators: 0, trades: 7, books: 2 });
    expect(dropped).toEqual([["trades", 7], ["books", 2]]);
  });
});

describe("group commit", () => {
  /** A store write the test finishes by hand. */
  function manualStore() {
    const writes: Array<{ rows: number[]; done: () => void; fail: (err: Error) => void }> = [];
    const write = (rows: number[]) => new Promise<void>((done, fail) => void writes.push({ rows, done, fail }));
    return { writes, write };
  }
  const settled = async (p: Promise<void>) => {
    let state = "pending";
    p.then(() => (state = "written"), () => (state = "failed"));
    await new Promise((r) => setImmediate(r));
    return state;
  };

  it("writes the rows handed in during a write together in the next one, settling each caller with its rows' write", async () => {
    const { writes, write } = manualStore();
    const writer = new GroupWriter(write);
    const first = writer.add([1, 2]);
    await new Promise((r) => setImmediate(r));
    const second = writer.add([3]);
    const third = writer.add([4, 5]);
    expect(writes.map((w) => w.rows)).toEqual([[1, 2]]);
    writes[0]!.done();
    expect(await settled(first)).toBe("written");
    expect(await settled(second)).toBe("pending");
    // One write for both callers that came while the first was in flight.
    expect(writes.map((w) => w.rows)).toEqual([[1, 2], [3, 4, 5]]);
    writes[1]!.done();
    expect([await settled(second), await settled(third)]).toEqual(["written", "written"]);
    await expect(writer.add([])).resolves.toBeUndefined();
    expect(writes).toHaveLength(2);
  });

  it("fails the callers of a failed write only, and goes on with the next", async () => {
    const { writes, write } = manualStore();
    const writer = new GroupWriter(write);
    const failed = writer.add([1]);
    await new Promise((r) => setImmediate(r));
    const next = writer.add([2]);
    writes[0]!.fail(new Error("store down"));
    await expect(failed).rejects.toThrow("store down");
    await new Promise((r) => setImmediate(r));
    expect(writes.map((w) => w.rows)).toEqual([[1], [2]]);
    writes[1]!.done();
    await expect(next).resolves.toBeUndefined();
  });
});
