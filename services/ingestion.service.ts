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
import { TOPICS } from "../schemas";
import type { FeaturesComputed, InstrumentRegistered } from "../schemas/events";
import { BOOK, CANDLE, INDICATORS, TRADE, listOf } from "../schemas/api";
import { platformConfig } from "../lib/config";
import { RingBuffer } from "../lib/ring-buffer";
import type { BookEvent, Candle, MarketEvent, TickerEvent, TradeEvent } from "../lib/types";

const TRADES_KEPT = 500;
const MINUTE = 60_000;

type IngestionStores = Stores<{ candles: Candle; indicators: FeaturesComputed }>;

interface IngestionLocals {
  stores: IngestionStores;
  trades: Map<string, RingBuffer<TradeEvent>>;
  books: Map<string, BookEvent>;
  tickers: Map<string, TickerEvent>;
  retention: number;
  candlesSincePrune: Map<string, number>;
}

interface IngestionMethods extends TopicMethods {
  history<T extends object>(collection: Collection<T>, query: HistoryQuery): Promise<T[]>;
  activate(instrumentKey: string): Promise<void>;
  storeCandle(candle: Candle): Promise<void>;
}

const candleId = (instrumentKey: string, openTime: number) => `${instrumentKey}|${openTime}`;
/**
 * Candles and indicator rows: indexed by instrument and time (MongoDB), and the newest rows of each
 * instrument kept in memory, so history reads stay fast on a loaded machine or a store that scans
 * (FerretDB 1.x uses no index but `_id`).
 */
const historyStore = {
  indexes: [{ fields: ["instrumentKey", "openTime"] }],
  recent: { key: "instrumentKey", time: "openTime", step: MINUTE, capacity: 1000, id: candleId },
};
const instrument = { type: "string", empty: false } as const;
const limit = { type: "number", integer: true, positive: true, max: 5000, optional: true, convert: true } as const;
/** An open time in epoch ms, up to the latest a Date can hold (larger numbers are no exact integers). */
const before = { type: "number", integer: true, min: 0, max: 8_640_000_000_000_000, optional: true, convert: true } as const;
const after = before;

interface HistoryQuery {
  instrument: string;
  limit?: number;
  before?: number;
  after?: number;
}

const IngestionService: ServiceSchema<ServiceSettingSchema, IngestionMethods, IngestionLocals> = {
  name: "ingestion",
  dependencies: ["exchange"],
  settings: { rest: "/" },
  mixins: [StoreMixin({ candles: historyStore, indicators: historyStore }), TopicsMixin()],

  topics: {
    [TOPICS.instrumentRegistered]: {
      async handler(event: InstrumentRegistered) {
        if (event.status === "active") await this.activate(event.instrumentKey);
        else await this.broker.call("exchange.stopMarketDataStream", { instrumentKey: event.instrumentKey });
      },
    },

    [TOPICS.marketRawData]: {
      async handler(event: MarketEvent) {
        switch (event.kind) {
          case "candle":
            if (event.closed) {
              const { instrumentKey, timeframe, openTime, closeTime, open, high, low, close, volume, tradeCount } = event;
              await this.storeCandle({ instrumentKey, timeframe, openTime, closeTime, open, high, low, close, volume, tradeCount });
            }
            break;
          case "trade": {
            let ring = this.trades.get(event.instrumentKey);
            if (!ring) this.trades.set(event.instrumentKey, (ring = new RingBuffer<TradeEvent>(TRADES_KEPT)));
            ring.push(event);
            break;
          }
          case "book":
            this.books.set(event.instrumentKey, event);
            break;
          case "ticker":
            this.tickers.set(event.instrumentKey, event);
            break;
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
      openapi: { response: listOf(CANDLE) },
      params: { instrument, timeframe: { type: "enum", values: ["1m"], optional: true }, limit, before, after },
      handler(ctx: Context<HistoryQuery>) {
        return this.history(this.stores.candles, ctx.params);
      },
    },

    /** Indicator rows per closed candle, oldest first, like `candles`. */
    indicators: {
      rest: "GET /market/indicators",
      openapi: { response: listOf(INDICATORS) },
      params: { instrument, limit, before },
      handler(ctx: Context<HistoryQuery>) {
        return this.history(this.stores.indicators, ctx.params);
      },
    },

    /** Indicator rows of stored candles that never came live (backfill), from the features service. */
    storeIndicators: {
      visibility: "public",
      params: { rows: { type: "array", items: "object" } },
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
      openapi: { response: listOf(TRADE) },
      params: { instrument, limit },
      handler(ctx: Context<{ instrument: string; limit?: number }>) {
        return (this.trades.get(ctx.params.instrument)?.toArray() ?? []).slice(-(ctx.params.limit ?? 100));
      },
    },

    book: {
      rest: "GET /market/book",
      openapi: { response: BOOK },
      params: { instrument },
      handler(ctx: Context<{ instrument: string }>) {
        return { book: this.books.get(ctx.params.instrument) ?? null, ticker: this.tickers.get(ctx.params.instrument) ?? null };
      },
    },
  },

  methods: {
    /** The newest `limit` rows of an instrument (before `before`, after `after` when given), returned oldest first. */
    async history<T extends object>(collection: Collection<T>, { instrument, limit, before, after }: HistoryQuery) {
      const query: Record<string, unknown> = { instrumentKey: instrument };
      if (before !== undefined || after !== undefined) {
        query.openTime = { ...(before !== undefined && { $lt: before }), ...(after !== undefined && { $gt: after }) };
      }
      const newest = await collection.find({ query, sort: ["-openTime"], limit: limit ?? 300 });
      return newest.reverse();
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
      // Retention: every `retention / 10` candles, drop what is older than the newest `retention`.
      const count = (this.candlesSincePrune.get(candle.instrumentKey) ?? 0) + 1;
      this.candlesSincePrune.set(candle.instrumentKey, count);
      if (count >= Math.max(10, Math.floor(this.retention / 10))) {
        this.candlesSincePrune.set(candle.instrumentKey, 0);
        const cutoff = candle.openTime - this.retention * MINUTE;
        await this.stores.candles.remove({ instrumentKey: candle.instrumentKey, openTime: { $lt: cutoff } });
        await this.stores.indicators.remove({ instrumentKey: candle.instrumentKey, openTime: { $lt: cutoff } });
      }
    },
  },

  created() {
    this.trades = new Map();
    this.books = new Map();
    this.tickers = new Map();
    this.candlesSincePrune = new Map();
  },

  async started() {
    this.retention = platformConfig(this.broker).retentionCandles;
    // Streams of instruments registered before a restart start again (the registration events are gone).
    await this.broker.waitForServices(["risk"]);
    const instruments = await this.broker.call<Array<{ instrumentKey: string; enabled: boolean }>>("risk.listInstruments");
    for (const i of instruments) if (i.enabled) await this.activate(i.instrumentKey);
  },
};

export default IngestionService;
