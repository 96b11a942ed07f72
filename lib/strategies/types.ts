/** What every strategy offers the prediction engine. Plain domain code: no Moleculer here. */
import { createHash } from "node:crypto";
import type { FeatureVector, SignalAction } from "../../schemas";

export interface StrategyInput {
  instrumentKey: string;
  /** Features of the candle just closed. */
  features: FeatureVector;
  /** The most recent feature vectors of the instrument, oldest first, `features` being the last one. */
  history: readonly FeatureVector[];
}

export interface StrategyDecision {
  action: SignalAction;
  /** 0..1 */
  confidence: number;
}

export interface Strategy {
  name: string;
  /** Version of the logic or model: goes into the signal's `modelVersion`. */
  version: string;
  /** Feature vectors `history` must hold for a meaningful decision (the caller keeps at least that many). */
  warmup: number;
  evaluate(input: StrategyInput): Promise<StrategyDecision> | StrategyDecision;
}

/** Deterministic signal id: replaying a candle yields the same id, hence the same approval key downstream. */
export function signalIdOf(strategy: string, instrumentKey: string, candleOpenTime: number): string {
  return createHash("sha256").update(`${strategy}\n${instrumentKey}\n${candleOpenTime}`).digest("hex").slice(0, 24);
}
