/**
 * The calculator's mechanics: warm-up, agreement with a second library, exact resumption from a
 * stored state, the decay of a cold start, flat markets. Exactness against TA-Lib and a
 * high-precision reference is in features-reference.test.ts.
 */
import { ATR, BollingerBands, EMA, MACD, RSI, SMA } from "technicalindicators";
import fixture from "../fixtures/indicators/btc-usdt-1m.json";
import { COLD_START_CANDLES, FeatureCalculator, VOLATILITY_WINDOW, WARMUP_CANDLES, type CandleInput, type FeatureState } from "../../lib/features/streaming-features";
import type { FeatureVector } from "../../schemas";

/** Seeded random walk of 1-minute candles (Park–Miller generator: the same series on every run). */
function randomWalk(n: number, seed = 42): CandleInput[] {
  let state = seed;
  const rnd = () => (state = (state * 16807) % 2147483647) / 2147483647;
  const candles: CandleInput[] = [];
  let price = 100;
  for (let i = 0; i < n; i++) {
    const open = price;
    price *= 1 + (rnd() - 0.5) * 0.004;
    candles.push({
      openTime: 1_700_000_000_000 + i * 60_000,
      high: (Math.max(open, price) * (1 + rnd() * 0.001)).toFixed(4),
      low: (Math.min(open, price) * (1 - rnd() * 0.001)).toFixed(4),
      close: price.toFixed(4),
    });
  }
  return candles;
}

function feed(candles: CandleInput[]): { calculator: FeatureCalculator; vectors: (FeatureVector | undefined)[] } {
  const calculator = new FeatureCalculator();
  return { calculator, vectors: candles.map((c) => calculator.update(c)) };
}

const last = <T>(values: T[]): T => values[values.length - 1];

describe("FeatureCalculator", () => {
  it("returns nothing until every indicator is warm, then a vector per candle", () => {
    const candles = randomWalk(WARMUP_CANDLES + 5);
    const calculator = new FeatureCalculator();
    candles.forEach((candle, i) => {
      const fv = calculator.update(candle);
      expect(calculator.count).toBe(i + 1);
      expect(calculator.warm).toBe(i + 1 >= WARMUP_CANDLES);
      if (i + 1 < WARMUP_CANDLES) expect(fv).toBeUndefined();
      else for (const value of Object.values(fv!)) expect(Number.isFinite(value)).toBe(true);
    });
    expect(WARMUP_CANDLES).toBe(34);
  });

  // technicalindicators is a second implementation of the same definitions; its RSI is rounded to
  // 2 decimals, so it only bounds ours to 0.005 (the exact check is against TA-Lib).
  it.each([WARMUP_CANDLES, 100, 777])("equals technicalindicators' batch values after %i candles (its rounded RSI to 0.005)", (n) => {
    const candles = randomWalk(n);
    const fv = last(feed(candles).vectors)!;
    const close = candles.map((c) => Number(c.close));
    const high = candles.map((c) => Number(c.high));
    const low = candles.map((c) => Number(c.low));

    const macd = last(MACD.calculate({ values: close, fastPeriod: 12, slowPeriod: 26, signalPeriod: 9, SimpleMAOscillator: false, SimpleMASignal: false }));
    const bb = last(BollingerBands.calculate({ period: 20, stdDev: 2, values: close }));
    const expected: FeatureVector = {
      close: last(close),
      return1: last(close) / close[n - 2] - 1,
      rsi14: fv.rsi14,
      macd: macd.MACD!,
      macdSignal: macd.signal!,
      macdHistogram: macd.histogram!,
      bbUpper: bb.upper,
      bbMiddle: bb.middle,
      bbLower: bb.lower,
      bbPercentB: (last(close) - bb.lower) / (bb.upper - bb.lower),
      atr14: last(ATR.calculate({ period: 14, high, low, close })),
      ema12: last(EMA.calculate({ period: 12, values: close })),
      ema26: last(EMA.calculate({ period: 26, values: close })),
      sma20: last(SMA.calculate({ period: 20, values: close })),
      realizedVolatility: sampleStdDev(close.slice(-VOLATILITY_WINDOW - 1).map((c, i, a) => (i === 0 ? NaN : Math.log(c / a[i - 1]))).slice(1)),
    };
    expect(Object.keys(fv).sort()).toEqual(Object.keys(expected).sort());
    for (const key of Object.keys(expected) as (keyof FeatureVector)[]) {
      expect([key, fv[key]]).toEqual([key, expect.closeTo(expected[key], 9)]);
    }
    const roundedRsi = last(RSI.calculate({ period: 14, values: close }));
    expect(Math.abs(fv.rsi14 - roundedRsi)).toBeLessThanOrEqual(0.005 + 1e-12);
  });

  it("keeps the realized volatility exact over many window laps", () => {
    const candles = randomWalk(5000, 7);
    const { vectors } = feed(candles);
    const logReturns = candles.map((c, i) => (i === 0 ? NaN : Math.log(Number(c.close) / Number(candles[i - 1].close))));
    for (const i of [WARMUP_CANDLES - 1, 1000, 2999, 4999]) {
      const direct = sampleStdDev(logReturns.slice(i - VOLATILITY_WINDOW + 1, i + 1));
      expect(vectors[i]!.realizedVolatility).toBeCloseTo(direct, 14);
    }
  });

  it("handles flat prices: RSI 50, collapsed bands, zero MACD and volatility", () => {
    const flat: CandleInput[] = Array.from({ length: WARMUP_CANDLES }, (_, i) => ({ openTime: i * 60_000, high: "5", low: "5", close: "5" }));
    const fv = last(feed(flat).vectors)!;
    expect(fv).toEqual({
      close: 5, return1: 0, rsi14: 50, macd: 0, macdSignal: 0, macdHistogram: 0, bbUpper: 5, bbMiddle: 5, bbLower: 5,
      bbPercentB: 0.5, atr14: 0, ema12: 5, ema26: 5, sma20: 5, realizedVolatility: 0,
    });
  });

  it("across a gap filled with flat candles: RSI holds its value, ATR decays, bands and volatility collapse", () => {
    const moving = randomWalk(200);
    const lastClose = last(moving).close;
    const gap: CandleInput[] = Array.from({ length: 60 }, (_, i) => ({ openTime: last(moving).openTime + (i + 1) * 60_000, high: lastClose, low: lastClose, close: lastClose }));
    const { vectors } = feed([...moving, ...gap]);
    const before = vectors[199]!;
    const during = vectors.slice(200);
    // Wilder's averages of gain and loss shrink by the same factor: their ratio, the RSI, stays.
    for (const fv of during) expect(fv!.rsi14).toBeCloseTo(before.rsi14, 9);
    expect(during[59]!.atr14).toBeCloseTo(before.atr14 * (13 / 14) ** 60, 9);
    expect(during[59]).toMatchObject({ return1: 0, realizedVolatility: 0, bbPercentB: 0.5, bbUpper: Number(lastClose), bbLower: Number(lastClose) });
    expect(Math.abs(during[59]!.macd)).toBeLessThan(Math.abs(before.macd));
  });

  it("resumes from a stored state exactly where an uninterrupted run is", () => {
    const candles = fixture.candles;
    const uninterrupted = feed(candles).vectors;
    for (const cut of [1, WARMUP_CANDLES - 1, 500, 1234, 2999]) {
      const first = new FeatureCalculator();
      candles.slice(0, cut).forEach((c) => first.update(c));
      // The state as the service stores it: through JSON.
      const stored = JSON.parse(JSON.stringify(first.snapshot())) as FeatureState;
      const resumed = new FeatureCalculator(stored);
      expect(resumed.count).toBe(cut);
      expect(resumed.lastCandleOpenTime).toBe(candles[cut - 1].openTime);
      expect(candles.slice(cut).map((c) => resumed.update(c))).toEqual(uninterrupted.slice(cut));
    }
    expect(() => new FeatureCalculator({ ...initialState(), version: 2 } as unknown as FeatureState)).toThrow(/version 2/);
  });

  it(`forgets how it started within ${COLD_START_CANDLES} candles, to 1e-9 relative`, () => {
    // A cold start (no stored state) warms up on the latest COLD_START_CANDLES stored candles; its
    // next values must be the uninterrupted run's. Both runs go through the fixture's crash and gaps.
    const candles = fixture.candles;
    const uninterrupted = feed(candles).vectors;
    for (const start of [0, 700, 1000, 1700]) {
      const cold = new FeatureCalculator();
      const vectors = candles.slice(start).map((c) => cold.update(c));
      for (let i = start + COLD_START_CANDLES; i < candles.length; i++) {
        const [got, want] = [vectors[i - start]!, uninterrupted[i]!];
        for (const key of Object.keys(want) as (keyof FeatureVector)[]) {
          const floor = key.startsWith("macd") ? 1e-6 * want.close : 1e-12;
          const error = Math.abs(got[key] - want[key]) / Math.max(Math.abs(want[key]), floor);
          if (!(error <= 1e-9)) throw new Error(`${key} at candle ${i} after a cold start at ${start}: ${got[key]} vs ${want[key]}`);
        }
      }
    }
  });

  it("refuses replayed or out-of-order candles and malformed prices without consuming them", () => {
    const [a, b] = randomWalk(2);
    const calculator = new FeatureCalculator();
    calculator.update(b);
    expect(() => calculator.update(b)).toThrow(RangeError);
    expect(() => calculator.update(a)).toThrow(/not after/);
    expect(() => calculator.update({ ...b, openTime: b.openTime + 60_000, close: "abc" })).toThrow(/close "abc"/);
    expect(() => calculator.update({ ...b, openTime: b.openTime + 60_000, low: "0" })).toThrow(/low "0"/);
    expect(calculator.count).toBe(1);
    expect(calculator.lastCandleOpenTime).toBe(b.openTime);
  });
});

function initialState(): FeatureState {
  return new FeatureCalculator().snapshot();
}

function sampleStdDev(xs: number[]): number {
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  return Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (xs.length - 1));
}
