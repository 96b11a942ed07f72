/** Rule-based strategy: MACD histogram zero crossings filtered by RSI, plus RSI reversals out of the extremes. */
import type { Strategy, StrategyDecision, StrategyInput } from "./types";

export interface RuleStrategyOptions {
  /** RSI below which a rising RSI is a BUY. */
  oversold: number;
  /** RSI above which a falling RSI is a SELL. */
  overbought: number;
  /** A bullish histogram crossing is a BUY only while RSI is below this (not already stretched). */
  crossoverBuyMaxRsi: number;
  /** A bearish histogram crossing is a SELL only while RSI is above this. */
  crossoverSellMinRsi: number;
  /** A crossing is at full strength when |histogram| reaches this fraction of the ATR. */
  histogramAtrScale: number;
}

export const DEFAULT_RULE_OPTIONS: Readonly<RuleStrategyOptions> = {
  oversold: 30,
  overbought: 70,
  crossoverBuyMaxRsi: 65,
  crossoverSellMinRsi: 35,
  histogramAtrScale: 0.05,
};

export class RuleStrategy implements Strategy {
  readonly name = "rsi-macd";
  readonly version = "1";
  /** The current and the previous feature vector. */
  readonly warmup = 2;
  private readonly options: RuleStrategyOptions;

  constructor(options: Partial<RuleStrategyOptions> = {}) {
    const o = { ...DEFAULT_RULE_OPTIONS, ...options };
    for (const key of ["oversold", "overbought", "crossoverBuyMaxRsi", "crossoverSellMinRsi"] as const) {
      if (!(o[key] >= 0 && o[key] <= 100)) throw new RangeError(`${key} must be within 0..100, got ${o[key]}`);
    }
    if (!(o.histogramAtrScale > 0)) throw new RangeError(`histogramAtrScale must be positive, got ${o.histogramAtrScale}`);
    // These orderings make a BUY rule and a SELL rule unable to fire on the same candle.
    if (!(o.oversold < o.overbought && o.crossoverBuyMaxRsi <= o.overbought && o.crossoverSellMinRsi >= o.oversold)) {
      throw new RangeError("thresholds must satisfy oversold < overbought, crossoverBuyMaxRsi <= overbought, crossoverSellMinRsi >= oversold");
    }
    this.options = o;
  }

  evaluate({ features: cur, history }: StrategyInput): StrategyDecision {
    const o = this.options;
    const prev = history.length >= 2 ? history[history.length - 2] : undefined;
    if (prev !== undefined) {
      const crossing = cur.atr14 > 0 ? Math.min(1, Math.abs(cur.macdHistogram) / (o.histogramAtrScale * cur.atr14)) : 0;
      const crossUp = prev.macdHistogram <= 0 && cur.macdHistogram > 0 && cur.rsi14 < o.crossoverBuyMaxRsi;
      const oversoldTurn = cur.rsi14 < o.oversold && cur.rsi14 > prev.rsi14;
      if (crossUp || oversoldTurn) {
        const strength = Math.max(crossUp ? crossing : 0, oversoldTurn ? (o.oversold - cur.rsi14) / o.oversold : 0);
        return { action: "BUY", confidence: strengthToConfidence(strength) };
      }
      const crossDown = prev.macdHistogram >= 0 && cur.macdHistogram < 0 && cur.rsi14 > o.crossoverSellMinRsi;
      const overboughtTurn = cur.rsi14 > o.overbought && cur.rsi14 < prev.rsi14;
      if (crossDown || overboughtTurn) {
        const strength = Math.max(crossDown ? crossing : 0, overboughtTurn ? (cur.rsi14 - o.overbought) / (100 - o.overbought) : 0);
        return { action: "SELL", confidence: strengthToConfidence(strength) };
      }
    }
    // Holding is most convincing with a neutral RSI, least at the extremes.
    return { action: "HOLD", confidence: clamp01(1 - Math.abs(cur.rsi14 - 50) / 50) };
  }
}

/** A rule that fires is at least a coin flip; its strength (0..1) takes it up to certainty. */
function strengthToConfidence(strength: number): number {
  return clamp01(0.5 + 0.5 * strength);
}

function clamp01(x: number): number {
  return Math.min(1, Math.max(0, x));
}
