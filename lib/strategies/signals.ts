/** From a strategy's decision on a closed candle to the signal the prediction engine publishes. */
import type { FeatureVector, FeaturesComputed, TradingSignal } from "../../schemas";
import { signalIdOf, type Strategy, type StrategyDecision } from "./types";

/** Signals kept per instrument for the API. */
export const SIGNALS_KEPT = 200;

/** Adds the candle's features to the instrument's history, keeping only what the strategy looks back on (at least two). */
export function appendFeatures(history: FeatureVector[], features: FeatureVector, strategy: Pick<Strategy, "warmup">): void {
  history.push(features);
  const keep = Math.max(strategy.warmup, 2);
  if (history.length > keep) history.splice(0, history.length - keep);
}

/** The signal of a decision: its id fixed by strategy, instrument and candle, its confidence within 0..1. */
export function signalOf(strategy: Pick<Strategy, "name" | "version">, row: FeaturesComputed, decision: StrategyDecision): TradingSignal {
  return {
    signalId: signalIdOf(strategy.name, row.instrumentKey, row.openTime),
    instrumentKey: row.instrumentKey,
    exchange: row.exchange,
    symbol: row.symbol,
    action: decision.action,
    strategy: strategy.name,
    modelVersion: strategy.version,
    confidence: Math.min(1, Math.max(0, decision.confidence)),
    price: row.close,
    features: row.features,
    marketTime: row.closeTime,
    receivedAt: row.receivedAt,
  };
}
