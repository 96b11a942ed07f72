/** Risk's decisions: the record kept per (portfolio, signal) and the event that announces it. */
import { type DecisionRecord, type TradeApproved, type TradeRejected, type TradingSignal, parseInstrumentKey, riskKeyOf } from "../../schemas";


/** What a decision keeps of its signal. */
export function signalSummary(signal: TradingSignal): DecisionRecord["signal"] {
  const { signalId, strategy, modelVersion, confidence, price, marketTime, receivedAt, features } = signal;
  return { signalId, strategy, modelVersion, confidence, price, marketTime, receivedAt, features };
}

/** The `trades.approved` or `trades.rejected` payload announcing a decision. */
export function decisionEvent(d: DecisionRecord): { approved: TradeApproved } | { rejected: TradeRejected } {
  const base = {
    decisionId: d.decisionId,
    riskKey: riskKeyOf(d.portfolioId, parseInstrumentKey(d.instrumentKey).symbol),
    portfolioId: d.portfolioId,
    instrumentKey: d.instrumentKey,
    signalId: d.signal.signalId,
    strategy: d.signal.strategy,
    modelVersion: d.signal.modelVersion,
    confidence: d.signal.confidence,
    receivedAt: d.signal.receivedAt,
    decidedAt: d.decidedAt,
  };
  if (d.outcome === "approved") {
    return { approved: { ...base, clientOrderId: d.clientOrderId!, side: d.action, type: "market", quantity: d.quantity!, price: d.price, notional: d.notional! } };
  }
  return { rejected: { ...base, side: d.action, reason: d.reason!, detail: d.detail ?? "", stage: d.stage } };
}
