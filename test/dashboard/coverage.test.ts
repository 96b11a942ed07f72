import { COVERAGE_KINDS, coverageRows, gapsText, storedOnlyInstruments } from "../../dashboard/src/lib/coverage";
import type { MarketCoverage } from "../../dashboard/src/lib/api";
import { MARKET_DATA_KINDS } from "../../lib/marketdata/types";

const T0 = Date.UTC(2025, 0, 1);
const MIN = 60_000;

const coverage: MarketCoverage[] = [
  {
    instrumentKey: "binance:ETH/USDT",
    candles: { first: T0, last: T0 + 1439 * MIN, rows: 1440 - 95, gaps: [{ from: T0 + 60 * MIN, to: T0 + 65 * MIN }, { from: T0 + 600 * MIN, to: T0 + 690 * MIN }] },
    indicators: { first: T0 + 33 * MIN, last: T0 + 1439 * MIN, rows: 1312 },
  },
  { instrumentKey: "binance:BTC/USDT", candles: { first: T0, last: T0 + MIN, rows: 2, gaps: [] }, trades: { first: T0, last: T0 + 5_000, rows: 7 } },
  { instrumentKey: "kraken:BTC/USD", trades: { first: T0, last: T0, rows: 1 } },
];

describe("stored market data", () => {
  it("lists every kind the store keeps", () => {
    expect([...COVERAGE_KINDS].sort()).toEqual([...MARKET_DATA_KINDS].sort());
  });

  it("offers the instruments with stored candles that are not registered, sorted", () => {
    expect(storedOnlyInstruments([{ instrumentKey: "binance:BTC/USDT" }], coverage)).toEqual(["binance:ETH/USDT"]);
    expect(storedOnlyInstruments([], coverage)).toEqual(["binance:BTC/USDT", "binance:ETH/USDT"]);
  });

  it("makes a row per instrument and kind held, with the candles' gaps summed and the largest one", () => {
    const rows = coverageRows(coverage);
    expect(rows.map((r) => r.id)).toEqual(["binance:ETH/USDT|candles", "binance:ETH/USDT|indicators", "binance:BTC/USDT|candles", "binance:BTC/USDT|trades", "kraken:BTC/USD|trades"]);
    expect(rows[0]).toEqual({
      id: "binance:ETH/USDT|candles",
      instrumentKey: "binance:ETH/USDT",
      kind: "candles",
      first: T0,
      last: T0 + 1439 * MIN,
      rows: 1345,
      gaps: { count: 2, missingMs: 95 * MIN, largest: { from: T0 + 600 * MIN, to: T0 + 690 * MIN } },
    });
    expect(rows.map(gapsText)).toEqual(["2 · 1 h 35 min missing", "", "none", "", ""]);
    expect(gapsText({ gaps: { count: 1, missingMs: 30 * MIN } })).toBe("1 · 30 min missing");
  });
});
