/**
 * The backtest metrics against independent reference values: empyrical 0.5.5 and a pandas / Python
 * `decimal` textbook implementation (scripts/reference/make-backtest-metrics-fixtures.py), on three
 * synthetic backtests: a random walk with wins and losses, no trade at all, and a drawdown that
 * never recovers.
 */
import randomWalk from "../fixtures/backtest-metrics/random-walk.json";
import noTrades from "../fixtures/backtest-metrics/no-trades.json";
import unrecovered from "../fixtures/backtest-metrics/unrecovered-drawdown.json";
import { computeMetrics, type BacktestMetrics, type MetricsInput } from "../../lib/backtest/metrics";

const RELATIVE = 1e-9;
const FIXTURES = { "random-walk": randomWalk, "no-trades": noTrades, "unrecovered-drawdown": unrecovered } as Record<
  string,
  { input: MetricsInput; expected: Record<keyof BacktestMetrics, number | string | null> }
>;
const HOUR = 3_600_000;
const START = 1_767_225_600_000;

/** Ratios to 1e-9 relative (a floor of 1e-12 admits only exact zeros); money strings and counts exactly. */
function expectMatches(actual: BacktestMetrics, expected: Record<string, number | string | null>): void {
  expect(Object.keys(actual).sort()).toEqual(Object.keys(expected).sort());
  for (const [key, reference] of Object.entries(expected)) {
    const value = actual[key as keyof BacktestMetrics];
    if (typeof reference === "number" && !Number.isInteger(reference)) {
      expect([key, typeof value]).toEqual([key, "number"]);
      const error = Math.abs((value as number) - reference);
      expect([key, error <= RELATIVE * Math.max(Math.abs(reference), 1e-12)]).toEqual([key, true]);
    } else {
      expect([key, value]).toEqual([key, reference]);
    }
  }
}

function flatInput(overrides: Partial<MetricsInput> = {}): MetricsInput {
  return {
    equity: [0, 1, 2, 3].map((i) => ({ time: START + i * HOUR, equity: ["1000", "1100", "990", "1210"][i] })),
    trades: [],
    startCash: "1000",
    range: { start: START, end: START + 3 * HOUR },
    openIntervals: [],
    buyAndHold: [],
    ...overrides,
  };
}

describe("backtest metrics against the reference", () => {
  it.each(Object.keys(FIXTURES))("%s equals the reference values", (name) => {
    const { input, expected } = FIXTURES[name];
    expectMatches(computeMetrics(input), expected);
  });

  it("the fixtures cover the edge cases they are named for", () => {
    expect(noTrades.expected).toMatchObject({ numberOfTrades: 0, sharpe: null, sortino: null, calmar: null, maxDrawdown: 0 });
    const { input } = FIXTURES["unrecovered-drawdown"];
    const peak = Math.max(...input.equity.map((s) => Number(s.equity)));
    expect(Number(input.equity[input.equity.length - 1].equity)).toBeLessThan(peak);
    const metrics = computeMetrics(input);
    // the peak is a sample; the duration runs from it to the end of the range
    const peakTime = input.equity.find((s) => Number(s.equity) === peak)!.time;
    expect(metrics.maxDrawdownDurationMs).toBe(input.range.end - peakTime);
  });
});

describe("backtest metrics edge cases", () => {
  it("gives null, not Infinity, for the profit factor with only winning trades", () => {
    const trade = { instrument: "BTC/USDT", entryTime: START, exitTime: START + HOUR, fees: "0.1", slippage: "0.02" };
    const metrics = computeMetrics(flatInput({ trades: [{ ...trade, pnl: "5.5" }, { ...trade, pnl: "0" }] }));
    expect(metrics).toMatchObject({ profitFactor: null, expectancy: null, winRate: 0.5, averageTrade: "2.75", feesPaid: "0.2", slippagePaid: "0.04" });
  });

  it("gives an expectancy of -1 and a profit factor of 0 with only losing trades", () => {
    const trade = { instrument: "BTC/USDT", entryTime: START, exitTime: START + HOUR, fees: "0", slippage: "0" };
    const metrics = computeMetrics(flatInput({ trades: [{ ...trade, pnl: "-3" }, { ...trade, pnl: "-1.000000000001" }] }));
    // the mean, -2.0000000000005, rounds half to even at 12 places
    expect(metrics).toMatchObject({ profitFactor: 0, expectancy: -1, winRate: 0, averageTrade: "-2", bestTrade: "-1.000000000001" });
  });

  it("counts overlapping open intervals once and clips them to the range", () => {
    const openIntervals = [
      { start: START - HOUR, end: START + HOUR },
      { start: START + HOUR / 2, end: START + HOUR + HOUR / 2 },
      { start: START + 2 * HOUR + HOUR / 2, end: START + 10 * HOUR },
    ];
    // covered: [START, START + 1.5 h) and [START + 2.5 h, end = START + 3 h): 2 h of 3
    expect(computeMetrics(flatInput({ openIntervals })).exposureTime).toBeCloseTo(2 / 3, 15);
  });

  it("measures a recovered drawdown from its peak to the first sample back at that peak", () => {
    const metrics = computeMetrics(flatInput());
    expect(metrics.maxDrawdown).toBeCloseTo(0.1, 15); // 1100 -> 990
    expect(metrics.maxDrawdownDurationMs).toBe(2 * HOUR); // 1100 at 1 h, 1210 at 3 h
  });

  it("gives null ratios from a single sample and -1 CAGR from a wiped-out account", () => {
    const metrics = computeMetrics(flatInput({ equity: [{ time: START, equity: "0" }] }));
    expect(metrics).toMatchObject({ totalReturn: -1, cagr: -1, annualVolatility: null, sharpe: null, sortino: null });
  });

  it("rejects unevenly spaced samples, an empty range and a zero equity before the last sample", () => {
    const equity = flatInput().equity.map((s, i) => (i === 2 ? { ...s, time: s.time + 1 } : s));
    expect(() => computeMetrics(flatInput({ equity }))).toThrow(/evenly spaced/);
    expect(() => computeMetrics(flatInput({ range: { start: START, end: START } }))).toThrow(/range/);
    const wipedOut = flatInput().equity.map((s, i) => (i === 1 ? { ...s, equity: "0" } : s));
    expect(() => computeMetrics(flatInput({ equity: wipedOut }))).toThrow(/positive before the last sample \(sample 1\)/);
  });
});
