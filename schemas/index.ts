/**
 * The one declaration of the platform's topics: name, event type, partition key, producer,
 * consumer groups and the versioned payload schemas. Services, buses, the API and the tests
 * import it; nobody types a topic name by hand.
 */
import type { TSchema } from "@sinclair/typebox";
import { DeadLetter } from "./envelope";
import { FeaturesComputed, InstrumentRegistered, MarketEvent } from "./market";
import { Fill, VenueOrder } from "./orders";
import { PortfolioSnapshot, PortfolioSnapshotV1 } from "./portfolio";
import { PortfolioSignal, TradeApproved, TradeRejected, TradeRejectedV1, TradeRejectedV2, TradingSignal } from "./trading";

export * from "./common";
export * from "./keys";
export * from "./market";
export * from "./trading";
export * from "./orders";
export * from "./portfolio";
export * from "./envelope";
export * from "./live";
export * from "./system";

export type ServiceName = "gateway" | "risk" | "ingestion" | "features" | "prediction" | "execution" | "exchange";
export const SERVICE_NAMES: readonly ServiceName[] = ["gateway", "risk", "ingestion", "features", "prediction", "execution", "exchange"];

/**
 * `instrument_key = <exchange>:<instrument_id>`, `portfolio_key = <portfolio_id>`; a dead letter keeps
 * the key of the message it parks (`original_key`), whichever that was.
 */
export type KeyKind = "instrument_key" | "portfolio_key" | "original_key";

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
  versions: Readonly<Record<number, TSchema>>;
  /**
   * Fields a version renames (old name → new name), by version: readers get older messages with the
   * fields renamed (the registry's upcast), and the compatibility check compares under the new names.
   */
  renames?: Readonly<Record<number, Readonly<Record<string, string>>>>;
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
    versions: { 1: InstrumentRegistered },
    keyOf: byInstrument,
  },
  "market.raw.data": {
    name: "market.raw.data",
    eventType: "MarketData",
    key: "instrument_key",
    producer: "exchange",
    consumers: ["ingestion", "features"],
    idempotent: false,
    versions: { 1: MarketEvent },
    keyOf: byInstrument,
  },
  "features.indicators": {
    name: "features.indicators",
    eventType: "FeaturesComputed",
    key: "instrument_key",
    producer: "features",
    consumers: ["prediction", "ingestion", "gateway"],
    idempotent: false,
    versions: { 1: FeaturesComputed },
    keyOf: byInstrument,
  },
  "trading.signals": {
    name: "trading.signals",
    eventType: "TradingSignal",
    key: "instrument_key",
    producer: "prediction",
    consumers: ["risk", "gateway"],
    idempotent: false,
    versions: { 1: TradingSignal },
    keyOf: byInstrument,
  },
  "trading.signals.portfolio": {
    name: "trading.signals.portfolio",
    eventType: "PortfolioSignal",
    key: "portfolio_key",
    producer: "risk",
    consumers: ["risk"],
    idempotent: true,
    versions: { 1: PortfolioSignal },
    keyOf: byPortfolio,
  },
  "trades.approved": {
    name: "trades.approved",
    eventType: "TradeApproved",
    key: "portfolio_key",
    producer: "risk",
    consumers: ["execution", "gateway"],
    idempotent: true,
    versions: { 1: TradeApproved },
    keyOf: byPortfolio,
  },
  "trades.rejected": {
    name: "trades.rejected",
    eventType: "TradeRejected",
    key: "portfolio_key",
    producer: "risk",
    consumers: ["gateway"],
    idempotent: true,
    versions: { 1: TradeRejectedV1, 2: TradeRejectedV2, 3: TradeRejected },
    renames: { 3: { action: "side" } },
    keyOf: byPortfolio,
  },
  "orders.placed": {
    name: "orders.placed",
    eventType: "OrderPlaced",
    key: "portfolio_key",
    producer: "execution",
    consumers: ["risk"],
    idempotent: true,
    versions: { 1: VenueOrder },
    keyOf: byPortfolio,
  },
  "orders.fills": {
    name: "orders.fills",
    eventType: "OrderFilled",
    key: "portfolio_key",
    producer: "execution",
    consumers: ["risk", "gateway"],
    idempotent: true,
    versions: { 1: Fill },
    keyOf: byPortfolio,
  },
  "portfolio.updated": {
    name: "portfolio.updated",
    eventType: "PortfolioUpdated",
    key: "portfolio_key",
    producer: "risk",
    consumers: ["gateway"],
    idempotent: false,
    versions: { 1: PortfolioSnapshotV1, 2: PortfolioSnapshot },
    keyOf: byPortfolio,
  },
  "dead.letter": {
    name: "dead.letter",
    eventType: "DeadLetter",
    key: "original_key",
    producer: "any",
    consumers: [],
    idempotent: false,
    versions: { 1: DeadLetter },
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
