/**
 * The intrabar path of a backtest over candles only (fidelity "candles"): what a stored 1-minute
 * candle is replayed as when no trades or books were recorded for it.
 *
 * Per candle, four synthetic trades then the closed candle event:
 *   +0 s open, +15 s the first extreme, +30 s the second extreme, +45 s close, +59.999 s candle (closed).
 * The first extreme is the low when close >= open (the bar went down before it rose to its close), the
 * high otherwise: the path that reaches both extremes and ends at the close with the least travel.
 * Each trade carries a quarter of the candle's volume (exact in decimal: volume / 4 always terminates),
 * so the four add up to the volume and resting limit orders cannot fill more than the bar traded.
 * Taker side: BUY for a move up from the previous point, SELL for a move down, and for the open (or no
 * move) the candle's direction (BUY when close >= open). Every price is one of open/high/low/close, so
 * none lies outside [low, high]: a resting limit order fills only at a price the bar traded through.
 * No book is synthesised: the paper broker fills a market order without a book at the last trade's
 * price plus its slippage, which is the bar's price at that moment; a made-up book would only add a
 * spread the data does not show.
 */
import { dec, str } from "../decimal";
import { MINUTE_MS } from "../market/candles";
import type { CandleEventDraft } from "../market/candles";
import type { MinuteCandle } from "../marketdata/types";
import type { MarketEventDraft, Side } from "../../schemas";
import { parseInstrumentKey } from "../../schemas";

/** Offsets inside the minute of the four path points (open, first extreme, second extreme, close). */
export const INTRABAR_OFFSETS_MS = [0, 15_000, 30_000, 45_000] as const;

/** A stored 1-minute candle as the closed candle event the live facade emits at the minute's last millisecond. */
export function closedCandleEvent(candle: MinuteCandle, exchange: string, symbol: string): CandleEventDraft {
  const closeTime = candle.openTime + MINUTE_MS - 1;
  return {
    kind: "candle",
    instrumentKey: candle.instrumentKey,
    exchange,
    symbol,
    time: closeTime,
    timeframe: "1m",
    openTime: candle.openTime,
    closeTime,
    open: candle.open,
    high: candle.high,
    low: candle.low,
    close: candle.close,
    volume: candle.volume,
    tradeCount: candle.tradeCount,
    closed: true,
  };
}

/** The synthetic trades and the closed candle event one candle is replayed as, in time order. */
export function intrabarEvents(candle: MinuteCandle): MarketEventDraft[] {
  const { exchange, symbol } = parseInstrumentKey(candle.instrumentKey);
  const rising = dec(candle.close).gte(candle.open);
  const path = rising ? [candle.open, candle.low, candle.high, candle.close] : [candle.open, candle.high, candle.low, candle.close];
  const quantity = str(dec(candle.volume).div(path.length));
  const candleSide: Side = rising ? "BUY" : "SELL";
  const events: MarketEventDraft[] = path.map((price, index) => {
    const move = index === 0 ? 0 : dec(price).comparedTo(path[index - 1]!);
    return {
      kind: "trade",
      instrumentKey: candle.instrumentKey,
      exchange,
      symbol,
      time: candle.openTime + INTRABAR_OFFSETS_MS[index]!,
      tradeId: `bar-${candle.openTime}-${index}`,
      price,
      quantity,
      takerSide: move > 0 ? "BUY" : move < 0 ? "SELL" : candleSide,
    };
  });
  events.push(closedCandleEvent(candle, exchange, symbol));
  return events;
}
