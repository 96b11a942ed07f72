/**
 * The replay feed of a backtest: the market data store played through the exchange facade's seam
 * (`MarketDataFeed`) on a clock the data advances, never the wall clock and never a sleep.
 *
 * `advance(until)` plays every event of the subscribed instruments with a time in [position, until)
 * (`run()` plays to the end of the range), merged in time order; events of equal time go by instrument
 * key (code-point order), then kind (trade, book, candle: a candle closes its minute after the trades
 * of its last millisecond), then the store's order (trades by trade id). Before a batch reaches the
 * listeners the clock is set to its time, so everything downstream reads market time from `now()`; a
 * batch is the run of consecutive events of one instrument at one time. A listener that returns a
 * promise is awaited before the next batch (backpressure). After `advance(until)` the clock reads
 * `until` (at most the range's end). The store is read a page at a time per instrument and kind: a year never sits in memory.
 *
 * Fidelity, per instrument, from what the store holds in the range (`fidelityOf`):
 *   "recorded": trades or book snapshots were recorded: the recorded trades, books (as book events)
 *               and stored 1-minute candles (as closed candle events, at closeTime, as the live facade
 *               emits them). Tickers are not stored, so none are replayed.
 *   "candles":  candles only (imported history): each candle as the intrabar path of ./intrabar.ts.
 *   "none":     nothing in the range: the instrument plays no events.
 * One level per instrument for the whole range: an instrument whose range starts with imported candles
 * and ends with a recorded stream replays as "recorded", and its imported minutes as candle closes only.
 * Every event played has its time in [from, to) (and at or after the replay position for an instrument
 * subscribed mid-replay): a recorded candle plays when its close time does; under "candles" only bars
 * whose whole minute lies there are played, so no synthetic trade falls outside.
 */
import { ManualClock } from "../clock";
import { invalidField } from "../errors";
import { simMarketInfo } from "../market/catalog";
import { MINUTE_MS, type CandleEventDraft } from "../market/candles";
import { DEFAULT_PAGE_SIZE, type MarketDataStore, type TimeRange } from "../marketdata/types";
import { type MarketEventDraft, type MarketInfo, parseInstrumentKey } from "../../schemas";
import type { MarketDataFeed } from "../venue/types";
import { closedCandleEvent, intrabarEvents } from "./intrabar";

export type ReplayFidelity = "recorded" | "candles" | "none";

export interface ReplayFeedOptions {
  store: MarketDataStore;
  /** The replayed range [from, to), epoch ms. */
  range: TimeRange;
  /** The simulated clock the feed sets; it starts at `range.from`. Pass the one the rest of the backtest reads. */
  clock?: ManualClock;
  /** Rows per store read. */
  pageSize?: number;
  /** Trading rules of a market; the simulator's catalogue by default. */
  market?: (exchange: string, symbol: string) => MarketInfo;
}

type Listener = (events: MarketEventDraft[], origin?: { historical: boolean }) => void | Promise<void>;

const KIND_RANK: Record<MarketEventDraft["kind"], number> = { trade: 0, ticker: 1, book: 2, candle: 3 };

/** One time-ordered stream of replay events, drawn from a paged store read a page at a time. */
class EventCursor {
  private readonly pages: AsyncIterator<MarketEventDraft[]>;
  private page: MarketEventDraft[] = [];
  private index = 0;
  private done = false;

  constructor(pages: AsyncIterable<MarketEventDraft[]>) {
    this.pages = pages[Symbol.asyncIterator]();
  }

  /** True when the page is used up and another may follow: `load` before reading `head`. */
  get exhausted(): boolean {
    return this.index >= this.page.length && !this.done;
  }

  /** Reads pages until one has an event or the stream ends. */
  async load(): Promise<void> {
    while (this.exhausted) {
      const next = await this.pages.next();
      if (next.done) this.done = true;
      else [this.page, this.index] = [next.value, 0];
    }
  }

  /** The next event of a loaded cursor; undefined at the end. */
  head(): MarketEventDraft | undefined {
    return this.page[this.index];
  }

  take(): void {
    this.index += 1;
  }

  async close(): Promise<void> {
    if (!this.done) await this.pages.return?.();
    this.done = true;
  }
}

async function* mapPages<T>(pages: AsyncIterable<T[]>, toEvents: (row: T) => MarketEventDraft | MarketEventDraft[]): AsyncIterable<MarketEventDraft[]> {
  for await (const page of pages) yield page.flatMap(toEvents);
}

/** Whether a paged read yields at least one row (reads one row at most). */
async function holdsAny(pages: AsyncIterable<unknown[]>): Promise<boolean> {
  for await (const page of pages) if (page.length > 0) return true;
  return false;
}

/** Orders two events of different streams: time, instrument key, kind. */
function playsBefore(a: MarketEventDraft, b: MarketEventDraft): boolean {
  if (a.time !== b.time) return a.time < b.time;
  if (a.instrumentKey !== b.instrumentKey) return a.instrumentKey < b.instrumentKey;
  return KIND_RANK[a.kind] < KIND_RANK[b.kind];
}

export class ReplayFeed implements MarketDataFeed {
  readonly clock: ManualClock;
  private readonly store: MarketDataStore;
  private readonly range: TimeRange;
  private readonly pageSize: number;
  private readonly marketOf: (exchange: string, symbol: string) => MarketInfo;
  private readonly listeners: Listener[] = [];
  private readonly fidelity = new Map<string, ReplayFidelity>();
  private readonly cursors = new Map<string, EventCursor[]>();
  /** Every event before this time has been played. */
  private position: number;

  constructor(options: ReplayFeedOptions) {
    const { from, to } = options.range;
    if (!Number.isSafeInteger(from) || from < 0) throw invalidField("from", "must be a time in epoch milliseconds", from);
    if (!Number.isSafeInteger(to) || to <= from) throw invalidField("to", "must be a time in epoch milliseconds after from", to);
    this.store = options.store;
    this.range = { from, to };
    this.pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
    this.marketOf = options.market ?? simMarketInfo;
    this.clock = options.clock ?? new ManualClock();
    this.clock.set(from);
    this.position = from;
  }

  now(): number {
    return this.clock.now();
  }

  async market(instrumentKey: string): Promise<MarketInfo> {
    const { exchange, symbol } = parseInstrumentKey(instrumentKey);
    return this.marketOf(exchange, symbol);
  }

  /** The fidelity an instrument replays at; known once it is subscribed. */
  fidelityOf(instrumentKey: string): ReplayFidelity | undefined {
    return this.fidelity.get(instrumentKey);
  }

  /** The newest `limit` stored candles closed before the replay position, oldest first: the live backfill. */
  async history(instrumentKey: string, limit: number): Promise<CandleEventDraft[]> {
    const { exchange, symbol } = parseInstrumentKey(instrumentKey);
    await this.market(instrumentKey);
    // closeTime < position  <=>  openTime < position - MINUTE_MS + 1
    const before = this.position - MINUTE_MS + 1;
    if (before <= 0) return [];
    const candles = await this.store.recentCandles(instrumentKey, "1m", { before, limit });
    return candles.map((candle) => closedCandleEvent(candle, exchange, symbol));
  }

  /** Starts replaying an instrument from the replay position (idempotent); `resumeFrom` is meaningless for recorded data and ignored. */
  async subscribe(instrumentKey: string): Promise<void> {
    await this.market(instrumentKey);
    if (this.cursors.has(instrumentKey)) return;
    const range = { from: this.position, to: this.range.to };
    const lastOpen = range.to - MINUTE_MS + 1; // closeTime < to
    // Recorded: candle events whose time (closeTime) is in the range. Candles: bars whose whole minute is.
    const closingInRange = { from: Math.max(0, range.from - MINUTE_MS + 1), to: lastOpen };
    const wholeInRange = { from: Math.ceil(range.from / MINUTE_MS) * MINUTE_MS, to: lastOpen };
    const { exchange, symbol } = parseInstrumentKey(instrumentKey);
    const store = this.store;
    const recorded = (await holdsAny(store.readTrades(instrumentKey, range, 1))) || (await holdsAny(store.readBooks(instrumentKey, range, 1)));
    const fidelity: ReplayFidelity = recorded ? "recorded" : wholeInRange.from < wholeInRange.to && (await holdsAny(store.readCandles(instrumentKey, wholeInRange, 1))) ? "candles" : "none";
    this.fidelity.set(instrumentKey, fidelity);
    const cursors: EventCursor[] = [];
    if (fidelity === "recorded") {
      cursors.push(
        new EventCursor(mapPages(store.readTrades(instrumentKey, range, this.pageSize), ({ time, tradeId, price, quantity, takerSide }) => ({ kind: "trade", instrumentKey, exchange, symbol, time, tradeId, price, quantity, takerSide }))),
        new EventCursor(mapPages(store.readBooks(instrumentKey, range, this.pageSize), ({ time, bids, asks }) => ({ kind: "book", instrumentKey, exchange, symbol, time, bids, asks }))),
      );
      if (closingInRange.from < closingInRange.to) {
        cursors.push(new EventCursor(mapPages(store.readCandles(instrumentKey, closingInRange, this.pageSize), (candle) => closedCandleEvent(candle, exchange, symbol))));
      }
    } else if (fidelity === "candles") {
      cursors.push(new EventCursor(mapPages(store.readCandles(instrumentKey, wholeInRange, this.pageSize), intrabarEvents)));
    }
    this.cursors.set(instrumentKey, cursors);
  }

  async unsubscribe(instrumentKey: string): Promise<void> {
    const cursors = this.cursors.get(instrumentKey);
    this.cursors.delete(instrumentKey);
    for (const cursor of cursors ?? []) await cursor.close();
  }

  subscriptions(): string[] {
    return [...this.cursors.keys()];
  }

  onEvents(listener: Listener): void {
    this.listeners.push(listener);
  }

  /**
   * Plays every event with a time in [position, until) of the subscribed instruments, then sets the
   * clock to `until` (at most the range's end). Returns the number of events played.
   */
  async advance(until: number): Promise<number> {
    const end = Math.min(until, this.range.to);
    let played = 0;
    let batch: MarketEventDraft[] = [];
    const flush = async () => {
      if (batch.length === 0) return;
      const events = batch;
      batch = [];
      this.clock.set(events[0]!.time);
      for (const listener of this.listeners) {
        const delivered = listener(events);
        if (delivered) await delivered;
      }
    };
    for (;;) {
      let next: { event: MarketEventDraft; cursor: EventCursor } | undefined;
      for (const cursors of this.cursors.values()) {
        for (const cursor of cursors) {
          // Awaiting only at a page boundary keeps the per-event path synchronous.
          if (cursor.exhausted) await cursor.load();
          const event = cursor.head();
          if (event && event.time < end && (!next || playsBefore(event, next.event))) next = { event, cursor };
        }
      }
      if (!next) break;
      next.cursor.take();
      const head = batch[0];
      if (head && (head.time !== next.event.time || head.instrumentKey !== next.event.instrumentKey)) await flush();
      batch.push(next.event);
      played += 1;
    }
    await flush();
    if (end > this.position) {
      this.position = end;
      this.clock.set(end);
    }
    return played;
  }

  /** Plays the whole remaining range. */
  run(): Promise<number> {
    return this.advance(this.range.to);
  }

  async stop(): Promise<void> {
    for (const key of [...this.cursors.keys()]) await this.unsubscribe(key);
  }
}
