import { FeatureCalculator } from "../../lib/features/streaming-features";
import { RuleStrategy } from "../../lib/strategies/rule";
import { signalIdOf, type StrategyDecision } from "../../lib/strategies/types";
import type { FeatureVector } from "../../schemas";

/** A feature vector where only the fields the rules read matter. */
function fv(macdHistogram: number, rsi14: number, atr14 = 1): FeatureVector {
  return {
    close: 100,
    return1: 0,
    rsi14,
    macd: 0,
    macdSignal: 0,
    macdHistogram,
    bbUpper: 101,
    bbMiddle: 100,
    bbLower: 99,
    bbPercentB: 0.5,
    atr14,
    ema12: 100,
    ema26: 100,
    sma20: 100,
    realizedVolatility: 0.001,
  };
}

function decide(strategy: RuleStrategy, prev: FeatureVector, cur: FeatureVector): StrategyDecision {
  return strategy.evaluate({ instrumentKey: "sim:BTC/USDT", features: cur, history: [prev, cur] }) as StrategyDecision;
}

describe("RuleStrategy", () => {
  const strategy = new RuleStrategy();

  it("identifies itself", () => {
    expect([strategy.name, strategy.version, strategy.warmup]).toEqual(["rsi-macd", "1", 2]);
  });

  it("buys a bullish MACD histogram crossing, confidence from |histogram| / ATR", () => {
    const d = decide(strategy, fv(-0.01, 50), fv(0.02, 52, 1));
    expect(d.action).toBe("BUY");
    expect(d.confidence).toBeCloseTo(0.5 + 0.5 * (0.02 / 0.05), 12);
    expect(decide(strategy, fv(0, 50), fv(1, 52)).confidence).toBe(1);
  });

  it("sells a bearish crossing", () => {
    const d = decide(strategy, fv(0.01, 50), fv(-0.01, 48, 2));
    expect(d.action).toBe("SELL");
    expect(d.confidence).toBeCloseTo(0.5 + 0.5 * (0.01 / 0.1), 12);
  });

  it("ignores crossings against a stretched RSI", () => {
    expect(decide(strategy, fv(-0.01, 66), fv(0.01, 66)).action).toBe("HOLD");
    expect(decide(strategy, fv(0.01, 34), fv(-0.01, 34)).action).toBe("HOLD");
  });

  it("trades RSI turning out of the extremes, confidence from the distance past the threshold", () => {
    const buy = decide(strategy, fv(-1, 15), fv(-1, 20));
    expect(buy.action).toBe("BUY");
    expect(buy.confidence).toBeCloseTo(0.5 + 0.5 * (10 / 30), 12);
    const sell = decide(strategy, fv(1, 90), fv(1, 85));
    expect(sell.action).toBe("SELL");
    expect(sell.confidence).toBeCloseTo(0.5 + 0.5 * (15 / 30), 12);
    // Still falling into oversold / rising into overbought: no trade.
    expect(decide(strategy, fv(-1, 25), fv(-1, 20)).action).toBe("HOLD");
    expect(decide(strategy, fv(1, 80), fv(1, 85)).action).toBe("HOLD");
  });

  it("holds without a trigger, most confidently at a neutral RSI, and without a previous vector", () => {
    expect(decide(strategy, fv(0.1, 50), fv(0.2, 50))).toEqual({ action: "HOLD", confidence: 1 });
    expect(decide(strategy, fv(0.1, 60), fv(0.2, 60))).toEqual({ action: "HOLD", confidence: 0.8 });
    expect(strategy.evaluate({ instrumentKey: "k", features: fv(1, 20), history: [fv(1, 20)] })).toEqual({ action: "HOLD", confidence: 0.4 });
  });

  it("takes its thresholds from the options and refuses contradictory ones", () => {
    const strict = new RuleStrategy({ crossoverBuyMaxRsi: 40, oversold: 25 });
    expect(decide(strict, fv(-0.01, 45), fv(0.01, 45)).action).toBe("HOLD");
    expect(decide(strict, fv(-1, 26), fv(-1, 28)).action).toBe("HOLD");
    expect(decide(strict, fv(-0.01, 35), fv(0.01, 35)).action).toBe("BUY");
    expect(() => new RuleStrategy({ crossoverBuyMaxRsi: 75 })).toThrow(RangeError);
    expect(() => new RuleStrategy({ oversold: 80 })).toThrow(RangeError);
    expect(() => new RuleStrategy({ histogramAtrScale: 0 })).toThrow(RangeError);
  });

  it("trades regularly on a random walk, each decision justified by a rule", () => {
    let state = 2024;
    const rnd = () => (state = (state * 16807) % 2147483647) / 2147483647;
    const calculator = new FeatureCalculator();
    const history: FeatureVector[] = [];
    const counts = { BUY: 0, SELL: 0, HOLD: 0 };
    let price = 30_000;
    for (let i = 0; i < 2000; i++) {
      const open = price;
      price *= 1 + (rnd() - 0.5) * 0.003;
      const features = calculator.update({
        openTime: i * 60_000,
        high: (Math.max(open, price) * (1 + rnd() * 0.0005)).toFixed(2),
        low: (Math.min(open, price) * (1 - rnd() * 0.0005)).toFixed(2),
        close: price.toFixed(2),
      });
      if (!features) continue;
      history.push(features);
      const d = strategy.evaluate({ instrumentKey: "sim:BTC/USDT", features, history }) as StrategyDecision;
      counts[d.action]++;
      expect(d.confidence).toBeGreaterThanOrEqual(0);
      expect(d.confidence).toBeLessThanOrEqual(1);
      const prev = history[history.length - 2];
      if (!prev) continue;
      const buy = (prev.macdHistogram <= 0 && features.macdHistogram > 0 && features.rsi14 < 65) || (features.rsi14 < 30 && features.rsi14 > prev.rsi14);
      const sell = (prev.macdHistogram >= 0 && features.macdHistogram < 0 && features.rsi14 > 35) || (features.rsi14 > 70 && features.rsi14 < prev.rsi14);
      expect(d.action).toBe(buy ? "BUY" : sell ? "SELL" : "HOLD");
      if (d.action !== "HOLD") expect(d.confidence).toBeGreaterThanOrEqual(0.5);
    }
    expect(counts.BUY).toBeGreaterThanOrEqual(20);
    expect(counts.SELL).toBeGreaterThanOrEqual(20);
    expect(counts.HOLD).toBeGreaterThan(counts.BUY + counts.SELL);
  });
});

describe("signalIdOf", () => {
  it("is deterministic per (strategy, instrument, candle)", () => {
    const id = signalIdOf("rsi-macd", "binance:BTC/USDT", 1_700_000_000_000);
    expect(id).toMatch(/^[0-9a-f]{24}$/);
    expect(signalIdOf("rsi-macd", "binance:BTC/USDT", 1_700_000_000_000)).toBe(id);
    expect(new Set([id, signalIdOf("lstm", "binance:BTC/USDT", 1_700_000_000_000), signalIdOf("rsi-macd", "binance:ETH/USDT", 1_700_000_000_000), signalIdOf("rsi-macd", "binance:BTC/USDT", 1_700_000_060_000)]).size).toBe(4);
  });
});
