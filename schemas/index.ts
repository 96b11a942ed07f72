/**
 * The one declaration of the platform's topics: name, event type, partition key, producer,
 * consumer groups and the versioned payload schemas. Services, buses, the API and the tests
 * import it; nobody types a topic name by hand.
 */
import type { InstrumentRegistered, FeaturesComputed, PortfolioSignal, TradeApproved, TradeRejected, PortfolioSnapshot, DeadLetter } from "./events";
import type { Fill, MarketEvent, TradingSignal, VenueOrder } from "../lib/types";
import type { JsonSchema } from "./json-schema";
import { featuresIndicatorsV1, instrumentRegisteredV1, marketRawDataV1 } from "./payloads/market";
import { portfolioSignalV1, tradeApprovedV1, tradeRejectedV1, tradeRejectedV2, tradingSignalV1 } from "./payloads/trading";
import { orderFillV1, orderPlacedV1, portfolioUpdatedV1, portfolioUpdatedV2 } from "./payloads/orders";
import { deadLetterV1 } from "./payloads/dead-letter";

export type ServiceName = "gateway" | "risk" | "ingestion" | "features" | "prediction" | "execution" | "exchange";
export const SERVICE_NAMES: readonly ServiceName[] = ["gateway", "risk", "ingestion", "features", "prediction", "execution", "exchange"];

/** `instrument_key = <exchange>:<instrument_id>`, `portfolio_key = <portfolio_id>`. */
export type KeyKind = "instrument_key" | "portfolio_key";

export const TOPICS = {
  instrumentRegistered: "instrument.registered",
  marketRawData: "market.raw.data",
  featuresIndicators: "features.indicators",
  tradingSignals: "trading.signals",
  tradingSignalsPortfolio: "trading.signals.portfolio",
  tradesApproved: "trades.approved",
  tradesRejected: "trades.rejected",
  ordersPlaced: "orders.placed",
  ordersFills: "orders.fills",
  portfolioUpdated: "portfolio.updated",
  deadLetter: "dead.letter",
} as const;

export type TopicName = (typeof TOPICS)[keyof typeof TOPICS];

/** Payload type of each topic. */
export interface TopicPayloads {
  "instrument.registered": InstrumentRegistered;
  "market.raw.data": MarketEvent;
  "features.indicators": FeaturesComputed;
  "trading.signals": TradingSignal;
  "trading.signals.portfolio": PortfolioSignal;
  "trades.approved": TradeApproved;
  "trades.rejected": TradeRejected;
  "orders.placed": VenueOrder;
  "orders.fills": Fill;
  "portfolio.updated": PortfolioSnapshot;
  "dead.letter": DeadLetter;
}

export interface TopicSpec<T extends TopicName = TopicName> {
  name: T;
  /** Envelope `type` of the topic's events. */
  eventType: string;
  key: KeyKind;
  producer: ServiceName | "any";
  consumers: readonly ServiceName[];
  /** Whether every event must carry an idempotency key (trade approvals and fills, per the seed). */
  idempotent: boolean;
  /** Payload schema per version; producers write the highest. New versions must stay backward compatible. */
  versions: Readonly<Record<number, JsonSchema>>;
  /** Partition key of a payload. */
  keyOf(payload: TopicPayloads[T]): string;
}

const byInstrument = (p: { instrumentKey: string }) => p.instrumentKey;
const byPortfolio = (p: { portfolioId: string }) => p.portfolioId;

type TopicTable = { [T in TopicName]: TopicSpec<T> };

export const TOPIC_TABLE: TopicTable = {
  "instrument.registered": {
    name: "instrument.registered",
    eventType: "InstrumentRegistered",
    key: "instrument_key",
    producer: "risk",
    consumers: ["ingestion"],
    idempotent: false,
    versions: { 1: instrumentRegisteredV1 },
    keyOf: byInstrument,
  },
  "market.raw.data": {
    name: "market.raw.data",
    eventType: "MarketData",
    key: "instrument_key",
    producer: "exchange",
    consumers: ["ingestion", "features"],
    idempotent: false,
    versions: { 1: marketRawDataV1 },
    keyOf: byInstrument,
  },
  "features.indicators": {
    name: "features.indicators",
    eventType: "FeaturesComputed",
    key: "instrument_key",
    producer: "features",
    consumers: ["prediction", "ingestion", "gateway"],
    idempotent: false,
    versions: { 1: featuresIndicatorsV1 },
    keyOf: byInstrument,
  },
  "trading.signals": {
    name: "trading.signals",
    eventType: "TradingSignal",
    key: "instrument_key",
    producer: "prediction",
    consumers: ["risk", "gateway"],
    idempotent: false,
    versions: { 1: tradingSignalV1 },
    keyOf: byInstrument,
  },
  "trading.signals.portfolio": {
    name: "trading.signals.portfolio",
    eventType: "PortfolioSignal",
    key: "portfolio_key",
    producer: "risk",
    consumers: ["risk"],
    idempotent: true,
    versions: { 1: portfolioSignalV1 },
    keyOf: byPortfolio,
  },
  "trades.approved": {
    name: "trades.approved",
    eventType: "TradeApproved",
    key: "portfolio_key",
    producer: "risk",
    consumers: ["execution", "gateway"],
    idempotent: true,
    versions: { 1: tradeApprovedV1 },
    keyOf: byPortfolio,
  },
  "trades.rejected": {
    name: "trades.rejected",
    eventType: "TradeRejected",
    key: "portfolio_key",
    producer: "risk",
    consumers: ["gateway"],
    idempotent: true,
    versions: { 1: tradeRejectedV1, 2: tradeRejectedV2 },
    keyOf: byPortfolio,
  },
  "orders.placed": {
    name: "orders.placed",
    eventType: "OrderPlaced",
    key: "portfolio_key",
    producer: "execution",
    consumers: ["risk"],
    idempotent: true,
    versions: { 1: orderPlacedV1 },
    keyOf: byPortfolio,
  },
  "orders.fills": {
    name: "orders.fills",
    eventType: "OrderFilled",
    key: "portfolio_key",
    producer: "execution",
    consumers: ["risk", "gateway"],
    idempotent: true,
    versions: { 1: orderFillV1 },
    keyOf: byPortfolio,
  },
  "portfolio.updated": {
    name: "portfolio.updated",
    eventType: "PortfolioUpdated",
    key: "portfolio_key",
    producer: "risk",
    consumers: ["gateway"],
    idempotent: false,
    versions: { 1: portfolioUpdatedV1, 2: portfolioUpdatedV2 },
    keyOf: byPortfolio,
  },
  "dead.letter": {
    name: "dead.letter",
    eventType: "DeadLetter",
    key: "instrument_key",
    producer: "any",
    consumers: [],
    idempotent: false,
    versions: { 1: deadLetterV1 },
    keyOf: (p) => p.key ?? "",
  },
};

export const PIPELINE_TOPICS: readonly TopicName[] = Object.values(TOPICS).filter((t) => t !== TOPICS.deadLetter);
export const ALL_TOPICS: readonly TopicName[] = Object.values(TOPICS);

export function topicSpec<T extends TopicName>(topic: T): TopicSpec<T> {
  return TOPIC_TABLE[topic];
}

export function isTopicName(name: string): name is TopicName {
  return Object.prototype.hasOwnProperty.call(TOPIC_TABLE, name);
}

const LATEST_VERSIONS = Object.fromEntries(
  ALL_TOPICS.map((t) => [t, Math.max(...Object.keys(TOPIC_TABLE[t].versions).map(Number))]),
) as Record<TopicName, number>;

export function latestVersion(topic: TopicName): number {
  return LATEST_VERSIONS[topic];
}
