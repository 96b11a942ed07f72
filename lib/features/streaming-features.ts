/**
 * Streaming indicators for one instrument: every closed candle updates each indicator in constant
 * time (technicalindicators' incremental `nextValue` API plus O(1) running sums), so the features
 * service never recomputes over history.
 */
import { ATR, BollingerBands, EMA, MACD, RSI, SMA } from "technicalindicators";
import type { Candle, FeatureVector } from "../types";

/** Number of 1-minute log returns behind the realized volatility. */
export const VOLATILITY_WINDOW = 30;

/**
 * Candles needed for the first feature vector. The slowest is the MACD histogram: the MACD line
 * starts on candle 26 (EMA 26) and its signal line, an EMA 9 of it, 8 candles later. The realized
 * volatility needs 31 candles (30 returns), ATR and RSI 15, the others at most 26.
 */
export const WARMUP_CANDLES = 34;

/** The candle fields the features are computed from (a `Candle` or a `CandleEvent` fits). */
export type CandleInput = Pick<Candle, "openTime" | "high" | "low" | "close">;

/** Standard deviation of the last `size` values, kept with a ring buffer and running sums. */
class RollingStdDev {
  private readonly ring: Float64Array;
  private next = 0;
  private filled = 0;
  private sum = 0;
  private sumSq = 0;

  constructor(private readonly size: number) {
    this.ring = new Float64Array(size);
  }

  /** The sample standard deviation once `size` values are in, undefined before. */
  push(x: number): number | undefined {
    if (this.filled === this.size) {
      const old = this.ring[this.next];
      this.sum -= old;
      this.sumSq -= old * old;
    } else {
      this.filled++;
    }
    this.ring[this.next] = x;
    this.sum += x;
    this.sumSq += x * x;
    this.next = (this.next + 1) % this.size;
    // Add/subtract drifts over millions of updates: re-sum exactly once per lap (amortised O(1)).
    if (this.next === 0) this.resum();
    if (this.filled < this.size) return undefined;
    const variance = (this.sumSq - (this.sum * this.sum) / this.size) / (this.size - 1);
    return Math.sqrt(Math.max(0, variance));
  }

  private resum(): void {
    let sum = 0;
    let sumSq = 0;
    for (const x of this.ring) {
      sum += x;
      sumSq += x * x;
    }
    this.sum = sum;
    this.sumSq = sumSq;
  }
}

export class FeatureCalculator {
  private readonly rsi = new RSI({ period: 14, values: [] });
  private readonly macdIndicator = new MACD({
    values: [],
    fastPeriod: 12,
    slowPeriod: 26,
    signalPeriod: 9,
    SimpleMAOscillator: false,
    SimpleMASignal: false,
  });
  private readonly bb = new BollingerBands({ period: 20, stdDev: 2, values: [] });
  private readonly atr = new ATR({ period: 14, high: [], low: [], close: [] });
  private readonly ema12 = new EMA({ period: 12, values: [] });
  private readonly ema26 = new EMA({ period: 26, values: [] });
  private readonly sma20 = new SMA({ period: 20, values: [] });
  private readonly volatility = new RollingStdDev(VOLATILITY_WINDOW);
  private prevClose: number | undefined;
  private lastOpenTime = -Infinity;
  private updates = 0;

  /** Candles consumed so far. */
  get count(): number {
    return this.updates;
  }

  /** True once `update` returns feature vectors. */
  get warm(): boolean {
    return this.updates >= WARMUP_CANDLES;
  }

  /** Open time of the last candle consumed, so callers can skip replayed candles before `update`. */
  get lastCandleOpenTime(): number | undefined {
    return this.updates === 0 ? undefined : this.lastOpenTime;
  }

  /**
   * Feeds one closed candle; returns its feature vector, or undefined while warming up. Candles
   * must come in increasing `openTime`: an indicator cannot un-see a candle, so a replayed or
   * out-of-order one is refused rather than silently corrupting every later value.
   */
  update(candle: CandleInput): FeatureVector | undefined {
    if (!(candle.openTime > this.lastOpenTime)) {
      throw new RangeError(`candle openTime ${candle.openTime} is not after the last one (${this.lastOpenTime})`);
    }
    const high = parse(candle.high, "high");
    const low = parse(candle.low, "low");
    const close = parse(candle.close, "close");
    this.lastOpenTime = candle.openTime;
    this.updates++;

    const rsi14 = this.rsi.nextValue(close);
    const macd = this.macdIndicator.nextValue(close);
    const bb = this.bb.nextValue(close);
    const atr14 = this.atr.nextValue({ high, low, close });
    const ema12: number | undefined = this.ema12.nextValue(close);
    const ema26: number | undefined = this.ema26.nextValue(close);
    const sma20 = this.sma20.nextValue(close);
    const prevClose = this.prevClose;
    this.prevClose = close;
    const realizedVolatility = prevClose === undefined ? undefined : this.volatility.push(Math.log(close / prevClose));

    if (
      prevClose === undefined ||
      rsi14 === undefined ||
      macd?.MACD === undefined ||
      macd.histogram === undefined ||
      bb === undefined ||
      atr14 === undefined ||
      ema12 === undefined ||
      ema26 === undefined ||
      sma20 === undefined ||
      realizedVolatility === undefined
    ) {
      return undefined;
    }
    const bandWidth = bb.upper - bb.lower;
    return {
      close,
      return1: close / prevClose - 1,
      rsi14,
      macd: macd.MACD,
      // The library reports a signal of exactly 0 (flat prices) as missing, a truthiness test; its histogram is right.
      macdSignal: macd.signal ?? macd.MACD - macd.histogram,
      macdHistogram: macd.histogram,
      bbUpper: bb.upper,
      bbMiddle: bb.middle,
      bbLower: bb.lower,
      // Flat prices collapse the bands: the close then sits in the middle rather than at 0/0.
      bbPercentB: bandWidth > 0 ? (close - bb.lower) / bandWidth : 0.5,
      atr14,
      ema12,
      ema26,
      sma20,
      realizedVolatility,
    };
  }
}

function parse(value: string, field: string): number {
  const n = Number(value);
  // A NaN would poison every recursive average from here on, a non-positive price the log returns.
  if (!(Number.isFinite(n) && n > 0)) throw new RangeError(`candle ${field} "${value}" is not a positive number`);
  return n;
}
