import {
  bucketOpenTime,
  fillMarkers,
  markersWithin,
  mergeByOpenTime,
  placeCandle,
  signalMarkers,
  timeframeOf,
  toChartTime,
  MINUTE_MS,
  TIMEFRAMES,
  TIMEFRAME_MS,
} from "../../dashboard/src/lib/chart-data";
import { TIMEFRAMES as STORE_TIMEFRAMES, TIMEFRAME_MS as STORE_TIMEFRAME_MS } from "../../lib/marketdata/types";
import { equityLine, isNewerSnapshot, withSnapshot } from "../../dashboard/src/lib/equity";
import type { DecisionRecord, Fill, TradingSignal } from "../../dashboard/src/lib/api";

const T0 = Date.UTC(2025, 10, 24, 9, 0);
const btc = { tickSize: "0.01", lotSize: "0.00001" } as never;

function signal(action: TradingSignal["action"], minute: number, id = `s${minute}`): TradingSignal {
  return { signalId: id, action, confidence: 0.726, marketTime: T0 + minute * MINUTE_MS + MINUTE_MS - 1 } as TradingSignal;
}

describe("live candles against the drawn history", () => {
  it("tells appends, replacements, gaps and stale bars apart", () => {
    expect(placeCandle(T0, T0 + MINUTE_MS)).toBe("append");
    expect(placeCandle(T0, T0)).toBe("replace");
    expect(placeCandle(T0, T0 + 3 * MINUTE_MS)).toBe("gap");
    expect(placeCandle(T0, T0 - MINUTE_MS)).toBe("older");
    expect(placeCandle(undefined, T0)).toBe("gap");
  });

  it("merges rows by open time, newer rows replacing older ones, keeping the newest", () => {
    const history = [{ openTime: 1, v: "a" }, { openTime: 2, v: "b" }, { openTime: 3, v: "c" }];
    const live = [{ openTime: 4, v: "d" }, { openTime: 3, v: "C" }];
    expect(mergeByOpenTime(history, live, 10).map((r) => r.v)).toEqual(["a", "b", "C", "d"]);
    expect(mergeByOpenTime(history, live, 2).map((r) => r.v)).toEqual(["C", "d"]);
  });
});

describe("timeframes", () => {
  it("are the store's, with the same bucket lengths", () => {
    expect(TIMEFRAMES).toEqual([...STORE_TIMEFRAMES]);
    expect(TIMEFRAME_MS).toEqual(STORE_TIMEFRAME_MS);
  });

  it("come from the URL, 1m when it names none or an unknown one", () => {
    expect(timeframeOf("4h")).toBe("4h");
    expect(timeframeOf(undefined)).toBe("1m");
    expect(timeframeOf("2h")).toBe("1m");
  });

  it("bucket times from the UTC epoch: 4h at 00, 04, 08 … UTC, 1d at midnight UTC", () => {
    const t = Date.UTC(2025, 10, 24, 9, 37, 12);
    expect(bucketOpenTime(t, "1m")).toBe(Date.UTC(2025, 10, 24, 9, 37));
    expect(bucketOpenTime(t, "15m")).toBe(Date.UTC(2025, 10, 24, 9, 30));
    expect(bucketOpenTime(t, "4h")).toBe(Date.UTC(2025, 10, 24, 8));
    expect(bucketOpenTime(t, "1d")).toBe(Date.UTC(2025, 10, 24));
  });

  it("place live bars by the timeframe's length", () => {
    const hour = 60 * MINUTE_MS;
    expect(placeCandle(T0, T0 + hour, "1h")).toBe("append");
    expect(placeCandle(T0, T0 + MINUTE_MS, "1h")).toBe("gap");
    expect(placeCandle(T0, T0 + 2 * hour, "1h")).toBe("gap");
  });

  it("put markers on the bar holding their minute", () => {
    const markers = signalMarkers([signal("BUY", 0), signal("SELL", 59)], "1h");
    expect(markers.map((m) => m.time)).toEqual([toChartTime(T0), toChartTime(T0)]);
    const approved = [{ clientOrderId: "o1", signal: { marketTime: T0 + 60 * MINUTE_MS - 1 } }] as DecisionRecord[];
    const fills = [{ clientOrderId: "o1", side: "BUY", quantity: "0.01", price: "60000" }] as Fill[];
    // The order executes in the minute after the signal's candle: the next hour's bar.
    expect(fillMarkers(fills, approved, btc, "1h").map((m) => m.time)).toEqual([toChartTime(T0 + 60 * MINUTE_MS)]);
  });
});

describe("chart markers", () => {
  it("draws BUY and SELL signals on their candle's bar and skips HOLD", () => {
    const markers = signalMarkers([signal("BUY", 0), signal("HOLD", 1), signal("SELL", 2)]);
    expect(markers).toEqual([
      expect.objectContaining({ time: toChartTime(T0), position: "belowBar", shape: "arrowUp", id: "signal:s0", label: "BUY signal 73 %" }),
      expect.objectContaining({ time: toChartTime(T0 + 2 * MINUTE_MS), position: "aboveBar", shape: "arrowDown", id: "signal:s2" }),
    ]);
  });

  it("draws one marker per filled order on the bar after its signal's candle, at the volume-weighted price", () => {
    const approved = [
      { clientOrderId: "o1", signal: { marketTime: T0 + MINUTE_MS - 1 } },
      { clientOrderId: "o2", signal: { marketTime: T0 + 5 * MINUTE_MS - 1 } },
    ] as DecisionRecord[];
    const fills = [
      { clientOrderId: "o1", side: "BUY", quantity: "0.01", price: "60000" },
      { clientOrderId: "o1", side: "BUY", quantity: "0.03", price: "60004" },
      { clientOrderId: "o2", side: "SELL", quantity: "0.04", price: "61000.005" },
      { clientOrderId: "unknown", side: "BUY", quantity: "1", price: "1" }, // its decision is not loaded: not drawn
    ] as Fill[];
    const markers = fillMarkers(fills, approved, btc);
    expect(markers).toEqual([
      expect.objectContaining({ id: "fill:o1", time: toChartTime(T0 + MINUTE_MS), position: "belowBar", shape: "circle", label: "Bought 0.04000 @ 60,003.00" }),
      expect.objectContaining({ id: "fill:o2", time: toChartTime(T0 + 5 * MINUTE_MS), position: "aboveBar", label: "Sold 0.04000 @ 61,000.01" }),
    ]);
  });

  it("keeps the markers of bars the chart has, sorted by time, one per id", () => {
    const markers = signalMarkers([signal("SELL", 9), signal("BUY", 1), signal("BUY", 5), signal("SELL", 5, "s5")]);
    const shown = markersWithin(markers, toChartTime(T0), toChartTime(T0 + 6 * MINUTE_MS));
    expect(shown.map((m) => [m.time, m.id])).toEqual([
      [toChartTime(T0 + MINUTE_MS), "signal:s1"],
      [toChartTime(T0 + 5 * MINUTE_MS), "signal:s5"],
    ]);
    expect(shown[1]!.shape).toBe("arrowDown"); // the later duplicate wins
    expect(markersWithin(markers, undefined, undefined)).toEqual([]);
  });
});

describe("equity curves", () => {
  it("keeps one ascending point per second, the last event of a second winning", () => {
    const line = equityLine([
      { time: 3_500, equity: "10002" },
      { time: 1_000, equity: "10000" },
      { time: 3_100, equity: "10001" },
    ]);
    expect(line).toEqual([{ time: 1, value: 10000 }, { time: 3, value: 10002 }]);
  });

  it("extends the curve with newer snapshots only", () => {
    const line = equityLine([{ time: 1_000, equity: "10000" }, { time: 5_000, equity: "10010" }]);
    expect(withSnapshot(line, { updatedAt: 9_000, equity: "10020.5" })).toEqual([...line, { time: 9, value: 10020.5 }]);
    expect(withSnapshot(line, { updatedAt: 5_400, equity: "10011" })).toEqual([line[0], { time: 5, value: 10011 }]);
    expect(withSnapshot(line, { updatedAt: 2_000, equity: "1" })).toBe(line);
    expect(withSnapshot([], { updatedAt: 2_000, equity: "1" })).toEqual([{ time: 2, value: 1 }]);
  });

  it("never rolls a portfolio back to an older snapshot", () => {
    expect(isNewerSnapshot(undefined, { updatedAt: 1 })).toBe(true);
    expect(isNewerSnapshot({ updatedAt: 5 }, { updatedAt: 5 })).toBe(true);
    expect(isNewerSnapshot({ updatedAt: 5 }, { updatedAt: 4 })).toBe(false);
  });
});
