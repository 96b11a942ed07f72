/** Hand-made signals and approvals for the risk and execution tests, and publishing them as a producer would. */
import { TOPICS, type TradeApproved, type TradingSignal } from "../../schemas";
import { createEnvelope, toRecord } from "../../lib/bus/envelope";
import type { TopicBus } from "../../lib/bus/types";
import { clientOrderIdOf, decisionKeyOf } from "../../lib/ids";

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

/** Publishes a signal on trading.signals as the prediction service does. */
export function publishSignal(bus: TopicBus, s: TradingSignal): Promise<void> {
  return bus.publish(TOPICS.tradingSignals, [toRecord(createEnvelope(TOPICS.tradingSignals, s, "prediction"))]);
}

export interface Approval {
  payload: TradeApproved;
  /** The approval's idempotency key; the client order id derives from it. */
  key: string;
}

/** A market BUY of binance:<symbol> approved for the default portfolio; size and price come from `order`. */
export function approval(signalId: string, symbol: string, order: Pick<TradeApproved, "quantity" | "price" | "notional"> & Partial<TradeApproved>): Approval {
  const riskKey = `default:${symbol}`;
  const key = decisionKeyOf(riskKey, signalId);
  return {
    key,
    payload: {
      decisionId: `d-${signalId}`, riskKey, portfolioId: "default", instrumentKey: `binance:${symbol}`, signalId, strategy: "test", modelVersion: "1",
      confidence: 0.9, receivedAt: Date.now(), decidedAt: Date.now(), clientOrderId: clientOrderIdOf(key), side: "BUY", type: "market", ...order,
    },
  };
}

/** Publishes an approval on trades.approved as risk does. */
export async function publishApproval(bus: TopicBus, a: Approval): Promise<void> {
  await bus.publish(TOPICS.tradesApproved, [toRecord(createEnvelope(TOPICS.tradesApproved, a.payload, "risk", { idempotencyKey: a.key }))]);
}
