/**
 * Data Ingestion: owns the market data store. On `instrument.registered` it backfills recent candles
 * through the facade and starts the instrument's stream; it stores closed candles and indicators
 * (file-backed, bounded retention) and keeps the latest trades, ticker and order book in memory;
 * it serves history queries to the other services and the API.
 */
import type { Context, ServiceSchema, ServiceSettingSchema } from "moleculer";
import { TopicsMixin, type TopicMethods } from "../mixins/topics.mixin";
import { StoreMixin, type Stores } from "../mixins/store.mixin";
import type { Collection } from "../lib/store/collection";
import { Candle, FeaturesComputed, type InstrumentRegistered, type MarketEvent, TOPICS, TradeEvent } from "../schemas";
import { BOOK, listOf } from "../schemas/api";
import { INGESTION_PARAMS } from "../schemas/requests/ingestion";
import { platformConfig } from "../lib/config";
import { CandleRetention, HISTORY_STORE, LatestMarketData, candleId, historyFind, type HistoryQuery } from "../lib/market/history";

type IngestionStores = Stores<{ candles: Candle; indicators: FeaturesComputed }>;

interface IngestionLocals {
  stores: IngestionStores;
  latest: LatestMarketData;
  retention: CandleRetention;
}

interface IngestionMethods extends TopicMethods {
  history<T extends object>(collection: Collection<T>, query: HistoryQuery): Promise<T[]>;
  activate(instrumentKey: string): Promise<void>;
  storeCandle(candle: Candle): Promise<void>;
}

const IngestionService: ServiceSchema<ServiceSettingSchema, IngestionMethods, IngestionLocals> = {
  name: "ingestion",
  dependencies: ["exchange"],
  settings: { rest: "/" },
  mixins: [StoreMixin({ candles: HISTORY_STORE, indicators: HISTORY_STORE }), TopicsMixin()],

  topics: {
    [TOPICS.instrumentRegistered]: {
      async handler(event: InstrumentRegistered) {
        if (event.status === "active") await this.activate(event.instrumentKey);
        else await this.broker.call("exchange.stopMarketDataStream", { instrumentKey: event.instrumentKey });
      },
    },

    [TOPICS.marketRawData]: {
      async handler(event: MarketEvent) {
        if (event.kind !== "candle") return this.latest.take(event);
        if (event.closed) {
          const { instrumentKey, timeframe, openTime, closeTime, open, high, low, close, volume, tradeCount } = event;
          await this.storeCandle({ instrumentKey, timeframe, openTime, closeTime, open, high, low, close, volume, tradeCount });
        }
      },
    },

    [TOPICS.featuresIndicators]: {
      async handler(event: FeaturesComputed) {
        await this.stores.indicators.insertIfAbsent(candleId(event.instrumentKey, event.openTime), event);
      },
    },
  },

  actions: {
    /** Closed 1-minute candles, oldest first: the latest `limit`, or those before `before`. */
    candles: {
      rest: "GET /market/candles",
      openapi: { response: listOf(Candle) },
      params: INGESTION_PARAMS.candles,
      handler(ctx: Context<HistoryQuery>) {
        return this.history(this.stores.candles, ctx.params);
      },
    },

    /** Indicator rows per closed candle, oldest first, like `candles`. */
    indicators: {
      rest: "GET /market/indicators",
      openapi: { response: listOf(FeaturesComputed) },
      params: INGESTION_PARAMS.indicators,
      handler(ctx: Context<HistoryQuery>) {
        return this.history(this.stores.indicators, ctx.params);
      },
    },

    /** Indicator rows of stored candles that never came live (backfill), from the features service. */
    storeIndicators: {
      visibility: "public",
      params: INGESTION_PARAMS.storeIndicators,
      async handler(ctx: Context<{ rows: FeaturesComputed[] }>) {
        // Some inserts in flight at once: a remote store answers a backfill's rows in a fraction of the time.
        const rows = ctx.params.rows;
        for (let i = 0; i < rows.length; i += 16) {
          await Promise.all(rows.slice(i, i + 16).map((row) => this.stores.indicators.insertIfAbsent(candleId(row.instrumentKey, row.openTime), row)));
        }
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
    /** The newest `limit` rows of an instrument (before `before`, after `after` when given), returned oldest first. */
    async history<T extends object>(collection: Collection<T>, query: HistoryQuery) {
      return (await collection.find(historyFind(query))).reverse();
    },

    /** Backfills the candle history, then starts the live stream. */
    async activate(instrumentKey: string) {
      const config = platformConfig(this.broker);
      const history = await this.broker.call<Candle[], { instrumentKey: string; limit: number }>("exchange.candles", {
        instrumentKey,
        limit: config.backfillCandles,
      });
      for (const candle of history) await this.stores.candles.insertIfAbsent(candleId(instrumentKey, candle.openTime), candle);
      // The features service computes the backfilled candles' indicator rows (storeIndicators).
      if (history.length > 0) this.broker.emit("ingestion.backfilled", { instrumentKey, before: history[history.length - 1].openTime + 1 });
      await this.broker.call("exchange.startMarketDataStream", { instrumentKey });
    },

    async storeCandle(candle: Candle) {
      await this.stores.candles.insertIfAbsent(candleId(candle.instrumentKey, candle.openTime), candle);
      const cutoff = this.retention.stored(candle);
      if (cutoff !== undefined) {
        await this.stores.candles.remove({ instrumentKey: candle.instrumentKey, openTime: { $lt: cutoff } });
        await this.stores.indicators.remove({ instrumentKey: candle.instrumentKey, openTime: { $lt: cutoff } });
      }
    },
  },

  created() {
    this.latest = new LatestMarketData();
  },

  async started() {
    this.retention = new CandleRetention(platformConfig(this.broker).retentionCandles);
    // Streams of instruments registered before a restart start again (the registration events are gone).
    await this.broker.waitForServices(["risk"]);
    const instruments = await this.broker.call<Array<{ instrumentKey: string; enabled: boolean }>>("risk.listInstruments");
    for (const i of instruments) if (i.enabled) await this.activate(i.instrumentKey);
  },
};

export default IngestionService;
