/** Payload types of the platform's own events (market data, signals, orders and fills are in lib/types.ts). */
import type { DecimalString, FeatureVector, MarketInfo, Side, TradingSignal } from "../lib/types";

/** Every message on every topic is one of these around its payload. */
export interface Envelope<P = unknown> {
  id: string;
  /** Event type, e.g. "TradeApproved". */
  type: string;
  /** Version of the payload schema. */
  version: number;
  /** ISO-8601 time of publication. */
  time: string;
  producer: string;
  /** Partition key. */
  key: string;
  idempotencyKey?: string;
  traceId: string;
  payload: P;
}

export interface InstrumentRegistered {
  instrumentKey: string;
  exchange: string;
  symbol: string;
  portfolioIds: string[];
  status: "active" | "removed";
  market?: MarketInfo;
  changedAt: number;
}

export interface FeaturesComputed {
  instrumentKey: string;
  exchange: string;
  symbol: string;
  timeframe: "1m";
  openTime: number;
  closeTime: number;
  close: DecimalString;
  features: FeatureVector;
  receivedAt: number;
}

export interface PortfolioSignal {
  portfolioId: string;
  riskKey: string;
  signal: TradingSignal;
}

interface DecisionBase {
  decisionId: string;
  riskKey: string;
  portfolioId: string;
  instrumentKey: string;
  signalId: string;
  strategy: string;
  modelVersion: string;
  confidence: number;
  receivedAt: number;
  decidedAt: number;
}

export interface TradeApproved extends DecisionBase {
  clientOrderId: string;
  side: Side;
  type: "market" | "limit";
  quantity: DecimalString;
  price: DecimalString;
  notional: DecimalString;
}

export interface TradeRejected extends DecisionBase {
  action: Side;
  reason: string;
  detail: string;
  stage?: 1 | 2;
}

export interface PositionSnapshot {
  instrumentKey: string;
  quantity: DecimalString;
  averageCost: DecimalString;
  markPrice: DecimalString;
  marketValue: DecimalString;
  unrealizedPnl: DecimalString;
  realizedPnl: DecimalString;
  fees: DecimalString;
}

export interface PortfolioSnapshot {
  portfolioId: string;
  cash: DecimalString;
  equity: DecimalString;
  realizedPnl: DecimalString;
  unrealizedPnl: DecimalString;
  fees: DecimalString;
  exposure: DecimalString;
  halted: boolean;
  haltReason?: string;
  /** The trader who owns the portfolio (schema v2); absent for the operator's. */
  owner?: string;
  openOrders: number;
  positions: PositionSnapshot[];
  cause: "created" | "fill" | "order" | "halt" | "resume" | "limits" | "mark";
  updatedAt: number;
}

export interface DeadLetter {
  topic: string;
  partition: number;
  offset: string;
  group: string;
  key?: string;
  reason: "invalid_message" | "handler_failed";
  error: string;
  attempts: number;
  /** The original message as received. */
  value: string;
  failedAt: number;
}

/** Fill ids per `risk.missingFills` call (execution asks in batches of this many after a restart). */
export const MISSING_FILLS_MAX = 1000;
