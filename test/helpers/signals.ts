/** Hand-made trading signals for the risk tests. */
import type { TradingSignal } from "../../lib/types";

const features = {
  close: 60000, return1: 0, rsi14: 50, macd: 0, macdSignal: 0, macdHistogram: 0, bbUpper: 1, bbMiddle: 1, bbLower: 1,
  bbPercentB: 0.5, atr14: 1, ema12: 1, ema26: 1, sma20: 1, realizedVolatility: 0.001,
};

/** A fresh BUY of binance:BTC/USDT at 60000 with confidence 0.9, unless overridden. */
export function signal(signalId: string, overrides: Partial<TradingSignal> = {}): TradingSignal {
  return {
    signalId, instrumentKey: "binance:BTC/USDT", exchange: "binance", symbol: "BTC/USDT", action: "BUY", strategy: "test",
    modelVersion: "1", confidence: 0.9, price: "60000", features, marketTime: Date.now(), receivedAt: Date.now(), ...overrides,
  };
}
