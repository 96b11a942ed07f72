/**
 * Data Ingestion: owns the market data store (lib/marketdata: DuckDB embedded, QuestDB distributed).
 * On `instrument.registered` it backfills recent candles through the facade and starts the
 * instrument's stream; it stores every trade, order-book snapshot and closed 1-minute candle of
 * `market.raw.data` and the indicator rows of `features.indicators`, applies each kind's retention,
 * keeps the latest trades, ticker and order book in memory, and serves history (any timeframe) and
 * coverage to the other services and the API.
 */
import type { Context, ServiceSchema, ServiceSettingSchema } from "moleculer";
import { TopicsMixin, type TopicMethods } from "../mixins/topics.mixin";
import { Candle, FeaturesComputed, type InstrumentRegistered, MarketCoverage, type MarketEvent, TOPICS, TradeEvent } from "../schemas";
import { BOOK, listOf } from "../schemas/api";
import { INGESTION_PARAMS } from "../schemas/requests/ingestion";
import { platformConfig } from "../lib/config";
import { wallClock } from "../lib/clock";
import { openMarketStore } from "../lib/marketdata/open";
import { checkBooks, checkCandles, checkIndicators, checkTrades } from "../lib/marketdata/rows";
import type { MarketDataStore, MinuteCandle, RecentWindow, StoredBook, StoredTrade, Timeframe } from "../lib/marketdata/types";
import { GroupWriter, LatestMarketData, applyRetention, marketRows, minuteCandle, storeFailure } from "../lib/market/history";
import { timeframeIndicators } from "../lib/features/timeframes";

/** How often retention runs after the run at start. */
export const RETENTION_INTERVAL_MS = 10 * 60_000;
/** Rows a history query answers when it names no `limit`. */
const DEFAULT_HISTORY_LIMIT = 300;

interface HistoryParams {
  instrument: string;
  timeframe?: Timeframe;
  limit?: number;
  /** Rows opened before this time (epoch ms). */
  before?: number;
  /** Rows opened after this time (epoch ms). */
  after?: number;
}

interface IngestionLocals {
  store: MarketDataStore;
  /** Group commits of the topics' rows, per kind. */
  writers: { trades: GroupWriter<StoredTrade>; books: GroupWriter<StoredBook>; candles: GroupWriter<MinuteCandle>; indicators: GroupWriter<FeaturesComputed> };
  latest: LatestMarketData;
  retentionTimer?: NodeJS.Timeout;
}

interface IngestionMethods extends TopicMethods {
  activate(instrumentKey: string): Promise<void>;
  notStored(candles: readonly MinuteCandle[]): Promise<MinuteCandle[]>;
  storeMarketEvents(events: readonly MarketEvent[]): Promise<void>;
  dropExpired(): Promise<void>;
}

const recentWindow = ({ limit, before, after }: HistoryParams): RecentWindow => ({ limit: limit ?? DEFAULT_HISTORY_LIMIT, before, after });

const IngestionService: ServiceSchema<ServiceSettingSchema, IngestionMethods, IngestionLocals> = {
  name: "ingestion",
  dependencies: ["exchange"],
  settings: { rest: "/" },
  mixins: [TopicsMixin()],

  topics: {
    [TOPICS.instrumentRegistered]: {
      async handler(event: InstrumentRegistered) {
        if (event.status === "active") await this.activate(event.instrumentKey);
        else await this.broker.call("exchange.stopMarketDataStream", { instrumentKey: event.instrumentKey });
      },
    },

    // Batches: the messages waiting in a partition are written together; their offsets commit once the rows are stored.
    [TOPICS.marketRawData]: {
      batch: true,
      async handler(events: MarketEvent[]) {
        await this.storeMarketEvents(events);
      },
    },

    [TOPICS.featuresIndicators]: {
      batch: true,
      async handler(rows: FeaturesComputed[]) {
        // A bad row fails this batch alone (422), before it joins a write shared with other partitions.
        checkIndicators(rows);
        await this.writers.indicators.add(rows).catch(storeFailure);
      },
    },
  },

  actions: {
    /** Closed candles of a timeframe (1-minute by default), oldest first: the latest `limit` between `after` and `before`. */
    candles: {
      rest: "GET /market/candles",
      openapi: { response: listOf(Candle) },
      params: INGESTION_PARAMS.candles,
      handler(ctx: Context<HistoryParams>) {
        return this.store.recentCandles(ctx.params.instrument, ctx.params.timeframe ?? "1m", recentWindow(ctx.params)).catch(storeFailure);
      },
    },

    /** Indicator rows of those candles, oldest first: the stored rows of 1-minute candles, computed for the other timeframes. */
    indicators: {
      rest: "GET /market/indicators",
      openapi: { response: listOf(FeaturesComputed) },
      params: INGESTION_PARAMS.indicators,
      handler(ctx: Context<HistoryParams>) {
        const { instrument, timeframe = "1m" } = ctx.params;
        const rows = timeframe === "1m" ? this.store.recentIndicators(instrument, recentWindow(ctx.params)) : timeframeIndicators(this.store, instrument, timeframe, recentWindow(ctx.params));
        return rows.catch(storeFailure);
      },
    },

    /** What the store holds per instrument (all, or the one named): each kind's time range and rows, and the gaps among the candles. */
    coverage: {
      rest: "GET /market/coverage",
      openapi: { response: listOf(MarketCoverage) },
      params: INGESTION_PARAMS.coverage,
      handler(ctx: Context<{ instrument?: string }>) {
        return this.store.coverage(ctx.params.instrument).catch(storeFailure);
      },
    },

    /** Indicator rows of stored candles that never came live (backfill), from the features service. */
    storeIndicators: {
      visibility: "public",
      params: INGESTION_PARAMS.storeIndicators,
      async handler(ctx: Context<{ rows: FeaturesComputed[] }>) {
        await this.store.writeIndicators(ctx.params.rows).catch(storeFailure);
      },
    },

    trades: {
      rest: "GET /market/trades",
      openapi: { response: listOf(TradeEvent) },
      params: INGESTION_PARAMS.trades,
      handler(ctx: Context<{ instrument: string; limit?: number }>) {
        return this.latest.recentTrades(ctx.params.instrument, ctx.params.limit);
      },
    },

    book: {
      rest: "GET /market/book",
      openapi: { response: BOOK },
      params: INGESTION_PARAMS.book,
      handler(ctx: Context<{ instrument: string }>) {
        return this.latest.bookOf(ctx.params.instrument);
      },
    },
  },

  methods: {
    /** Backfills the candle history, then starts the live stream. */
    async activate(instrumentKey: string) {
      const config = platformConfig(this.broker);
      const history = await this.broker.call<Candle[], { instrumentKey: string; limit: number }>("exchange.candles", {
        instrumentKey,
        limit: config.backfillCandles,
      });
      if (history.length > 0) {
        await this.store.writeCandles(await this.notStored(history.map(minuteCandle))).catch(storeFailure);
        // The features service computes the backfilled candles' indicator rows (storeIndicators).
        this.broker.emit("ingestion.backfilled", { instrumentKey, before: history[history.length - 1].openTime + 1 });
      }
      await this.broker.call("exchange.startMarketDataStream", { instrumentKey });
    },

    /**
     * The candles the store lacks (the first of a minute given twice). Stored ones stay as they are: the
     * indicators published for them were computed from them, and a minute given again need not be the
     * same — a backfill, or a restarted simulator re-running minutes after its last saved time, is not.
     */
    async notStored(candles: readonly MinuteCandle[]) {
      const byInstrument = new Map<string, Map<number, MinuteCandle>>();
      for (const candle of candles) {
        const minutes = byInstrument.get(candle.instrumentKey) ?? byInstrument.set(candle.instrumentKey, new Map()).get(candle.instrumentKey)!;
        if (!minutes.has(candle.openTime)) minutes.set(candle.openTime, candle);
      }
      const fresh: MinuteCandle[] = [];
      for (const [instrumentKey, minutes] of byInstrument) {
        const times = [...minutes.keys()];
        const window = { after: Math.min(...times) - 1, before: Math.max(...times) + 1, limit: minutes.size };
        for (const stored of await this.store.recentCandles(instrumentKey, "1m", window).catch(storeFailure)) minutes.delete(stored.openTime);
        fresh.push(...minutes.values());
      }
      return fresh;
    },

    /**
     * The events' trades, book snapshots and new closed candles, one write per kind shared with the other
     * partitions' batches (writes are idempotent, so a redelivery changes nothing).
     */
    async storeMarketEvents(events: readonly MarketEvent[]) {
      const { trades, books, candles } = marketRows(events);
      // A bad row fails this batch alone (422), before it joins a write shared with other partitions.
      checkTrades(trades);
      checkBooks(books);
      checkCandles(candles);
      const newCandles = candles.length === 0 ? candles : await this.notStored(candles);
      await Promise.all([this.writers.trades.add(trades), this.writers.books.add(books), this.writers.candles.add(newCandles)]).catch(storeFailure);
      // After the writes: a batch that failed comes again, and its trades would be kept twice in memory.
      for (const event of events) this.latest.take(event);
    },

    async dropExpired() {
      await applyRetention(this.store, platformConfig(this.broker).retention).catch((err: Error) => this.logger.warn(`market data retention: ${err.message}`));
    },
  },

  created() {
    this.latest = new LatestMarketData();
  },

  async started() {
    const store = (this.store = await openMarketStore(platformConfig(this.broker).marketStore, wallClock));
    this.writers = {
      trades: new GroupWriter((rows) => store.writeTrades(rows)),
      books: new GroupWriter((rows) => store.writeBooks(rows)),
      candles: new GroupWriter((rows) => store.writeCandles(rows)),
      indicators: new GroupWriter((rows) => store.writeIndicators(rows)),
    };
    await this.dropExpired();
    this.retentionTimer = setInterval(() => void this.dropExpired(), RETENTION_INTERVAL_MS);
    // Streams of instruments registered before a restart start again (the registration events are gone).
    await this.broker.waitForServices(["risk"]);
    const instruments = await this.broker.call<Array<{ instrumentKey: string; enabled: boolean }>>("risk.listInstruments");
    for (const i of instruments) if (i.enabled) await this.activate(i.instrumentKey);
  },

  async stopped() {
    clearInterval(this.retentionTimer);
    await this.store?.close();
  },
};

export default IngestionService;
