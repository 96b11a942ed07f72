/**
 * External API Facade: market data streams, order placement and execution reports. The feed and
 * the trading venue are picked by configuration in lib/venue/adapters.ts (the simulator, or an
 * exchange through ccxt; paper or live trading). Market events are stamped with their receipt time
 * and published to `market.raw.data`; order updates the venue reports on its own (resting paper
 * orders filled by later market data, the live exchange's user-data stream, reconciliation) are
 * announced as `exchange.execution` events, and circuit-breaker changes as `exchange.circuit`.
 */
import type { Context, ServiceSchema, ServiceSettingSchema } from "moleculer";
import { TopicsMixin, type TopicMethods } from "../mixins/topics.mixin";
import { StoreMixin, type Stores } from "../mixins/store.mixin";
import { TOPICS } from "../schemas";
import { platformConfig } from "../lib/config";
import { toServiceError } from "../lib/errors";
import { selectAdapters, tradingAccountOf, type VenueAdapters } from "../lib/venue/adapters";
import type { MarketDataFeed, TradingVenue } from "../lib/venue/types";
import type { Candle, Execution, Fill, MarketEvent, MarketEventDraft, OrderRequest, VenueOrder } from "../lib/types";

interface StreamState {
  instrumentKey: string;
  lastPrice?: string;
  lastTime?: number;
}

/** Whose books DATA_DIR holds (see tradingAccountOf): fixed on first start. */
interface TradingAccount {
  account: string;
  since: number;
}

type ExchangeStores = Stores<{
  /** The paper broker's journal. */
  orders: VenueOrder;
  fills: Fill;
  /** The live venue's journal: orders from before they are sent, fills by the venue's trade ids. */
  liveOrders: VenueOrder;
  liveFills: Fill;
  streams: StreamState;
  clock: { simTime: number };
  account: TradingAccount;
}>;

interface ExchangeLocals {
  adapters: VenueAdapters;
  feed: MarketDataFeed;
  venue: TradingVenue;
  stores: ExchangeStores;
  lastSeen: Map<string, StreamState>;
  persistTimer?: NodeJS.Timeout;
  simulated: boolean;
  /** Executions the venue reported while no execution service was up to take them (reconciliation on start). */
  undelivered: Execution[];
}

interface ExchangeMethods extends TopicMethods {
  relay(events: MarketEventDraft[], historical: boolean): Promise<void>;
  persistStreams(): Promise<void>;
  claimAccount(account: string): Promise<void>;
  deliverExecutions(): void;
}

const instrumentParam = { type: "string", pattern: /^[a-z0-9_-]+:[A-Z0-9]+\/[A-Z0-9]+$/, empty: false } as const;

const ExchangeService: ServiceSchema<ServiceSettingSchema, ExchangeMethods, ExchangeLocals> = {
  name: "exchange",
  mixins: [StoreMixin({ orders: [], fills: [], liveOrders: [], liveFills: [{ fields: ["time"] }], streams: [], clock: [], account: [] }), TopicsMixin()],

  hooks: {
    // Venue refusals leave every action with their machine-readable code (VenueError → typed service error).
    error: {
      "*"(_ctx: Context, err: Error) {
        throw toServiceError(err);
      },
    },
  },

  actions: {
    /**
     * The venue's health: exchange, trading mode, circuit breaker ("open" while unreachable), market
     * metadata, each stream's connection, and in live trading the user-data stream and the last
     * reconciliation. Never key material.
     */
    status: {
      rest: "GET /status",
      handler() {
        return this.adapters.status();
      },
    },

    /** Trading rules of a market (precision, lot size, min notional, fees). */
    market: {
      params: { instrumentKey: instrumentParam },
      async handler(ctx: Context<{ instrumentKey: string }>) {
        return this.feed.market(ctx.params.instrumentKey);
      },
    },

    /** Recent closed 1-minute candles, for backfill on registration. */
    candles: {
      params: { instrumentKey: instrumentParam, limit: { type: "number", integer: true, positive: true, max: 5000, convert: true } },
      async handler(ctx: Context<{ instrumentKey: string; limit: number }>): Promise<Candle[]> {
        const history = await this.feed.history(ctx.params.instrumentKey, ctx.params.limit);
        return history.map(({ instrumentKey, openTime, closeTime, open, high, low, close, volume, tradeCount }) => ({
          instrumentKey, timeframe: "1m", openTime, closeTime, open, high, low, close, volume, tradeCount,
        }));
      },
    },

    startMarketDataStream: {
      params: { instrumentKey: instrumentParam },
      async handler(ctx: Context<{ instrumentKey: string }>) {
        const key = ctx.params.instrumentKey;
        const last = this.lastSeen.get(key);
        await this.feed.subscribe(key, last?.lastPrice ? { price: last.lastPrice } : undefined);
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
        return this.venue.place(ctx.params);
      },
    },

    cancelOrder: {
      params: { clientOrderId: { type: "string", empty: false } },
      async handler(ctx: Context<{ clientOrderId: string }>) {
        return this.venue.cancel(ctx.params.clientOrderId);
      },
    },

    /** An order and its fills by client order id: how execution recognises an order already placed. */
    getOrder: {
      params: { clientOrderId: { type: "string", empty: false } },
      async handler(ctx: Context<{ clientOrderId: string }>) {
        return this.venue.order(ctx.params.clientOrderId);
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

  events: {
    "$services.changed"() {
      this.deliverExecutions();
    },
  },

  methods: {
    /**
     * Stamps receipt time, lets the venue match resting orders, then publishes in one ordered batch.
     * A historical batch (fetched late: a backfilled gap) is only as fresh as its own market time, so
     * the stale-data guard does not trade on it as if it had just happened.
     */
    async relay(drafts: MarketEventDraft[], historical: boolean) {
      const now = Date.now();
      const events = drafts.map((d) => ({ ...d, receivedAt: historical ? Math.min(now, d.time) : now }) as MarketEvent);
      for (const e of events) {
        if (e.kind === "trade") this.lastSeen.set(e.instrumentKey, { instrumentKey: e.instrumentKey, lastPrice: e.price, lastTime: e.time });
      }
      const executions = await this.venue.onMarket(drafts);
      try {
        await this.publishMany(TOPICS.marketRawData, events.map((payload) => ({ payload })));
      } finally {
        // The resting orders' fills go out even when the market data could not: they are money.
        this.undelivered.push(...executions);
        this.deliverExecutions();
      }
    },

    /** Remembers where each stream and the simulated clock were, so a restart continues from there. */
    async persistStreams() {
      for (const state of this.lastSeen.values()) await this.stores.streams.put(state.instrumentKey, state);
      if (this.simulated) await this.stores.clock.put("sim", { simTime: this.feed.now() });
    },

    /** Hands the venue's executions to the execution service, holding them while it is not up. */
    deliverExecutions() {
      if (this.undelivered.length === 0) return;
      const executionUp = this.broker.registry.getServiceList({ onlyAvailable: true }).some((s: { name: string }) => s.name === "execution");
      if (!executionUp) return;
      for (const execution of this.undelivered.splice(0)) this.broker.emit("exchange.execution", execution);
    },

    /** Refuses to put one trading account's orders and fills into books that hold another's. */
    async claimAccount(account: string) {
      const claimed = await this.stores.account.get("account");
      if (!claimed) {
        await this.stores.account.put("account", { account, since: Date.now() });
      } else if (claimed.account !== account) {
        throw new Error(
          `DATA_DIR holds the books of "${claimed.account}" trading; "${account}" trading needs a DATA_DIR of its own (the system of record never mixes them)`,
        );
      }
    },
  },

  created() {
    this.undelivered = [];
  },

  async started() {
    const config = platformConfig(this.broker);
    await this.claimAccount(tradingAccountOf(config));
    this.simulated = config.marketData === "sim";
    const previous = await this.stores.clock.get("sim");
    this.adapters = selectAdapters(config, {
      logger: this.logger,
      simStartTime: previous?.simTime,
      paperJournal: {
        saveOrder: (order) => this.stores.orders.put(order.clientOrderId, order),
        saveFill: async (fill) => void (await this.stores.fills.insertIfAbsent(fill.fillId, fill)),
        load: async () => ({ orders: await this.stores.orders.find(), fills: await this.stores.fills.find() }),
      },
      liveJournal: {
        saveOrder: (order) => this.stores.liveOrders.put(order.clientOrderId, order),
        saveFill: (fill) => this.stores.liveFills.insertIfAbsent(fill.fillId, fill),
        load: async () => ({ orders: await this.stores.liveOrders.find(), fills: await this.stores.liveFills.find() }),
      },
      onCircuitChange: (status) => {
        const log = status.state === "closed" ? this.logger.info : this.logger.warn;
        log.call(this.logger, `exchange ${config.marketData} circuit ${status.state}${status.lastError ? ` (${status.lastError})` : ""}`);
        this.broker.emit("exchange.circuit", { exchange: config.marketData, ...status });
      },
    });
    this.feed = this.adapters.feed;
    this.venue = this.adapters.venue;
    this.adapters.onExecution((execution) => {
      this.undelivered.push(execution);
      this.deliverExecutions();
    });
    await this.adapters.start();
    this.lastSeen = new Map((await this.stores.streams.find()).map((s) => [s.instrumentKey, s]));
    // Batches are relayed one after another so per-instrument order holds on the topic.
    let chain = Promise.resolve();
    this.feed.onEvents((events, origin) => {
      chain = chain.then(() => this.relay(events, origin?.historical ?? false)).catch((err) => this.logger.error("market data relay failed", err));
    });
    this.persistTimer = setInterval(() => void this.persistStreams().catch((err) => this.logger.warn("stream state not saved", err)), 2000);
  },

  async stopped() {
    if (this.persistTimer) clearInterval(this.persistTimer);
    await this.adapters?.stop();
    if (this.stores && this.lastSeen) await this.persistStreams();
  },
};

export default ExchangeService;
