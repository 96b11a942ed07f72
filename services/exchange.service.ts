/**
 * External API Facade: market data streams, order placement and execution reports. The feed and
 * the trading venue are picked by configuration (MARKET_DATA=sim: simulator + paper broker).
 * Market events are stamped with their receipt time and published to `market.raw.data`; resting
 * orders filled by later market data are announced as `exchange.execution` events.
 */
import type { Context, ServiceSchema, ServiceSettingSchema } from "moleculer";
import { TopicsMixin, type TopicMethods } from "../mixins/topics.mixin";
import { StoreMixin, type Stores } from "../mixins/store.mixin";
import { TOPICS } from "../schemas";
import { platformConfig } from "../lib/config";
import { toServiceError } from "../lib/errors";
import { wallClock } from "../lib/clock";
import { simMarketInfo } from "../lib/market/catalog";
import { SimulatedFeed } from "../lib/venue/sim-feed";
import { PaperVenue } from "../lib/venue/paper-venue";
import type { MarketDataFeed, TradingVenue } from "../lib/venue/types";
import type { Candle, Fill, MarketEvent, MarketEventDraft, OrderRequest, VenueOrder } from "../lib/types";

interface StreamState {
  instrumentKey: string;
  lastPrice?: string;
  lastTime?: number;
}

type ExchangeStores = Stores<{ orders: VenueOrder; fills: Fill; streams: StreamState; clock: { simTime: number } }>;

interface ExchangeLocals {
  feed: MarketDataFeed;
  venue: TradingVenue;
  stores: ExchangeStores;
  lastSeen: Map<string, StreamState>;
  persistTimer?: NodeJS.Timeout;
}

interface ExchangeMethods extends TopicMethods {
  relay(events: MarketEventDraft[]): Promise<void>;
  persistStreams(): Promise<void>;
}

const instrumentParam = { type: "string", pattern: /^[a-z0-9_-]+:[A-Z0-9]+\/[A-Z0-9]+$/, empty: false } as const;

const ExchangeService: ServiceSchema<ServiceSettingSchema, ExchangeMethods, ExchangeLocals> = {
  name: "exchange",
  mixins: [StoreMixin({ orders: [], fills: [], streams: [], clock: [] }), TopicsMixin()],

  actions: {
    /** Trading rules of a market (precision, lot size, min notional, fees). */
    market: {
      params: { instrumentKey: instrumentParam },
      async handler(ctx: Context<{ instrumentKey: string }>) {
        try {
          return await this.feed.market(ctx.params.instrumentKey);
        } catch (err) {
          throw toServiceError(err);
        }
      },
    },

    /** Recent closed 1-minute candles, for backfill on registration. */
    candles: {
      params: { instrumentKey: instrumentParam, limit: { type: "number", integer: true, positive: true, max: 5000, convert: true } },
      async handler(ctx: Context<{ instrumentKey: string; limit: number }>): Promise<Candle[]> {
        try {
          const history = await this.feed.history(ctx.params.instrumentKey, ctx.params.limit);
          return history.map(({ instrumentKey, openTime, closeTime, open, high, low, close, volume, tradeCount }) => ({
            instrumentKey, timeframe: "1m", openTime, closeTime, open, high, low, close, volume, tradeCount,
          }));
        } catch (err) {
          throw toServiceError(err);
        }
      },
    },

    startMarketDataStream: {
      params: { instrumentKey: instrumentParam },
      async handler(ctx: Context<{ instrumentKey: string }>) {
        const key = ctx.params.instrumentKey;
        try {
          const last = this.lastSeen.get(key);
          await this.feed.subscribe(key, last?.lastPrice ? { price: last.lastPrice } : undefined);
        } catch (err) {
          throw toServiceError(err);
        }
        if (!this.lastSeen.has(key)) this.lastSeen.set(key, { instrumentKey: key });
        return { instrumentKey: key, streaming: true };
      },
    },

    stopMarketDataStream: {
      params: { instrumentKey: instrumentParam },
      async handler(ctx: Context<{ instrumentKey: string }>) {
        await this.feed.unsubscribe(ctx.params.instrumentKey);
        return { instrumentKey: ctx.params.instrumentKey, streaming: false };
      },
    },

    streams() {
      return this.feed.subscriptions();
    },

    placeOrder: {
      params: {
        clientOrderId: { type: "string", empty: false, max: 36 },
        portfolioId: { type: "string", empty: false },
        instrumentKey: instrumentParam,
        side: { type: "enum", values: ["BUY", "SELL"] },
        type: { type: "enum", values: ["market", "limit"] },
        quantity: { type: "string", pattern: /^[0-9]+(\.[0-9]+)?$/ },
        price: { type: "string", pattern: /^[0-9]+(\.[0-9]+)?$/, optional: true },
        timeInForce: { type: "enum", values: ["GTC", "IOC"], optional: true },
      },
      async handler(ctx: Context<OrderRequest>) {
        try {
          return await this.venue.place(ctx.params);
        } catch (err) {
          throw toServiceError(err);
        }
      },
    },

    cancelOrder: {
      params: { clientOrderId: { type: "string", empty: false } },
      async handler(ctx: Context<{ clientOrderId: string }>) {
        try {
          return await this.venue.cancel(ctx.params.clientOrderId);
        } catch (err) {
          throw toServiceError(err);
        }
      },
    },

    /** An order and its fills by client order id: how execution recognises an order already placed. */
    getOrder: {
      params: { clientOrderId: { type: "string", empty: false } },
      async handler(ctx: Context<{ clientOrderId: string }>) {
        try {
          return await this.venue.order(ctx.params.clientOrderId);
        } catch (err) {
          throw toServiceError(err);
        }
      },
    },

    /** Fills since a time and the open orders: what execution reconciles on start. */
    executionsSince: {
      params: { since: { type: "number", integer: true, min: 0, convert: true } },
      async handler(ctx: Context<{ since: number }>) {
        return { fills: await this.venue.fillsSince(ctx.params.since), openOrders: await this.venue.openOrders() };
      },
    },
  },

  methods: {
    /** Stamps receipt time, lets the venue match resting orders, then publishes in one ordered batch. */
    async relay(drafts: MarketEventDraft[]) {
      const receivedAt = Date.now();
      const events = drafts.map((d) => ({ ...d, receivedAt }) as MarketEvent);
      for (const e of events) {
        if (e.kind === "trade") this.lastSeen.set(e.instrumentKey, { instrumentKey: e.instrumentKey, lastPrice: e.price, lastTime: e.time });
      }
      const executions = await this.venue.onMarket(drafts);
      await this.publishMany(TOPICS.marketRawData, events.map((payload) => ({ payload })));
      for (const execution of executions) this.broker.emit("exchange.execution", execution);
    },

    /** Remembers where each stream and the simulated clock were, so a restart continues from there. */
    async persistStreams() {
      for (const state of this.lastSeen.values()) await this.stores.streams.put(state.instrumentKey, state);
      await this.stores.clock.put("sim", { simTime: this.feed.now() });
    },
  },

  async started() {
    const config = platformConfig(this.broker);
    if (config.marketData !== "sim") {
      throw new Error(`MARKET_DATA=${config.marketData}: only the simulator ("sim") is available in this build`);
    }
    const previous = await this.stores.clock.get("sim");
    this.feed = new SimulatedFeed({ speed: config.simSpeed, seed: config.simSeed, startTime: previous?.simTime });
    const paper = new PaperVenue(simMarketInfo, wallClock, {
      saveOrder: (order) => this.stores.orders.put(order.clientOrderId, order),
      saveFill: async (fill) => void (await this.stores.fills.insertIfAbsent(fill.fillId, fill)),
      load: async () => ({ orders: await this.stores.orders.find(), fills: await this.stores.fills.find() }),
    });
    await paper.load();
    this.venue = paper;
    this.lastSeen = new Map((await this.stores.streams.find()).map((s) => [s.instrumentKey, s]));
    // Batches are relayed one after another so per-instrument order holds on the topic.
    let chain = Promise.resolve();
    this.feed.onEvents((events) => {
      chain = chain.then(() => this.relay(events)).catch((err) => this.logger.error("market data relay failed", err));
    });
    this.persistTimer = setInterval(() => void this.persistStreams().catch((err) => this.logger.warn("stream state not saved", err)), 2000);
  },

  async stopped() {
    if (this.persistTimer) clearInterval(this.persistTimer);
    await this.feed?.stop();
    if (this.stores) await this.persistStreams();
  },
};

export default ExchangeService;
