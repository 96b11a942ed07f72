import { ATR, BollingerBands, EMA, MACD, RSI, SMA } from "technicalindicators";
import { FeatureCalculator, VOLATILITY_WINDOW, WARMUP_CANDLES, type CandleInput } from "../../lib/features/streaming-features";
import type { FeatureVector } from "../../lib/types";

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

  it.each([WARMUP_CANDLES, 100, 777])("equals the batch indicators after %i candles", (n) => {
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
      rsi14: last(RSI.calculate({ period: 14, values: close })),
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
  });

  it("keeps the realized volatility exact over many ring-buffer laps", () => {
    const candles = randomWalk(5000, 7);
    const { vectors } = feed(candles);
    const logReturns = candles.map((c, i) => (i === 0 ? NaN : Math.log(Number(c.close) / Number(candles[i - 1].close))));
    for (const i of [WARMUP_CANDLES - 1, 1000, 2999, 4999]) {
      const direct = sampleStdDev(logReturns.slice(i - VOLATILITY_WINDOW + 1, i + 1));
      expect(vectors[i]!.realizedVolatility).toBeCloseTo(direct, 14);
    }
  });

  it("handles flat prices: collapsed bands, zero MACD and volatility", () => {
    const flat: CandleInput[] = Array.from({ length: WARMUP_CANDLES }, (_, i) => ({ openTime: i * 60_000, high: "5", low: "5", close: "5" }));
    const fv = last(feed(flat).vectors)!;
    expect(fv).toMatchObject({ close: 5, return1: 0, macd: 0, macdSignal: 0, macdHistogram: 0, bbPercentB: 0.5, atr14: 0, realizedVolatility: 0, sma20: 5 });
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

function sampleStdDev(xs: number[]): number {
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  return Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (xs.length - 1));
}
