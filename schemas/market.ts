/**
 * Market contracts: the venue's trading rules, the market events of `market.raw.data`, the stored
 * 1-minute bar, the indicators of `features.indicators`, what the market data store holds (coverage),
 * and the instrument registry (`instrument.registered`, the registered instrument the API shows).
 */
import { Type, type Static } from "@sinclair/typebox";
import { Closed, Count, DecimalString, Discriminated, EpochMs, StringEnum, Text } from "./common";
import { InstrumentKey } from "./keys";

export const Side = StringEnum(["BUY", "SELL"]);
export type Side = Static<typeof Side>;
export const SignalAction = StringEnum(["BUY", "SELL", "HOLD"]);
export type SignalAction = Static<typeof SignalAction>;
/** Candle timeframes: 1-minute candles are stored, the others derived from them. */
export const Timeframe = StringEnum(["1m", "5m", "15m", "1h", "4h", "1d"]);
export type Timeframe = Static<typeof Timeframe>;

/** Trading rules of one market, as a venue states them (ccxt's loadMarkets, or the simulator's catalogue). */
export const MarketInfo = Closed({
  exchange: Text,
  symbol: Text,
  base: Text,
  quote: Text,
  /** Price tick size, e.g. "0.01". */
  tickSize: DecimalString,
  /** Quantity lot size, e.g. "0.00001". */
  lotSize: DecimalString,
  minQuantity: DecimalString,
  minNotional: DecimalString,
  /** Fee rates as fractions, e.g. "0.001" for 0.1 %. */
  makerFee: DecimalString,
  takerFee: DecimalString,
});
export type MarketInfo = Static<typeof MarketInfo>;

/** What names an instrument in a message: its key and the exchange and symbol it is made of. */
export const instrumentIdentity = { instrumentKey: InstrumentKey, exchange: Text, symbol: Text };

const marketEventBase = {
  ...instrumentIdentity,
  /** Market time of the event (the venue's or the simulator's clock). */
  time: EpochMs,
  /** Wall-clock time at which the facade received the event: the stale-data guard and latency figures use it. */
  receivedAt: EpochMs,
};

export const TradeEvent = Closed({
  kind: Type.Literal("trade"),
  ...marketEventBase,
  tradeId: Text,
  price: DecimalString,
  quantity: DecimalString,
  /** Side of the aggressor. */
  takerSide: Side,
});
export type TradeEvent = Static<typeof TradeEvent>;

export const TickerEvent = Closed({
  kind: Type.Literal("ticker"),
  ...marketEventBase,
  bid: DecimalString,
  ask: DecimalString,
  last: DecimalString,
  bidQuantity: DecimalString,
  askQuantity: DecimalString,
});
export type TickerEvent = Static<typeof TickerEvent>;

/** A 1-minute OHLCV bar, as ingestion stores and serves it; a candle event is one with the event's fields. */
export const Candle = Closed({
  instrumentKey: InstrumentKey,
  timeframe: Timeframe,
  openTime: EpochMs,
  closeTime: EpochMs,
  open: DecimalString,
  high: DecimalString,
  low: DecimalString,
  close: DecimalString,
  volume: DecimalString,
  tradeCount: Count,
});
export type Candle = Static<typeof Candle>;

export const CandleEvent = Closed({
  kind: Type.Literal("candle"),
  ...marketEventBase,
  ...Candle.properties,
  /** False for an in-progress update of the current candle. */
  closed: Type.Boolean(),
});
export type CandleEvent = Static<typeof CandleEvent>;

export const BookLevel = Type.Tuple([DecimalString, DecimalString]);
/** A price level: [price, quantity]. */
export type BookLevel = [price: DecimalString, quantity: DecimalString];

export const BookEvent = Closed({
  kind: Type.Literal("book"),
  ...marketEventBase,
  bids: Type.Array(BookLevel, { maxItems: 100 }),
  asks: Type.Array(BookLevel, { maxItems: 100 }),
});
export type BookEvent = Static<typeof BookEvent>;

/** One message of `market.raw.data`. */
export const MarketEvent = Discriminated([TradeEvent, TickerEvent, CandleEvent, BookEvent]);
export type MarketEvent = Static<typeof MarketEvent>;

/** A market event before the facade stamps its receipt time. */
export type MarketEventDraft = MarketEvent extends infer E ? (E extends MarketEvent ? Omit<E, "receivedAt"> : never) : never;

/** Indicator values computed on a closed candle. Indicators are analytics, so plain numbers. */
export const FeatureVector = Closed({
  close: Type.Number(),
  return1: Type.Number(),
  rsi14: Type.Number(),
  macd: Type.Number(),
  macdSignal: Type.Number(),
  macdHistogram: Type.Number(),
  bbUpper: Type.Number(),
  bbMiddle: Type.Number(),
  bbLower: Type.Number(),
  /** (close - lower) / (upper - lower). */
  bbPercentB: Type.Number(),
  atr14: Type.Number(),
  ema12: Type.Number(),
  ema26: Type.Number(),
  sma20: Type.Number(),
  /** Standard deviation of 1-minute log returns over the last 30 candles. */
  realizedVolatility: Type.Number(),
});
export type FeatureVector = Static<typeof FeatureVector>;

/** One message of `features.indicators`, and a row of the indicators ingestion serves. */
export const FeaturesComputed = Closed({
  ...instrumentIdentity,
  timeframe: Timeframe,
  openTime: EpochMs,
  closeTime: EpochMs,
  close: DecimalString,
  features: FeatureVector,
  receivedAt: EpochMs,
});
export type FeaturesComputed = Static<typeof FeaturesComputed>;

/** Rows of one kind held for an instrument: times (open times for candles and indicators) of the oldest and newest. */
const KindCoverage = { first: EpochMs, last: EpochMs, rows: Count };

/** What the market data store holds of an instrument: each kind's time range and rows, and the minutes missing among its 1-minute candles. */
export const MarketCoverage = Closed({
  instrumentKey: InstrumentKey,
  candles: Type.Optional(Closed({ ...KindCoverage, gaps: Type.Array(Closed({ from: EpochMs, to: EpochMs })) })),
  indicators: Type.Optional(Closed(KindCoverage)),
  trades: Type.Optional(Closed(KindCoverage)),
  books: Type.Optional(Closed(KindCoverage)),
});
export type MarketCoverage = Static<typeof MarketCoverage>;

const instrumentFields = {
  ...instrumentIdentity,
  /** The portfolios trading it (for a trader, their own). */
  portfolioIds: Type.Array(Text),
};

/** One message of `instrument.registered`. */
export const InstrumentRegistered = Closed({
  ...instrumentFields,
  status: StringEnum(["active", "removed"]),
  market: Type.Optional(MarketInfo),
  changedAt: EpochMs,
});
export type InstrumentRegistered = Static<typeof InstrumentRegistered>;

/** A registered instrument with its market rules, as the system of record keeps it and the API shows it. */
export const InstrumentRecord = Closed({
  ...instrumentFields,
  enabled: Type.Boolean(),
  market: MarketInfo,
  registeredAt: EpochMs,
  updatedAt: EpochMs,
});
export type InstrumentRecord = Static<typeof InstrumentRecord>;
