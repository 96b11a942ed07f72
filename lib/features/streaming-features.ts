/**
 * Streaming indicators for one instrument: every closed candle updates each indicator in constant
 * time, so the features service never recomputes over history. The definitions (README, "Indicators")
 * are TA-Lib's, computed unrounded in double precision; the reference tests compare them with TA-Lib.
 *
 * The whole state is one plain JSON-safe object (`FeatureState`): the service stores it after every
 * candle and a restart resumes from it, so values after a restart are the uninterrupted run's, bit for bit.
 */
import type { Candle, FeatureVector } from "../../schemas";

/** Number of 1-minute log returns behind the realized volatility. */
export const VOLATILITY_WINDOW = 30;
export const RSI_PERIOD = 14;
export const ATR_PERIOD = 14;
export const BOLLINGER_PERIOD = 20;
export const BOLLINGER_STDDEV = 2;
export const MACD_FAST = 12;
export const MACD_SLOW = 26;
export const MACD_SIGNAL = 9;

/**
 * Candles needed for the first feature vector. The slowest is the MACD signal: the MACD line starts
 * on candle 26 (EMA 26) and its signal, an EMA 9 of it, 8 candles later. The realized volatility
 * needs 31 candles (30 returns), ATR and RSI 15, the others at most 26.
 */
export const WARMUP_CANDLES = MACD_SLOW + MACD_SIGNAL - 1;

/**
 * Candles a calculator without a stored state warms up on. The memory of how it started decays
 * like (25/27)^n (EMA 26) and (13/14)^n (Wilder's averages): after 600 candles by more than 1e-19,
 * so its values are an uninterrupted run's to far below 1e-9 (features.test.ts checks it).
 */
export const COLD_START_CANDLES = 600;

/** The candle fields the features are computed from (a `Candle` or a `CandleEvent` fits). */
export type CandleInput = Pick<Candle, "openTime" | "high" | "low" | "close">;

/** A moving average seeded with the simple average of its first n inputs (an EMA, or Wilder's average). */
interface SeededAverage {
  seen: number;
  seedSum: number;
  value: number | null;
}

/** Version 1 of the calculator's state; a stored state of another version is not resumed. */
export interface FeatureState {
  version: 1;
  count: number;
  lastOpenTime: number | null;
  prevClose: number | null;
  /** The last BOLLINGER_PERIOD closes, oldest first. */
  closes: number[];
  /** The last VOLATILITY_WINDOW log returns, oldest first. */
  logReturns: number[];
  ema12: SeededAverage;
  ema26: SeededAverage;
  macdSignal: SeededAverage;
  avgGain: SeededAverage;
  avgLoss: SeededAverage;
  atr: SeededAverage;
}

const seededAverage = (): SeededAverage => ({ seen: 0, seedSum: 0, value: null });

/** Adds `x` to the seed until `period` inputs are in, then moves the average by `next`. */
function seeded(s: SeededAverage, period: number, x: number, next: (value: number) => number): number | null {
  if (s.value === null) {
    s.seen++;
    s.seedSum += x;
    if (s.seen === period) s.value = s.seedSum / period;
  } else {
    s.value = next(s.value);
  }
  return s.value;
}

/** Exponential moving average, α = 2/(n+1). */
const ema = (s: SeededAverage, period: number, x: number) => seeded(s, period, x, (v) => (x - v) * (2 / (period + 1)) + v);

/** Wilder's average, α = 1/n. */
const wilder = (s: SeededAverage, period: number, x: number) => seeded(s, period, x, (v) => (v * (period - 1) + x) / period);

/** Keeps the last `size` values of `window`, oldest first (a fixed small window: O(size) per update). */
function pushWindow(window: number[], size: number, x: number): void {
  window.push(x);
  if (window.length > size) window.shift();
}

/** Mean, shifted by the first value: exact when every value is equal (flat prices give collapsed bands, not ulp noise). */
function mean(xs: readonly number[]): number {
  let sum = 0;
  for (const x of xs) sum += x - xs[0];
  return xs[0] + sum / xs.length;
}

/** Two-pass standard deviation (no catastrophic cancellation at price levels); `ddof` 0 = population, 1 = sample. */
function stdDev(xs: readonly number[], m: number, ddof: 0 | 1): number {
  let ss = 0;
  for (const x of xs) ss += (x - m) * (x - m);
  return Math.sqrt(ss / (xs.length - ddof));
}

function initialFeatureState(): FeatureState {
  return {
    version: 1,
    count: 0,
    lastOpenTime: null,
    prevClose: null,
    closes: [],
    logReturns: [],
    ema12: seededAverage(),
    ema26: seededAverage(),
    macdSignal: seededAverage(),
    avgGain: seededAverage(),
    avgLoss: seededAverage(),
    atr: seededAverage(),
  };
}

export class FeatureCalculator {
  private readonly s: FeatureState;

  /** A calculator resuming from a stored state (a copy is taken), or a fresh one. */
  constructor(state?: FeatureState) {
    if (state && state.version !== 1) throw new RangeError(`feature state version ${String(state.version)} is not supported`);
    this.s = state ? structuredClone(state) : initialFeatureState();
  }

  /** Candles consumed so far. */
  get count(): number {
    return this.s.count;
  }

  /** True once `update` returns feature vectors. */
  get warm(): boolean {
    return this.s.count >= WARMUP_CANDLES;
  }

  /** Open time of the last candle consumed, so callers can skip replayed candles before `update`. */
  get lastCandleOpenTime(): number | undefined {
    return this.s.lastOpenTime ?? undefined;
  }

  /** A copy of the state, JSON-safe: `new FeatureCalculator(state)` continues exactly from here. */
  /** An independent copy, to advance without touching this one. */
  clone(): FeatureCalculator {
    return new FeatureCalculator(this.s);
  }

  snapshot(): FeatureState {
    return structuredClone(this.s);
  }

  /**
   * Feeds one closed candle; returns its feature vector, or undefined while warming up (no value
   * rather than a partial one). Candles must come in increasing `openTime`: an indicator cannot
   * un-see a candle, so a replayed or out-of-order one is refused rather than silently corrupting
   * every later value.
   */
  update(candle: CandleInput): FeatureVector | undefined {
    const s = this.s;
    if (s.lastOpenTime !== null && !(candle.openTime > s.lastOpenTime)) {
      throw new RangeError(`candle openTime ${candle.openTime} is not after the last one (${s.lastOpenTime})`);
    }
    const high = parse(candle.high, "high");
    const low = parse(candle.low, "low");
    const close = parse(candle.close, "close");
    s.lastOpenTime = candle.openTime;
    s.count++;

    const prevClose = s.prevClose;
    s.prevClose = close;
    pushWindow(s.closes, BOLLINGER_PERIOD, close);
    const ema12 = ema(s.ema12, MACD_FAST, close);
    const ema26 = ema(s.ema26, MACD_SLOW, close);
    const macd = ema12 !== null && ema26 !== null ? ema12 - ema26 : null;
    const macdSignal = macd === null ? null : ema(s.macdSignal, MACD_SIGNAL, macd);
    if (prevClose === null) return undefined;

    const change = close - prevClose;
    const avgGain = wilder(s.avgGain, RSI_PERIOD, change > 0 ? change : 0);
    const avgLoss = wilder(s.avgLoss, RSI_PERIOD, change < 0 ? -change : 0);
    const trueRange = Math.max(high - low, Math.abs(high - prevClose), Math.abs(low - prevClose));
    const atr14 = wilder(s.atr, ATR_PERIOD, trueRange);
    pushWindow(s.logReturns, VOLATILITY_WINDOW, Math.log(close / prevClose));

    if (
      avgGain === null ||
      avgLoss === null ||
      atr14 === null ||
      ema12 === null ||
      ema26 === null ||
      macd === null ||
      macdSignal === null ||
      s.closes.length < BOLLINGER_PERIOD ||
      s.logReturns.length < VOLATILITY_WINDOW
    ) {
      return undefined;
    }
    const sma20 = mean(s.closes);
    const bandOffset = BOLLINGER_STDDEV * stdDev(s.closes, sma20, 0);
    const bbUpper = sma20 + bandOffset;
    const bbLower = sma20 - bandOffset;
    const gainAndLoss = avgGain + avgLoss;
    return {
      close,
      return1: close / prevClose - 1,
      // No movement at all over the averaging: neither overbought nor oversold.
      rsi14: gainAndLoss > 0 ? (100 * avgGain) / gainAndLoss : 50,
      macd,
      macdSignal,
      macdHistogram: macd - macdSignal,
      bbUpper,
      bbMiddle: sma20,
      bbLower,
      // Flat prices collapse the bands: the close then sits in the middle rather than at 0/0.
      bbPercentB: bandOffset > 0 ? (close - bbLower) / (bbUpper - bbLower) : 0.5,
      atr14,
      ema12,
      ema26,
      sma20,
      realizedVolatility: stdDev(s.logReturns, mean(s.logReturns), 1),
    };
  }
}

function parse(value: string, field: string): number {
  const n = Number(value);
  // A NaN would poison every recursive average from here on, a non-positive price the log returns.
  if (!(Number.isFinite(n) && n > 0)) throw new RangeError(`candle ${field} "${value}" is not a positive number`);
  return n;
}
