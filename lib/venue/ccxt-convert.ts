/**
 * ccxt's unified structures (markets, trades, tickers, books, OHLCV, orders) as the platform's types.
 * ccxt parses the venue's decimal strings into JavaScript numbers; `decimalOf` turns them back into
 * the shortest decimal string that reads as the same number, which is the venue's original text for
 * anything with up to 15 significant digits (every price and quantity an exchange quotes).
 */
import type { MarketInterface, OHLCV, Order, OrderBook, Ticker, Trade } from "ccxt";
import { Dec, str } from "../decimal";
import { VenueError } from "../errors";
import type { Fill, MarketEventDraft, MarketInfo, OrderStatus, VenueOrder } from "../../schemas";
import { MINUTE_MS, type CandleEventDraft } from "../market/candles";

/** ccxt's precision modes (base/functions/number): what `market.precision.price` means. */
const DECIMAL_PLACES = 2;
const SIGNIFICANT_DIGITS = 3;

type Draft<K extends MarketEventDraft["kind"]> = Extract<MarketEventDraft, { kind: K }>;

/** A number from ccxt as a decimal string, or undefined when ccxt has none. */
export function decimalOf(value: number | string | undefined | null): string | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  if (typeof value === "number" && !Number.isFinite(value)) return undefined;
  // A Decimal built from a number reads its shortest round-trip form, never the binary expansion.
  return str(new Dec(value));
}

function required(value: number | string | undefined | null, what: string): string {
  const decimal = decimalOf(value);
  if (decimal === undefined) throw new VenueError("invalid_order", `the venue gave no ${what}`);
  return decimal;
}

/** A precision as a step: tick-size mode gives the step itself, decimal-places mode its exponent. */
function stepOf(precision: number | undefined, precisionMode: number | undefined): string | undefined {
  if (precision === undefined || precision === null) return undefined;
  if (precisionMode === DECIMAL_PLACES || precisionMode === SIGNIFICANT_DIGITS) return str(new Dec(10).pow(-precision));
  return decimalOf(precision);
}

/** The trading rules of a ccxt market: tick, lot, minimum quantity and order value, maker/taker fees. */
export function marketInfoOf(exchangeId: string, market: MarketInterface, precisionMode: number | undefined): MarketInfo {
  const tickSize = stepOf(market.precision?.price, precisionMode) ?? "0";
  const lotSize = stepOf(market.precision?.amount, precisionMode) ?? "0";
  return {
    exchange: exchangeId,
    symbol: market.symbol,
    base: market.base,
    quote: market.quote,
    tickSize,
    lotSize,
    minQuantity: decimalOf(market.limits?.amount?.min) ?? lotSize,
    minNotional: decimalOf(market.limits?.cost?.min) ?? "0",
    makerFee: decimalOf(market.maker) ?? "0",
    takerFee: decimalOf(market.taker) ?? "0",
  };
}

interface Header {
  instrumentKey: string;
  exchange: string;
  symbol: string;
}

export function tradeEventOf(header: Header, trade: Trade): Draft<"trade"> | undefined {
  const price = decimalOf(trade.price);
  const quantity = decimalOf(trade.amount);
  if (!price || !quantity || trade.timestamp === undefined || trade.id === undefined) return undefined;
  return { kind: "trade", ...header, time: trade.timestamp, tradeId: String(trade.id), price, quantity, takerSide: trade.side === "sell" ? "SELL" : "BUY" };
}

/** A ticker with both sides quoted; a one-sided or empty ticker is dropped (undefined). */
export function tickerEventOf(header: Header, ticker: Ticker, receivedAt: number): Draft<"ticker"> | undefined {
  const bid = decimalOf(ticker.bid);
  const ask = decimalOf(ticker.ask);
  const last = decimalOf(ticker.last ?? ticker.close);
  if (!bid || !ask || !last) return undefined;
  return {
    kind: "ticker",
    ...header,
    time: ticker.timestamp ?? receivedAt,
    bid,
    ask,
    last,
    bidQuantity: decimalOf(ticker.bidVolume) ?? "0",
    askQuantity: decimalOf(ticker.askVolume) ?? "0",
  };
}

export function bookEventOf(header: Header, book: OrderBook, levels: number, receivedAt: number): Draft<"book"> {
  const side = (entries: OrderBook["bids"]) =>
    entries.slice(0, levels).flatMap(([price, quantity]) => {
      const p = decimalOf(price);
      const q = decimalOf(quantity);
      return p && q ? [[p, q] as [string, string]] : [];
    });
  return { kind: "book", ...header, time: book.timestamp ?? receivedAt, bids: side(book.bids), asks: side(book.asks) };
}

/** A 1-minute OHLCV bar as a candle event. ccxt's OHLCV has no trade count unless the venue sends one (OHLCVC). */
export function candleEventOf(header: Header, bar: OHLCV | number[], closed: boolean): CandleEventDraft {
  const openTime = Number(bar[0]);
  const closeTime = openTime + MINUTE_MS - 1;
  return {
    kind: "candle",
    ...header,
    time: closeTime,
    timeframe: "1m",
    openTime,
    closeTime,
    open: required(bar[1], "open"),
    high: required(bar[2], "high"),
    low: required(bar[3], "low"),
    close: required(bar[4], "close"),
    volume: decimalOf(bar[5]) ?? "0",
    tradeCount: typeof bar[6] === "number" ? bar[6] : 0,
    closed,
  };
}

/** ccxt's order status in the platform's lifecycle. */
export function orderStatusOf(order: Pick<Order, "status" | "filled">): OrderStatus {
  const filled = Number(order.filled ?? 0) > 0;
  switch (order.status) {
    case "closed":
      return "filled";
    case "canceled":
    case "expired":
      return "cancelled";
    case "rejected":
      return "rejected";
    default:
      return filled ? "partially_filled" : "open";
  }
}

/**
 * Our order with the venue's view of it applied: its id, status, filled quantity and average price.
 * Quantity and limit price stay ours (what was asked); times come from the venue where it gives them.
 */
export function mergeVenueOrder(ours: VenueOrder, venue: Order, now: number): VenueOrder {
  const status = orderStatusOf(venue);
  const merged: VenueOrder = {
    ...ours,
    venueOrderId: String(venue.id ?? ours.venueOrderId),
    status,
    filledQuantity: decimalOf(venue.filled) ?? ours.filledQuantity,
    updatedAt: venue.lastUpdateTimestamp ?? venue.lastTradeTimestamp ?? venue.timestamp ?? now,
  };
  const average = decimalOf(venue.average);
  if (average && new Dec(average).gt(0)) merged.averagePrice = average;
  if (venue.status === "expired") merged.reason = "expired";
  else if (venue.status === "rejected") merged.reason = "rejected_by_venue";
  if (ours.status === "pending_new" && venue.timestamp) merged.createdAt = venue.timestamp;
  return merged;
}

/**
 * One of our fills from a venue trade. The fill id is the exchange, the venue's market id and its
 * trade id: venues such as Binance number trades per market, so the trade id alone is not unique.
 */
export function fillOf(exchangeId: string, marketId: string, order: VenueOrder, trade: Trade, quote: string): Fill | undefined {
  const price = decimalOf(trade.price);
  const quantity = decimalOf(trade.amount);
  if (trade.id === undefined || !price || !quantity || trade.timestamp === undefined) return undefined;
  return {
    fillId: `${exchangeId}:${marketId}:${trade.id}`,
    clientOrderId: order.clientOrderId,
    venueOrderId: order.venueOrderId,
    portfolioId: order.portfolioId,
    instrumentKey: order.instrumentKey,
    side: order.side,
    price,
    quantity,
    fee: decimalOf(trade.fee?.cost) ?? "0",
    feeCurrency: trade.fee?.currency ?? quote,
    liquidity: trade.takerOrMaker === "maker" ? "maker" : "taker",
    time: trade.timestamp,
  };
}
