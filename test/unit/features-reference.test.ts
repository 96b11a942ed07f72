/**
 * The streaming indicators against independent reference values: TA-Lib and a high-precision
 * textbook implementation (scripts/reference/make-indicator-fixtures.py), on 3000 synthetic
 * 1-minute candles with a flat start, trends, gaps filled with flat candles, a crash and a rebound.
 */
import fixture from "../fixtures/indicators/btc-usdt-1m.json";
import { FeatureCalculator, WARMUP_CANDLES } from "../../lib/features/streaming-features";
import type { FeatureVector } from "../../schemas";

type Feature = keyof FeatureVector;
const expected = fixture.expected as Record<Feature, Array<number | null>>;
const FEATURES = Object.keys(expected) as Feature[];
const RELATIVE = 1e-9;

/**
 * Allowed error: 1e-9 of the reference value. The MACD line, signal and histogram are differences
 * of EMAs at the price level and cross zero, where a relative error means nothing: their floor is
 * 1e-6 of the price (an absolute error of at most 1e-15 of the price). Every other feature is
 * compared purely relatively (the floor of 1e-12 only admits exact zeros such as a flat market's
 * volatility).
 */
function tolerance(feature: Feature, reference: number, close: number): number {
  const floor = feature.startsWith("macd") ? 1e-6 * close : 1e-12;
  return RELATIVE * Math.max(Math.abs(reference), floor);
}

describe("streaming indicators against the reference", () => {
  const calculator = new FeatureCalculator();
  const vectors = fixture.candles.map((candle) => calculator.update(candle));

  it("gives no value before the warm-up and a full vector from then on", () => {
    vectors.forEach((vector, i) => expect([i, vector === undefined]).toEqual([i, i < WARMUP_CANDLES - 1]));
    // The reference agrees on where each indicator starts: none of them later than the vector.
    for (const feature of FEATURES) expect([feature, expected[feature][WARMUP_CANDLES - 1]]).not.toEqual([feature, null]);
    expect(expected.macdSignal[WARMUP_CANDLES - 2]).toBeNull();
  });

  it.each(FEATURES)("%s equals the reference to 1e-9 relative at every candle after the warm-up", (feature) => {
    let checked = 0;
    let worst = 0;
    for (let i = WARMUP_CANDLES - 1; i < fixture.candles.length; i++) {
      const reference = expected[feature][i]!;
      const value = vectors[i]![feature];
      const error = Math.abs(value - reference) / tolerance(feature, reference, Number(fixture.candles[i].close));
      worst = Math.max(worst, error);
      if (!(error <= 1)) throw new Error(`${feature} at candle ${i}: ${value} vs reference ${reference}`);
      checked++;
    }
    expect(checked).toBe(fixture.candles.length - WARMUP_CANDLES + 1);
    expect(worst).toBeLessThanOrEqual(1);
  });

  it("reads RSI 50 when nothing has moved, and RSI is not rounded", () => {
    // The first 20 candles are flat: the first RSIs (candle 15 on) have zero average gain and loss.
    expect(expected.rsi14.slice(14, 20)).toEqual([50, 50, 50, 50, 50, 50]);
    const flat = new FeatureCalculator();
    const late = fixture.candles.slice(0, 20).map((c) => flat.update(c));
    expect(late.every((v) => v === undefined)).toBe(true);
    const fractional = vectors.filter((v) => v !== undefined && Math.abs(v.rsi14 * 100 - Math.round(v.rsi14 * 100)) > 1e-6);
    expect(fractional.length).toBeGreaterThan(fixture.candles.length / 2);
  });
});
