/**
 * Trading contracts: the strategies' signals (`trading.signals`, `trading.signals.portfolio`), the
 * risk decisions (`trades.approved`, `trades.rejected`) and the decision record the API shows.
 */
import { Type, type Static } from "@sinclair/typebox";
import { Closed, DecimalString, EpochMs, IntegerEnum, Probability, StringEnum, Text } from "./common";
import { InstrumentKey } from "./keys";
import { FeatureVector, Side, SignalAction, instrumentIdentity } from "./market";
import { OrderType } from "./orders";

/** One message of `trading.signals`: what a strategy concluded on one closed candle. */
export const TradingSignal = Closed({
  /** Deterministic (strategy, instrument, candle): a replay yields the same id, hence the same approval key. */
  signalId: Text,
  ...instrumentIdentity,
  action: SignalAction,
  strategy: Text,
  modelVersion: Text,
  confidence: Probability,
  /** Close of the candle the signal was computed on. */
  price: DecimalString,
  features: FeatureVector,
  /** Market time of the candle close behind the signal. */
  marketTime: EpochMs,
  /** Wall-clock receipt time of the market event behind the signal (stale-data guard, latency). */
  receivedAt: EpochMs,
});
export type TradingSignal = Static<typeof TradingSignal>;

/** One message of `trading.signals.portfolio`: a BUY or SELL signal routed to one portfolio's stage 2. */
export const PortfolioSignal = Closed({ portfolioId: Text, riskKey: Text, signal: TradingSignal });
export type PortfolioSignal = Static<typeof PortfolioSignal>;

const decisionBase = {
  decisionId: Text,
  riskKey: Text,
  portfolioId: Text,
  instrumentKey: InstrumentKey,
  signalId: Text,
  strategy: Text,
  modelVersion: Text,
  confidence: Probability,
  receivedAt: EpochMs,
  decidedAt: EpochMs,
};

/** One message of `trades.approved`: an order for execution to place. */
export const TradeApproved = Closed({
  ...decisionBase,
  clientOrderId: Text,
  side: Side,
  type: OrderType,
  quantity: DecimalString,
  price: DecimalString,
  notional: DecimalString,
});
export type TradeApproved = Static<typeof TradeApproved>;

/** Machine-readable reasons of a rejected trade, stage 1 (instrument) then stage 2 (portfolio). */
export const RejectReason = StringEnum([
  "instrument_not_registered",
  "instrument_disabled",
  "stale_data",
  "invalid_price",
  "halted",
  "min_confidence",
  "max_open_orders",
  "daily_loss_limit",
  "max_drawdown",
  "max_order_notional",
  "max_position",
  "max_exposure",
  "insufficient_cash",
  "no_position",
  "below_min_notional",
  "venue_rejected",
  "account_halted",
  "account_max_open_orders",
  "account_max_exposure",
]);
export type RejectReason = Static<typeof RejectReason>;

/** The risk stage that decided: 1 instrument, 2 portfolio. */
export const RiskStage = IntegerEnum([1, 2]);

const rejectionFields = {
  ...decisionBase,
  /** A reason of RejectReason; the payload admits any such word, so a new reason does not break older readers. */
  reason: Type.String({ pattern: "^[a-z_]+$" }),
  detail: Type.String({ maxLength: 500 }),
};

/** `trades.rejected` v1: the signal's side was called `action`. */
export const TradeRejectedV1 = Closed({ ...rejectionFields, action: Side });
export type TradeRejectedV1 = Static<typeof TradeRejectedV1>;

/** v2 adds the risk stage that refused the trade; optional, so v1 data still reads. */
export const TradeRejectedV2 = Closed({ ...TradeRejectedV1.properties, stage: Type.Optional(RiskStage) });
export type TradeRejectedV2 = Static<typeof TradeRejectedV2>;

/**
 * v3 names the side `side`, as `trades.approved` does. Renamed, not added: the topic table declares
 * the rename, so the registry reads v1 and v2 messages as v3 and the compatibility check allows it.
 */
export const TradeRejected = Closed({ ...rejectionFields, side: Side, stage: Type.Optional(RiskStage) });
export type TradeRejected = Static<typeof TradeRejected>;

/** A risk decision as the system of record keeps it and the API shows it. */
export const DecisionRecord = Type.Object({
  /** `<risk key>:<signal id>`: a replayed signal finds its decision here. */
  idempotencyKey: Type.String(),
  decisionId: Type.String(),
  outcome: StringEnum(["approved", "rejected"]),
  stage: RiskStage,
  portfolioId: Type.String(),
  instrumentKey: Type.String(),
  action: Side,
  reason: Type.Optional(RejectReason),
  detail: Type.Optional(Type.String()),
  clientOrderId: Type.Optional(Type.String()),
  quantity: Type.Optional(DecimalString),
  price: DecimalString,
  notional: Type.Optional(DecimalString),
  signal: Type.Pick(TradingSignal, ["signalId", "strategy", "modelVersion", "confidence", "price", "marketTime", "receivedAt", "features"]),
  decidedAt: EpochMs,
});
export type DecisionRecord = Static<typeof DecisionRecord>;
