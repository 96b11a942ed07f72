/**
 * Training data for the LSTM: candle series → feature vectors → windows of scale-free feature rows,
 * labelled with the next candle's return.
 */
import { FeatureCalculator, WARMUP_CANDLES } from "../features/streaming-features";
import type { Candle, FeatureVector, SignalAction } from "../../schemas";

/** The feature vector fields the model reads (see `featureRow` for how each is made scale-free). */
export const MODEL_FEATURES: (keyof FeatureVector)[] = [
  "return1",
  "rsi14",
  "macdHistogram",
  "bbPercentB",
  "atr14",
  "realizedVolatility",
  "ema12",
  "sma20",
];

/** Class order of the model's output (and of the one-hot labels). */
export const LABELS: readonly SignalAction[] = ["HOLD", "BUY", "SELL"];

export const DEFAULT_WINDOW_SIZE = 30;

/**
 * One model input row, in `MODEL_FEATURES` order. Every value is free of the price level
 * (returns, ratios to the close, bounded oscillators) so one model serves any instrument.
 */
export function featureRow(fv: FeatureVector): number[] {
  return [
    fv.return1,
    fv.rsi14 / 100,
    fv.macdHistogram / fv.close,
    fv.bbPercentB,
    fv.atr14 / fv.close,
    fv.realizedVolatility,
    fv.close / fv.ema12 - 1,
    fv.close / fv.sma20 - 1,
  ];
}

export interface Sample {
  /** `windowSize` feature rows, oldest first (rows are shared between overlapping windows: read only). */
  window: readonly (readonly number[])[];
  /** One-hot in `LABELS` order. */
  label: number[];
  /** Open time of the last candle of the window: orders samples of several instruments in time. */
  time: number;
}

/** Candles one series needs to yield `samples` samples (warm-up, one full window, one candle ahead per label). */
export function candlesNeeded(windowSize: number, samples = 1): number {
  return WARMUP_CANDLES + windowSize - 1 + samples;
}

/**
 * Default label threshold: half the median absolute 1-candle return over all series, so that
 * roughly a quarter of the labels are HOLD and the rest split between BUY and SELL.
 */
export function defaultThreshold(series: readonly (readonly Candle[])[]): number {
  const moves: number[] = [];
  for (const candles of series) {
    for (let i = 1; i < candles.length; i++) moves.push(Math.abs(Number(candles[i].close) / Number(candles[i - 1].close) - 1));
  }
  if (moves.length === 0) throw new Error("no returns to derive a label threshold from");
  moves.sort((a, b) => a - b);
  const mid = moves.length >> 1;
  const median = moves.length % 2 === 1 ? moves[mid] : (moves[mid - 1] + moves[mid]) / 2;
  return 0.5 * median;
}

/** Class of a next-candle return: BUY above +threshold, SELL below -threshold, HOLD in between. */
export function labelOf(nextReturn: number, threshold: number): SignalAction {
  return nextReturn > threshold ? "BUY" : nextReturn < -threshold ? "SELL" : "HOLD";
}

/** Windows of one instrument's candles (sorted by openTime), each labelled with the candle after it. */
export function buildSamples(candles: readonly Candle[], options: { windowSize?: number; threshold: number }): Sample[] {
  const windowSize = options.windowSize ?? DEFAULT_WINDOW_SIZE;
  const calculator = new FeatureCalculator();
  const rows: number[][] = [];
  const samples: Sample[] = [];
  for (let i = 0; i < candles.length; i++) {
    const fv = calculator.update(candles[i]);
    if (fv === undefined) continue;
    rows.push(featureRow(fv));
    if (rows.length < windowSize || i + 1 >= candles.length) continue;
    const label = labelOf(Number(candles[i + 1].close) / fv.close - 1, options.threshold);
    samples.push({
      window: rows.slice(rows.length - windowSize),
      label: LABELS.map((l) => (l === label ? 1 : 0)),
      time: candles[i].openTime,
    });
  }
  return samples;
}
