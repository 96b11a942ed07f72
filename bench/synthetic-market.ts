/**
 * Synthetic `market.raw.data` events for the pipeline benchmark: per instrument, minute after
 * minute, some trades and tickers inside the minute then the closed 1-minute candle, with strictly
 * increasing open times. Closes follow a sine wave (default period 30 candles) plus a little noise,
 * so the MACD histogram crosses zero about twice a period and the rule strategy emits BUY and SELL
 * signals regularly. Every event is valid against the market.raw.data schema.
 */
import { type CandleEvent, type MarketEvent, type TickerEvent, type TradeEvent, instrumentKeyOf } from "../schemas";
import { MINUTE_MS, minuteOf } from "../lib/market/candles";
import { Random } from "../lib/market/random";

export interface SyntheticMarketOptions {
  exchange: string;
  symbol: string;
  /** Centre of the sine wave. */
  price: number;
  /** Decimals of prices (the market's tick). */
  priceDecimals?: number;
  /** Candles per sine period. */
  periodCandles?: number;
  /** Amplitude as a fraction of the price. */
  amplitude?: number;
  /** Relative noise per candle. */
  noise?: number;
  /** Open time of the first candle (aligned to the minute). */
  firstOpenTime: number;
  seed?: number;
}


export class SyntheticMarket {
  readonly exchange: string;
  readonly symbol: string;
  readonly instrumentKey: string;
  /** Open time of the next candle. */
  openTime: number;
  private readonly price: number;
  private readonly decimals: number;
  private readonly period: number;
  private readonly amplitude: number;
  private readonly noise: number;
  private readonly random: () => number;
  private index = 0;
  private lastClose: number;
  private tradeSeq = 0;

  constructor(options: SyntheticMarketOptions) {
    this.exchange = options.exchange;
    this.symbol = options.symbol;
    this.instrumentKey = instrumentKeyOf(options.exchange, options.symbol);
    this.price = options.price;
    this.decimals = options.priceDecimals ?? 2;
    this.period = options.periodCandles ?? 30;
    this.amplitude = options.amplitude ?? 0.01;
    this.noise = options.noise ?? 0.0005;
    this.openTime = minuteOf(options.firstOpenTime);
    const random = new Random(options.seed ?? 1);
    this.random = () => random.next();
    this.lastClose = this.closeAt(-1);
  }

  private closeAt(i: number): number {
    const wave = Math.sin((2 * Math.PI * i) / this.period);
    return this.price * (1 + this.amplitude * wave + this.noise * (this.random() - 0.5));
  }

  private fmt(x: number): string {
    return x.toFixed(this.decimals);
  }

  /**
   * One minute of this instrument: `trades` trades and `tickers` tickers spread across the minute
   * (prices moving from the open to the close), then the closed candle.
   */
  minute(trades: number, tickers: number, receivedAt: number): MarketEvent[] {
    const { instrumentKey, exchange, symbol } = this;
    const openTime = this.openTime;
    const open = this.lastClose;
    const close = this.closeAt(this.index);
    const events: MarketEvent[] = [];
    const steps = trades + tickers;
    let high = Math.max(open, close);
    let low = Math.min(open, close);
    let tickerLeft = tickers;
    for (let s = 0; s < steps; s++) {
      const time = openTime + Math.floor(((s + 1) * (MINUTE_MS - 1)) / (steps + 1));
      const p = open + ((close - open) * (s + 1)) / (steps + 1) + open * this.noise * (this.random() - 0.5);
      high = Math.max(high, p);
      low = Math.min(low, p);
      // Tickers evenly among the trades.
      const isTicker = tickerLeft > 0 && Math.floor(((s + 1) * tickers) / steps) > tickers - tickerLeft;
      if (isTicker) {
        tickerLeft--;
        const half = p * 0.0001;
        const ticker: TickerEvent = {
          kind: "ticker", instrumentKey, exchange, symbol, time, receivedAt,
          bid: this.fmt(p - half), ask: this.fmt(p + half), last: this.fmt(p), bidQuantity: "1.5", askQuantity: "1.25",
        };
        events.push(ticker);
      } else {
        const trade: TradeEvent = {
          kind: "trade", instrumentKey, exchange, symbol, time, receivedAt,
          tradeId: String(++this.tradeSeq), price: this.fmt(p), quantity: "0.01", takerSide: s % 2 === 0 ? "BUY" : "SELL",
        };
        events.push(trade);
      }
    }
    events.push(this.closeCandle(open, close, high, low, trades, receivedAt));
    return events;
  }

  private closeCandle(open: number, close: number, high: number, low: number, trades: number, receivedAt: number): CandleEvent {
    const openTime = this.openTime;
    const candle: CandleEvent = {
      kind: "candle",
      instrumentKey: this.instrumentKey,
      exchange: this.exchange,
      symbol: this.symbol,
      time: openTime + MINUTE_MS - 1,
      receivedAt,
      timeframe: "1m",
      openTime,
      closeTime: openTime + MINUTE_MS - 1,
      open: this.fmt(open),
      high: this.fmt(high * (1 + this.noise / 4)),
      low: this.fmt(low * (1 - this.noise / 4)),
      close: this.fmt(close),
      volume: (0.01 * Math.max(1, trades)).toFixed(2),
      tradeCount: trades,
      closed: true,
    };
    this.lastClose = close;
    this.index++;
    this.openTime += MINUTE_MS;
    return candle;
  }
}
