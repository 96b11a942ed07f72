/**
 * Domain types shared by the services and the plain domain modules. Prices, quantities, fees and
 * cash are `DecimalString`s (see lib/decimal.ts); times are epoch milliseconds.
 */

export type DecimalString = string;
export type Side = "BUY" | "SELL";
export type SignalAction = "BUY" | "SELL" | "HOLD";
export type Timeframe = "1m";

/** `<exchange>:<symbol>`, the symbol being ccxt's unified symbol, e.g. `binance:BTC/USDT`. */
export function instrumentKeyOf(exchange: string, symbol: string): string {
  return `${exchange}:${symbol}`;
}

export function parseInstrumentKey(instrumentKey: string): { exchange: string; symbol: string } {
  const at = instrumentKey.indexOf(":");
  if (at <= 0 || at === instrumentKey.length - 1) throw new Error(`invalid instrument key "${instrumentKey}"`);
  return { exchange: instrumentKey.slice(0, at), symbol: instrumentKey.slice(at + 1) };
}

/** `<portfolio_id>:<instrument_id>`: the deduplication key of a risk decision. */
export function riskKeyOf(portfolioId: string, symbol: string): string {
  return `${portfolioId}:${symbol}`;
}

/** Trading rules of one market, as a venue states them (ccxt's loadMarkets, or the simulator's catalogue). */
export interface MarketInfo {
  exchange: string;
  symbol: string;
  base: string;
  quote: string;
  /** Price tick size, e.g. "0.01". */
  tickSize: DecimalString;
  /** Quantity lot size, e.g. "0.00001". */
  lotSize: DecimalString;
  minQuantity: DecimalString;
  minNotional: DecimalString;
  /** Fee rates as fractions, e.g. "0.001" for 0.1 %. */
  makerFee: DecimalString;
  takerFee: DecimalString;
}

interface MarketEventBase {
  instrumentKey: string;
  exchange: string;
  symbol: string;
  /** Market time of the event (the venue's or the simulator's clock). */
  time: number;
  /** Wall-clock time at which the facade received the event: the stale-data guard and latency figures use it. */
  receivedAt: number;
}

export interface TradeEvent extends MarketEventBase {
  kind: "trade";
  tradeId: string;
  price: DecimalString;
  quantity: DecimalString;
  /** Side of the aggressor. */
  takerSide: Side;
}

export interface TickerEvent extends MarketEventBase {
  kind: "ticker";
  bid: DecimalString;
  ask: DecimalString;
  last: DecimalString;
  bidQuantity: DecimalString;
  askQuantity: DecimalString;
}

export interface CandleEvent extends MarketEventBase {
  kind: "candle";
  timeframe: Timeframe;
  openTime: number;
  closeTime: number;
  open: DecimalString;
  high: DecimalString;
  low: DecimalString;
  close: DecimalString;
  volume: DecimalString;
  tradeCount: number;
  /** False for an in-progress update of the current candle. */
  closed: boolean;
}

export type BookLevel = [price: DecimalString, quantity: DecimalString];

export interface BookEvent extends MarketEventBase {
  kind: "book";
  bids: BookLevel[];
  asks: BookLevel[];
}

/** One message of `market.raw.data`. */
export type MarketEvent = TradeEvent | TickerEvent | CandleEvent | BookEvent;

/** A market event before the facade stamps its receipt time. */
export type MarketEventDraft = MarketEvent extends infer E ? (E extends MarketEvent ? Omit<E, "receivedAt"> : never) : never;

/** A 1-minute OHLCV bar as stored and served by ingestion. */
export interface Candle {
  instrumentKey: string;
  timeframe: Timeframe;
  openTime: number;
  closeTime: number;
  open: DecimalString;
  high: DecimalString;
  low: DecimalString;
  close: DecimalString;
  volume: DecimalString;
  tradeCount: number;
}

/** Indicator values computed on a closed candle. Indicators are analytics, so plain numbers. */
export interface FeatureVector {
  close: number;
  return1: number;
  rsi14: number;
  macd: number;
  macdSignal: number;
  macdHistogram: number;
  bbUpper: number;
  bbMiddle: number;
  bbLower: number;
  /** (close - lower) / (upper - lower). */
  bbPercentB: number;
  atr14: number;
  ema12: number;
  ema26: number;
  sma20: number;
  /** Standard deviation of 1-minute log returns over the last 30 candles. */
  realizedVolatility: number;
}

export type OrderType = "market" | "limit";
export type TimeInForce = "GTC" | "IOC";
export type OrderStatus = "pending_new" | "open" | "partially_filled" | "filled" | "cancelled" | "rejected";
export const TERMINAL_ORDER_STATUSES: readonly OrderStatus[] = ["filled", "cancelled", "rejected"];

export interface OrderRequest {
  clientOrderId: string;
  portfolioId: string;
  instrumentKey: string;
  side: Side;
  type: OrderType;
  quantity: DecimalString;
  /** Limit price; required for limit orders. */
  price?: DecimalString;
  timeInForce?: TimeInForce;
}

export interface VenueOrder {
  clientOrderId: string;
  venueOrderId: string;
  portfolioId: string;
  instrumentKey: string;
  side: Side;
  type: OrderType;
  quantity: DecimalString;
  price?: DecimalString;
  filledQuantity: DecimalString;
  averagePrice?: DecimalString;
  status: OrderStatus;
  /** Machine-readable reason of a rejection or cancellation. */
  reason?: string;
  createdAt: number;
  updatedAt: number;
}

export interface Fill {
  /** The venue's trade id, prefixed with the exchange id: unique per venue, the fill's idempotency key. */
  fillId: string;
  clientOrderId: string;
  venueOrderId: string;
  portfolioId: string;
  instrumentKey: string;
  side: Side;
  price: DecimalString;
  quantity: DecimalString;
  fee: DecimalString;
  feeCurrency: string;
  liquidity: "maker" | "taker";
  time: number;
}

/** An order's state change and the fills it produced, as a venue reports them. */
export interface Execution {
  order: VenueOrder;
  fills: Fill[];
}

export type VenueErrorCode =
  | "duplicate_client_order_id"
  | "insufficient_funds"
  | "below_min_notional"
  | "below_min_quantity"
  | "unknown_symbol"
  | "invalid_order"
  | "order_not_found"
  | "rate_limited"
  | "venue_unavailable"
  /** An exchange id other than the one the facade is configured for (MARKET_DATA). */
  | "unknown_exchange"
  /** The venue refused our credentials or their permissions (bad key, trading not enabled, IP not allowed). */
  | "permission_denied";

/** A venue's refusal, with a machine-readable code that ends up on the order's events and in the API. */
export class VenueError extends Error {
  constructor(
    readonly code: VenueErrorCode,
    message: string,
    /** Machine-readable particulars for the API, e.g. `closeMatches` of an unknown symbol or the `cause` of an outage. */
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = "VenueError";
  }
}

/** One message of `trading.signals`: what a strategy concluded on one closed candle. */
export interface TradingSignal {
  /** Deterministic (strategy, instrument, candle): a replay yields the same id, hence the same approval key. */
  signalId: string;
  instrumentKey: string;
  exchange: string;
  symbol: string;
  action: SignalAction;
  strategy: string;
  modelVersion: string;
  /** 0..1 */
  confidence: number;
  /** Close of the candle the signal was computed on. */
  price: DecimalString;
  features: FeatureVector;
  /** Market time of the candle close behind the signal. */
  marketTime: number;
  /** Wall-clock receipt time of the market event behind the signal (stale-data guard, latency). */
  receivedAt: number;
}

/** Machine-readable reasons of a rejected trade, stage 1 (instrument) then stage 2 (portfolio). */
export type RejectReason =
  | "instrument_not_registered"
  | "instrument_disabled"
  | "stale_data"
  | "invalid_price"
  | "halted"
  | "min_confidence"
  | "max_open_orders"
  | "daily_loss_limit"
  | "max_drawdown"
  | "max_order_notional"
  | "max_position"
  | "max_exposure"
  | "insufficient_cash"
  | "no_position"
  | "below_min_notional"
  | "venue_rejected"
  | "account_halted"
  | "account_max_open_orders"
  | "account_max_exposure";
