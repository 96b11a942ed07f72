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
import { type Candle, type Execution, type Fill, type MarketEventDraft, type OrderRequest, TOPICS, type VenueOrder, parseInstrumentKey } from "../schemas";
import { EXCHANGE_STATUS } from "../schemas/api";
import { EXCHANGE_PARAMS } from "../schemas/requests/exchange";
import { platformConfig } from "../lib/config";
import { notFound, toServiceError } from "../lib/errors";
import { requireKnownExchange } from "../lib/market/catalog";
import { selectAdapters, tradingAccountOf, type VenueAdapters } from "../lib/venue/adapters";
import { claimTradingAccount, journalOn, type TradingAccountClaim } from "../lib/venue/books";
import { StreamActivity, streamChanges, type StreamState } from "../lib/venue/stream-activity";
import { candleOf } from "../lib/market/candles";
import type { MarketDataFeed, TradingVenue } from "../lib/venue/types";
import { sleep, wallClock } from "../lib/clock";

/** How long to wait for risk (the system of record of the enabled instruments) per attempt when resuming streams. */
const RISK_WAIT_MS = 5000;

type ExchangeStores = Stores<{
  /** The paper broker's journal. */
  orders: VenueOrder;
  fills: Fill;
  /** The live venue's journal: orders from before they are sent, fills by the venue's trade ids. */
  liveOrders: VenueOrder;
  liveFills: Fill;
  streams: StreamState;
  clock: { simTime: number };
  account: TradingAccountClaim;
}>;

interface ExchangeLocals {
  adapters: VenueAdapters;
  feed: MarketDataFeed;
  venue: TradingVenue;
  stores: ExchangeStores;
  marketActivity: StreamActivity;
  stopping: boolean;
  persistTimer?: NodeJS.Timeout;
  simulated: boolean;
  /** Executions the venue reported while no execution service was up to take them (reconciliation on start). */
  undelivered: Execution[];
}

interface ExchangeMethods extends TopicMethods {
  relay(events: MarketEventDraft[], historical: boolean): Promise<void>;
  persistStreams(): Promise<void>;
  deliverExecutions(): void;
  stream(instrumentKey: string): Promise<void>;
  unstream(instrumentKey: string): Promise<void>;
  resumeStreams(): Promise<void>;
  /** Starts a stream on the way up; a failure is logged rather than stopping the other instruments' resumption. */
  resumeStream(instrumentKey: string): Promise<void>;
  adoptEnabledInstruments(): Promise<void>;
}

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
      openapi: { response: EXCHANGE_STATUS },
      handler() {
        return { ...this.adapters.status(), marketActivity: this.marketActivity.report() };
      },
    },

    /** Trading rules of a market (precision, lot size, min notional, fees). */
    market: {
      params: EXCHANGE_PARAMS.market,
      async handler(ctx: Context<{ instrumentKey: string }>) {
        // A new instrument is looked up here first: in simulator mode only real exchange ids are taken.
        if (this.simulated) requireKnownExchange(parseInstrumentKey(ctx.params.instrumentKey).exchange);
        return this.feed.market(ctx.params.instrumentKey);
      },
    },

    /** Live trading: the exchange account's balance of a currency; 404 in paper trading, which has no account. */
    balance: {
      params: EXCHANGE_PARAMS.balance,
      async handler(ctx: Context<{ currency: string }>) {
        if (!this.adapters.accountBalance) throw notFound("exchange account", "paper");
        return { currency: ctx.params.currency, total: await this.adapters.accountBalance(ctx.params.currency) };
      },
    },

    /** Recent closed 1-minute candles, for backfill on registration. */
    candles: {
      params: EXCHANGE_PARAMS.candles,
      async handler(ctx: Context<{ instrumentKey: string; limit: number }>): Promise<Candle[]> {
        return (await this.feed.history(ctx.params.instrumentKey, ctx.params.limit)).map(candleOf);
      },
    },

    startMarketDataStream: {
      params: EXCHANGE_PARAMS.startMarketDataStream,
      async handler(ctx: Context<{ instrumentKey: string }>) {
        await this.stream(ctx.params.instrumentKey);
        return { instrumentKey: ctx.params.instrumentKey, streaming: true };
      },
    },

    stopMarketDataStream: {
      params: EXCHANGE_PARAMS.stopMarketDataStream,
      async handler(ctx: Context<{ instrumentKey: string }>) {
        await this.unstream(ctx.params.instrumentKey);
        return { instrumentKey: ctx.params.instrumentKey, streaming: false };
      },
    },

    streams() {
      return this.feed.subscriptions();
    },

    placeOrder: {
      params: EXCHANGE_PARAMS.placeOrder,
      async handler(ctx: Context<OrderRequest>) {
        return this.venue.place(ctx.params);
      },
    },

    cancelOrder: {
      params: EXCHANGE_PARAMS.cancelOrder,
      async handler(ctx: Context<{ clientOrderId: string }>) {
        return this.venue.cancel(ctx.params.clientOrderId);
      },
    },

    /** An order and its fills by client order id: how execution recognises an order already placed. */
    getOrder: {
      params: EXCHANGE_PARAMS.getOrder,
      async handler(ctx: Context<{ clientOrderId: string }>) {
        return this.venue.order(ctx.params.clientOrderId);
      },
    },

    /** Fills since a time and the open orders: what execution reconciles on start. */
    executionsSince: {
      params: EXCHANGE_PARAMS.executionsSince,
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
    /** Stamps receipt time, lets the venue match resting orders, then publishes in one ordered batch. */
    async relay(drafts: MarketEventDraft[], historical: boolean) {
      const events = this.marketActivity.received(drafts, historical);
      const executions = await this.venue.onMarket(drafts);
      try {
        await this.publishMany(TOPICS.marketRawData, events.map((payload) => ({ payload })));
      } finally {
        // The resting orders' fills go out even when the market data could not: they are money.
        this.undelivered.push(...executions);
        this.deliverExecutions();
      }
    },

    /** Starts (or continues from its last price) an instrument's stream and remembers that it streams. */
    async stream(instrumentKey: string) {
      await this.feed.subscribe(instrumentKey, this.marketActivity.resumePoint(instrumentKey));
      this.marketActivity.started(instrumentKey);
    },

    async unstream(instrumentKey: string) {
      await this.feed.unsubscribe(instrumentKey);
      this.marketActivity.stopped(instrumentKey);
    },

    async resumeStream(instrumentKey: string) {
      await this.stream(instrumentKey).catch((err) => this.logger.warn(`stream ${instrumentKey} not resumed: ${(err as Error).message}`));
    },

    /** The streams this facade ran before it stopped (or died), from its own saved state. */
    async resumeStreams() {
      for (const instrumentKey of this.marketActivity.streaming()) await this.resumeStream(instrumentKey);
    },

    /**
     * Streams every instrument risk (the system of record) has enabled, and stops those it has
     * disabled: covers a saved state that was lost or is behind. Runs in the background, since risk
     * itself waits for this service; it keeps waiting for risk until this service stops. On a whole
     * platform's start ingestion asks for the same streams; a stream already running is left as it is.
     */
    async adoptEnabledInstruments() {
      while (!this.stopping) {
        try {
          await this.broker.waitForServices(["risk"], RISK_WAIT_MS);
          const instruments = await this.broker.call<Array<{ instrumentKey: string; enabled: boolean }>, Record<string, never>>("risk.listInstruments", {}, { timeout: RISK_WAIT_MS });
          if (this.stopping) return;
          const { start, stop } = streamChanges(instruments, this.feed.subscriptions());
          for (const instrumentKey of start) await this.resumeStream(instrumentKey);
          for (const instrumentKey of stop) await this.unstream(instrumentKey);
          return;
        } catch (err) {
          this.logger.debug(`enabled instruments not known yet, asking risk again: ${(err as Error).message}`);
          await sleep(500);
        }
      }
    },

    /** Remembers where each stream and the simulated clock were, so a restart continues from there. */
    async persistStreams() {
      for (const state of this.marketActivity.saved()) await this.stores.streams.put(state.instrumentKey, state);
      if (this.simulated) await this.stores.clock.put("sim", { simTime: this.feed.now() });
    },

    /** Hands the venue's executions to the execution service, holding them while it is not up. */
    deliverExecutions() {
      if (this.undelivered.length === 0) return;
      const executionUp = this.broker.registry.getServiceList({ onlyAvailable: true }).some((s: { name: string }) => s.name === "execution");
      if (!executionUp) return;
      for (const execution of this.undelivered.splice(0)) this.broker.emit("exchange.execution", execution);
    },
  },

  created() {
    this.undelivered = [];
    this.stopping = false;
  },

  async started() {
    const config = platformConfig(this.broker);
    await claimTradingAccount(this.stores.account, tradingAccountOf(config), wallClock);
    this.simulated = config.marketData === "sim";
    const previous = await this.stores.clock.get("sim");
    this.adapters = selectAdapters(config, {
      logger: this.logger,
      simStartTime: previous?.simTime,
      clock: wallClock,
      paperJournal: journalOn(this.stores.orders, this.stores.fills),
      liveJournal: journalOn(this.stores.liveOrders, this.stores.liveFills),
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
    this.marketActivity = new StreamActivity(wallClock, await this.stores.streams.find());
    // Batches are relayed one after another so per-instrument order holds on the topic.
    let chain = Promise.resolve();
    this.feed.onEvents((events, origin) => {
      chain = chain.then(() => this.relay(events, origin?.historical ?? false)).catch((err) => this.logger.error("market data relay failed", err));
    });
    this.persistTimer = setInterval(() => void this.persistStreams().catch((err) => this.logger.warn("stream state not saved", err)), 2000);
    // Market data flows again after a restart without anyone asking: from the saved state at once,
    // then from risk's enabled instruments (the state may be lost or behind).
    await this.resumeStreams();
    void this.adoptEnabledInstruments();
  },

  async stopped() {
    this.stopping = true;
    if (this.persistTimer) clearInterval(this.persistTimer);
    await this.adapters?.stop();
    if (this.stores && this.marketActivity) await this.persistStreams();
  },
};

export default ExchangeService;
