/**
 * Live market data from an exchange through ccxt: per instrument, four WebSocket channels (trades,
 * ticker, order book, 1-minute klines) each in its own loop. A dropped channel reconnects with
 * exponential backoff and, while it is down, polls the same data over REST. Klines become closed
 * candles in order and without gaps: minutes the stream skipped are fetched with `fetchOHLCV`.
 */
import type { OHLCV, OrderBook, Ticker, Trade } from "ccxt";
import type { ExchangeTuning } from "../config";
import { VenueError } from "../errors";
import { type MarketEventDraft, type MarketInfo, parseInstrumentKey } from "../../schemas";
import { MINUTE_MS, type CandleEventDraft } from "../market/candles";
import type { MarketDataFeed } from "./types";
import type { CcxtConnection } from "./ccxt-connection";
import { bookEventOf, candleEventOf, tickerEventOf, tradeEventOf } from "./ccxt-convert";
import { isOutage } from "./ccxt-errors";
import { KlineCloser } from "./kline-closer";

/** Book levels per side on `market.raw.data`. */
const BOOK_LEVELS = 20;
/** Most bars one fetchOHLCV call returns on the exchanges we know (Binance: 1000). */
const OHLCV_PAGE = 1000;
/** REST polling interval of a channel whose stream is down, or which the exchange does not stream. */
const POLL_INTERVAL_MS: Record<Channel, number> = { trades: 2000, ticker: 2000, book: 2000, candles: 5000 };
/** Trade ids remembered per instrument to drop trades seen twice (a REST poll overlapping the stream). */
const RECENT_TRADE_IDS = 2000;

export type Channel = "trades" | "ticker" | "book" | "candles";
const CHANNELS: Channel[] = ["trades", "ticker", "book", "candles"];
const WATCH_METHOD: Record<Channel, string> = { trades: "watchTrades", ticker: "watchTicker", book: "watchOrderBook", candles: "watchOHLCV" };

export interface ChannelStatus {
  /** `stream` over WebSocket, or `rest` polling (the exchange does not stream it). */
  mode: "stream" | "rest";
  connected: boolean;
  lastMessageAt?: number;
  reconnects: number;
  lastError?: string;
}

export interface StreamStatus {
  instrumentKey: string;
  channels: Record<Channel, ChannelStatus>;
  lastClosedCandleOpenTime?: number;
}

export interface FeedLogger {
  info(message: string): void;
  warn(message: string): void;
}

type Listener = (events: MarketEventDraft[], origin?: { historical: boolean }) => void;

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted || ms <= 0) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

class InstrumentStream {
  readonly abort = new AbortController();
  readonly closer = new KlineCloser();
  readonly channels = Object.fromEntries(
    CHANNELS.map((c) => [c, { mode: "stream", connected: false, reconnects: 0 } satisfies ChannelStatus]),
  ) as Record<Channel, ChannelStatus>;
  lastBookAt = 0;
  lastTradeTime = 0;
  readonly recentTradeIds = new Set<string>();

  constructor(readonly header: { instrumentKey: string; exchange: string; symbol: string }) {}

  get running(): boolean {
    return !this.abort.signal.aborted;
  }
}

export class CcxtFeed implements MarketDataFeed {
  private readonly streams = new Map<string, InstrumentStream>();
  private readonly listeners: Listener[] = [];
  /** Last closed minute of each instrument's registration backfill: where its stream continues. */
  private readonly backfilledThrough = new Map<string, number>();

  constructor(
    private readonly conn: CcxtConnection,
    private readonly tuning: ExchangeTuning,
    private readonly logger: FeedLogger,
  ) {}

  private symbolOf(instrumentKey: string): string {
    let parsed: { exchange: string; symbol: string };
    try {
      parsed = parseInstrumentKey(instrumentKey);
    } catch (err) {
      throw new VenueError("invalid_order", (err as Error).message);
    }
    if (parsed.exchange !== this.conn.id) {
      throw new VenueError("unknown_exchange", `exchange ${parsed.exchange} is not configured: this platform trades on ${this.conn.id} (MARKET_DATA)`);
    }
    return parsed.symbol;
  }

  /**
   * The market's trading rules, once the exchange has answered for it just now: registration must
   * not succeed on a cached market list while the exchange is unreachable (one light ticker request).
   */
  async market(instrumentKey: string): Promise<MarketInfo> {
    const symbol = this.symbolOf(instrumentKey);
    const info = await this.conn.market(symbol);
    await this.conn.rest((ex) => ex.fetchTicker(symbol));
    return info;
  }

  /** The newest `limit` closed 1-minute candles, oldest first. */
  async history(instrumentKey: string, limit: number): Promise<CandleEventDraft[]> {
    const symbol = this.symbolOf(instrumentKey);
    await this.conn.market(symbol);
    // The newest bar a venue returns is the minute still open: ask for one more and drop it.
    const bars = await this.latestBars(symbol, limit + 1);
    const closed = bars.slice(0, -1).slice(-limit);
    const header = this.headerOf(instrumentKey, symbol);
    const candles = closed.map((bar) => candleEventOf(header, bar, true));
    const last = candles.at(-1)?.openTime;
    // A stream not started yet continues from here; a running one keeps its own place (it may not
    // have closed the newest of these minutes yet, and must not skip it).
    if (last !== undefined && !this.streams.has(instrumentKey)) {
      this.backfilledThrough.set(instrumentKey, Math.max(last, this.backfilledThrough.get(instrumentKey) ?? 0));
    }
    return candles;
  }

  /** Newest `count` bars, paging backwards from the newest page. */
  private async latestBars(symbol: string, count: number): Promise<OHLCV[]> {
    let bars = await this.conn.rest((ex) => ex.fetchOHLCV(symbol, "1m", undefined, Math.min(count, OHLCV_PAGE)));
    while (bars.length > 0 && bars.length < count) {
      const oldest = Number(bars[0]![0]);
      const want = Math.min(count - bars.length, OHLCV_PAGE);
      const page = await this.conn.rest((ex) => ex.fetchOHLCV(symbol, "1m", oldest - want * MINUTE_MS, want));
      const older = page.filter((bar) => Number(bar[0]) < oldest);
      if (older.length === 0) break;
      bars = [...older, ...bars];
    }
    return bars;
  }

  /** Bars of the minutes [from, to), paging forwards. */
  private async barsBetween(symbol: string, from: number, to: number): Promise<OHLCV[]> {
    const bars: OHLCV[] = [];
    let since = from;
    while (since < to) {
      const page = await this.conn.rest((ex) => ex.fetchOHLCV(symbol, "1m", since, Math.min(Math.ceil((to - since) / MINUTE_MS), OHLCV_PAGE)));
      const fresh = page.filter((bar) => Number(bar[0]) >= since && Number(bar[0]) < to);
      if (fresh.length === 0) break;
      bars.push(...fresh);
      since = Number(fresh.at(-1)![0]) + MINUTE_MS;
    }
    return bars;
  }

  async subscribe(instrumentKey: string): Promise<void> {
    const symbol = this.symbolOf(instrumentKey);
    try {
      await this.conn.market(symbol);
    } catch (err) {
      // Unlisted symbols are refused; an outage is not: the stream comes up when the venue does.
      if (!(err instanceof VenueError && err.code === "venue_unavailable")) throw err;
      this.logger.warn(`${instrumentKey}: ${err.message}; the stream starts when the exchange answers`);
    }
    if (this.streams.has(instrumentKey)) return;
    const stream = new InstrumentStream(this.headerOf(instrumentKey, symbol));
    const through = this.backfilledThrough.get(instrumentKey);
    if (through !== undefined) stream.closer.closedThrough(through);
    this.streams.set(instrumentKey, stream);
    for (const channel of CHANNELS) void this.runChannel(stream, channel);
  }

  async unsubscribe(instrumentKey: string): Promise<void> {
    const stream = this.streams.get(instrumentKey);
    if (!stream) return;
    stream.abort.abort();
    this.streams.delete(instrumentKey);
    const ex = this.conn.exchange as unknown as Record<string, ((symbol: string) => Promise<unknown>) | undefined>;
    for (const method of ["unWatchTrades", "unWatchTicker", "unWatchOrderBook"]) {
      if (this.conn.exchange.has[method]) await ex[method]?.call(this.conn.exchange, stream.header.symbol).catch(() => undefined);
    }
    if (this.conn.exchange.has.unWatchOHLCV) await this.conn.exchange.unWatchOHLCV(stream.header.symbol, "1m").catch(() => undefined);
  }

  subscriptions(): string[] {
    return [...this.streams.keys()];
  }

  onEvents(listener: Listener): void {
    this.listeners.push(listener);
  }

  now(): number {
    return this.conn.clock.now();
  }

  async stop(): Promise<void> {
    for (const stream of this.streams.values()) stream.abort.abort();
    this.streams.clear();
  }

  status(): StreamStatus[] {
    return [...this.streams.values()].map((s) => ({
      instrumentKey: s.header.instrumentKey,
      channels: structuredClone(s.channels),
      ...(s.closer.lastClosedOpenTime !== undefined && { lastClosedCandleOpenTime: s.closer.lastClosedOpenTime }),
    }));
  }

  private headerOf(instrumentKey: string, symbol: string) {
    return { instrumentKey, exchange: this.conn.id, symbol };
  }

  private emit(events: MarketEventDraft[], historical = false): void {
    if (events.length === 0) return;
    for (const listener of this.listeners) listener(events, { historical });
  }

  /** One channel: stream over WebSocket, reconnect with backoff, poll REST while down. */
  private async runChannel(stream: InstrumentStream, channel: Channel): Promise<void> {
    const state = stream.channels[channel];
    const { signal } = stream.abort;
    if (!this.conn.exchange.has[WATCH_METHOD[channel]]) {
      state.mode = "rest";
      while (stream.running) {
        await this.poll(stream, channel);
        await sleep(POLL_INTERVAL_MS[channel], signal);
      }
      return;
    }
    let attempt = 0;
    while (stream.running) {
      try {
        // ccxt's watch methods would reuse a failed market load forever: load through the connection.
        await this.conn.loadMarkets();
        await this.watch(stream, channel);
        if (!stream.running) return;
        this.conn.breaker.success();
        state.lastMessageAt = this.conn.clock.now();
        if (!state.connected) {
          state.connected = true;
          if (attempt > 0 || state.lastError) {
            state.reconnects++;
            this.logger.info(`${stream.header.instrumentKey} ${channel}: stream back`);
          }
        }
        attempt = 0;
      } catch (err) {
        if (!stream.running) return;
        const message = this.conn.redact(String((err as Error)?.message ?? err));
        if (state.connected || state.lastError !== message) this.logger.warn(`${stream.header.instrumentKey} ${channel}: stream down (${message})`);
        state.connected = false;
        state.lastError = message.slice(0, 300);
        if (isOutage(err)) this.conn.breaker.failure(message);
        const delay = Math.min(this.tuning.reconnectBaseMs * 2 ** attempt, this.tuning.reconnectMaxMs) * (0.8 + 0.4 * Math.random());
        attempt++;
        // REST fallback: the same data, polled, until it is time to dial the stream again.
        const until = this.conn.clock.now() + delay;
        while (stream.running && this.conn.clock.now() < until) {
          await this.poll(stream, channel);
          await sleep(Math.min(POLL_INTERVAL_MS[channel], until - this.conn.clock.now()), signal);
        }
      }
    }
  }

  /** Waits for one update of a channel and relays it. */
  private async watch(stream: InstrumentStream, channel: Channel): Promise<void> {
    const ex = this.conn.exchange;
    const { symbol } = stream.header;
    switch (channel) {
      case "trades":
        return this.onTrades(stream, await ex.watchTrades(symbol));
      case "ticker":
        return this.onTicker(stream, await ex.watchTicker(symbol));
      case "book":
        return this.onBook(stream, await ex.watchOrderBook(symbol));
      case "candles":
        return this.onBars(stream, await ex.watchOHLCV(symbol, "1m"), false);
    }
  }

  /** One REST poll of a channel; failures are only noted (the stream loop reports the outage). */
  private async poll(stream: InstrumentStream, channel: Channel): Promise<void> {
    const { symbol } = stream.header;
    try {
      switch (channel) {
        case "trades":
          return this.onTrades(stream, await this.conn.rest((ex) => ex.fetchTrades(symbol, undefined, 100)));
        case "ticker":
          return this.onTicker(stream, await this.conn.rest((ex) => ex.fetchTicker(symbol)));
        case "book":
          stream.lastBookAt = 0; // a polled book is always news
          return this.onBook(stream, await this.conn.rest((ex) => ex.fetchOrderBook(symbol, BOOK_LEVELS)));
        case "candles": {
          const from = stream.closer.lastClosedOpenTime;
          const bars = from === undefined ? await this.latestBars(symbol, 2) : await this.barsBetween(symbol, from + MINUTE_MS, Number.MAX_SAFE_INTEGER);
          return this.onBars(stream, bars, true);
        }
      }
    } catch (err) {
      stream.channels[channel].lastError = this.conn.redact(String((err as Error)?.message ?? err)).slice(0, 300);
    }
  }

  private onTrades(stream: InstrumentStream, trades: Trade[]): void {
    const events: MarketEventDraft[] = [];
    for (const trade of [...trades].sort((a, b) => (a.timestamp ?? 0) - (b.timestamp ?? 0))) {
      const event = tradeEventOf(stream.header, trade);
      if (!event || event.time < stream.lastTradeTime || stream.recentTradeIds.has(event.tradeId)) continue;
      stream.lastTradeTime = event.time;
      stream.recentTradeIds.add(event.tradeId);
      if (stream.recentTradeIds.size > RECENT_TRADE_IDS) stream.recentTradeIds.delete(stream.recentTradeIds.values().next().value!);
      events.push(event);
    }
    this.emit(events);
  }

  private onTicker(stream: InstrumentStream, ticker: Ticker): void {
    const event = tickerEventOf(stream.header, ticker, this.conn.clock.now());
    if (event) this.emit([event]);
  }

  /** Books change many times a second; at most one per `bookIntervalMs` goes out. */
  private onBook(stream: InstrumentStream, book: OrderBook): void {
    const now = this.conn.clock.now();
    if (now - stream.lastBookAt < this.tuning.bookIntervalMs) return;
    stream.lastBookAt = now;
    this.emit([bookEventOf(stream.header, book, BOOK_LEVELS, now)]);
  }

  /** Bars in; closed candles out, gaps filled from REST first so candles stay in order. */
  private async onBars(stream: InstrumentStream, bars: OHLCV[], historical: boolean): Promise<void> {
    for (const bar of [...bars].sort((a, b) => Number(a[0]) - Number(b[0]))) {
      const step = stream.closer.accept(bar);
      if (step?.closed) {
        this.emit([candleEventOf(stream.header, step.closed, true)], historical);
        stream.closer.closedThrough(Number(step.closed[0]));
      } else if (step?.backfill) {
        await this.backfill(stream, step.backfill.from, step.backfill.to);
      }
    }
  }

  private async backfill(stream: InstrumentStream, from: number, to: number): Promise<void> {
    const minutes = Math.round((to - from) / MINUTE_MS);
    try {
      const bars = await this.barsBetween(stream.header.symbol, from, to);
      this.emit(bars.map((bar) => candleEventOf(stream.header, bar, true)), true);
      if (bars.length > 0) stream.closer.closedThrough(Number(bars.at(-1)![0]));
      if (minutes > 1) this.logger.info(`${stream.header.instrumentKey}: backfilled ${bars.length} of ${minutes} missed 1-minute candles`);
    } catch (err) {
      // Left pending: the next closed minute asks for the whole gap again.
      this.logger.warn(`${stream.header.instrumentKey}: backfill of ${minutes} candle(s) failed (${this.conn.redact((err as Error).message)})`);
    }
  }
}
