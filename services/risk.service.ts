/**
 * Risk & Portfolio Manager: the system of record for instruments, portfolios, orders, fills and
 * decisions, and the two-stage risk gate. The logic is in lib/risk (the engine, the instrument
 * registry, the portfolios, the account gate); this service wires it to the bus, the store and the API.
 */
import type { Context, ServiceSchema, ServiceSettingSchema } from "moleculer";
import { TopicsMixin, type TopicMethods } from "../mixins/topics.mixin";
import { StoreMixin, type Stores } from "../mixins/store.mixin";
import { AccountView, CreatedPortfolio, DecisionRecord, type Envelope, Fill, InstrumentRecord, type MarketInfo, OrderRecord, PortfolioDetail, type PortfolioSignal, PortfolioSnapshot, RiskLimits, TOPICS, TraderBudget, type TradingSignal, type VenueOrder } from "../schemas";
import { ACCOUNT_LIMITS_CHANGE, AMOUNT, EXISTS_ALREADY, CEILINGS_CHANGE, LIMITS_CHANGE, LIMIT_FIELDS, SIM_INSTRUMENT_FIELDS, listOf } from "../schemas/api";
import { RISK_PARAMS } from "../schemas/requests/risk";
import { platformConfig } from "../lib/config";
import { wallClock } from "../lib/clock";
import { registrationError } from "../lib/errors";
import { principalOf, requireOperator } from "../lib/auth";
import { KeyedMutex } from "../lib/keyed-mutex";
import { RiskEngine, type RiskRecords } from "../lib/risk/engine";

interface RiskLocals {
  stores: Stores<RiskRecords>;
  risk: RiskEngine;
}

type Located = { $statusCode?: number; $location?: string };

const RiskService: ServiceSchema<ServiceSettingSchema, TopicMethods, RiskLocals> = {
  name: "risk",
  dependencies: ["exchange"],
  settings: { rest: "/" },
  mixins: [
    StoreMixin({
      instruments: [],
      portfolios: [],
      orders: [{ fields: ["portfolioId", "createdAt"] }],
      fills: [{ fields: ["portfolioId", "time"] }, { fields: ["clientOrderId"] }],
      decisions: [{ fields: ["portfolioId", "decidedAt"] }],
      account: [],
      traders: [],
    }),
    TopicsMixin(),
  ],

  topics: {
    [TOPICS.tradingSignals]: { handler(signal: TradingSignal, envelope: Envelope<TradingSignal>) { return this.risk.screen(signal, envelope); } },
    [TOPICS.tradingSignalsPortfolio]: { handler(payload: PortfolioSignal, envelope: Envelope<PortfolioSignal>) { return this.risk.decide(payload, envelope); } },
    [TOPICS.ordersPlaced]: { handler(order: VenueOrder, envelope: Envelope<VenueOrder>) { return this.risk.onOrder(order, envelope); } },
    [TOPICS.ordersFills]: { handler(fill: Fill, envelope: Envelope<Fill>) { return this.risk.onFill(fill, envelope); } },
  },

  actions: {
    /** The account-wide gate: its kill switch, limits and current usage over all portfolios (the operator's). */
    getAccount: {
      rest: "GET /account",
      openapi: { operatorOnly: true, response: AccountView },
      handler(ctx: Context) {
        requireOperator(ctx.meta, "the account");
        return this.risk.account.refreshedView();
      },
    },

    setAccountLimits: {
      rest: "PATCH /account/limits",
      openapi: { operatorOnly: true, response: AccountView, body: ACCOUNT_LIMITS_CHANGE },
      params: RISK_PARAMS.setAccountLimits,
      handler(ctx: Context<Record<string, unknown>>) {
        requireOperator(ctx.meta, "the account");
        return this.risk.account.setLimits(ctx.params);
      },
    },

    haltAccount: {
      rest: "POST /account/halt",
      openapi: { operatorOnly: true, response: AccountView },
      params: RISK_PARAMS.haltAccount,
      handler(ctx: Context<{ reason?: string }>) {
        requireOperator(ctx.meta, "the account");
        return this.risk.account.setHalted(true, ctx.params.reason);
      },
    },

    resumeAccount: {
      rest: "POST /account/resume",
      openapi: { operatorOnly: true, response: AccountView },
      handler(ctx: Context) {
        requireOperator(ctx.meta, "the account");
        return this.risk.account.setHalted(false);
      },
    },

    /** Every trader's allowance, what their portfolios hold of it, and their ceilings (the operator's). */
    listTraders: {
      rest: "GET /traders",
      openapi: { operatorOnly: true, response: listOf(TraderBudget) },
      handler(ctx: Context) {
        requireOperator(ctx.meta, "the traders' budgets");
        const { portfolios } = this.risk;
        return portfolios.knownTraders().map((id) => portfolios.budget(id));
      },
    },

    /** One trader's budget: the operator's, or the trader's own (read-only). */
    getTrader: {
      rest: "GET /traders/:id",
      usesOwnPortfolio: true,
      openapi: { response: TraderBudget },
      params: RISK_PARAMS.getTrader,
      handler(ctx: Context<{ id: string }>) {
        return this.risk.portfolios.traderFor(principalOf(ctx.meta), ctx.params.id);
      },
    },

    /** The operator sets a trader's allowance and ceilings; a ceiling of null returns to the default. */
    setTrader: {
      rest: "PATCH /traders/:id",
      openapi: { operatorOnly: true, response: TraderBudget, body: { allowance: AMOUNT, ceilings: CEILINGS_CHANGE } },
      params: RISK_PARAMS.setTrader,
      handler(ctx: Context<{ id: string; allowance?: string; ceilings?: Record<string, unknown> }>) {
        requireOperator(ctx.meta, "a trader's allowance and ceilings");
        const { id, ...patch } = ctx.params;
        return this.risk.portfolios.setTrader(id, patch);
      },
    },

    /** The trader's own portfolio, made if missing: called where a trader is first authenticated, never routed. */
    provisionTrader: {
      visibility: "public",
      params: RISK_PARAMS.provisionTrader,
      async handler(ctx: Context<{ traderId: string }>) {
        await this.risk.portfolios.provision(ctx.params.traderId);
      },
    },

    registerInstrument: {
      rest: "POST /instruments",
      usesOwnPortfolio: true,
      openapi: { success: [200, 201], response: InstrumentRecord, body: SIM_INSTRUMENT_FIELDS },
      params: RISK_PARAMS.registerInstrument,
      async handler(ctx: Context<{ exchange: string; symbol: string; portfolioId?: string }, Located>) {
        const { exchange, symbol } = ctx.params;
        const confirm = (instrumentKey: string) => ctx.call<MarketInfo, { instrumentKey: string }>("exchange.market", { instrumentKey }).catch((err: unknown) => {
          throw registrationError(err, exchange, symbol);
        });
        const { instrument, created } = await this.risk.instruments.register(principalOf(ctx.meta), ctx.params, confirm);
        ctx.meta.$statusCode = created ? 201 : 200;
        ctx.meta.$location = `/api/instruments/${encodeURIComponent(instrument.instrumentKey)}`;
        return instrument;
      },
    },

    listInstruments: {
      rest: "GET /instruments",
      openapi: { response: listOf(InstrumentRecord) },
      handler(ctx: Context) {
        return this.risk.instruments.list(principalOf(ctx.meta));
      },
    },

    unregisterInstrument: {
      rest: "DELETE /instruments/:instrumentKey",
      openapi: { response: InstrumentRecord },
      params: RISK_PARAMS.unregisterInstrument,
      handler(ctx: Context<{ instrumentKey: string; portfolioId?: string }>) {
        // moleculer-web decoded the path once; a key is never decoded twice, so `%25ZZ` is the key "%ZZ", not found.
        return this.risk.instruments.unregister(principalOf(ctx.meta), ctx.params.instrumentKey, ctx.params.portfolioId);
      },
    },

    createPortfolio: {
      rest: "POST /portfolios",
      usesOwnPortfolio: true,
      openapi: { success: [201], response: CreatedPortfolio, body: { startCash: { ...AMOUNT, nullable: true }, limits: LIMITS_CHANGE }, answers: { 409: EXISTS_ALREADY } },
      params: RISK_PARAMS.createPortfolio,
      async handler(ctx: Context<{ id: string; name?: string; startCash?: string; limits?: unknown }, Located>) {
        const created = await this.risk.portfolios.createFor(principalOf(ctx.meta), ctx.params);
        ctx.meta.$statusCode = 201;
        ctx.meta.$location = `/api/portfolios/${ctx.params.id}`;
        return created;
      },
    },

    listPortfolios: {
      rest: "GET /portfolios",
      usesOwnPortfolio: true,
      openapi: { response: listOf(CreatedPortfolio) },
      handler(ctx: Context) {
        return this.risk.portfolios.list(principalOf(ctx.meta));
      },
    },

    getPortfolio: {
      rest: "GET /portfolios/:id",
      openapi: { response: PortfolioDetail },
      params: RISK_PARAMS.getPortfolio,
      handler(ctx: Context<{ id: string }>) {
        return this.risk.portfolios.detail(principalOf(ctx.meta), ctx.params.id);
      },
    },

    setLimits: {
      rest: "PATCH /portfolios/:id/limits",
      openapi: { response: RiskLimits, body: LIMIT_FIELDS },
      params: RISK_PARAMS.setLimits,
      handler(ctx: Context<Record<string, unknown> & { id: string }>) {
        const { id, ...patch } = ctx.params;
        return this.risk.portfolios.setLimits(principalOf(ctx.meta), id, patch);
      },
    },

    halt: {
      rest: "POST /portfolios/:id/halt",
      openapi: { response: PortfolioSnapshot },
      params: RISK_PARAMS.halt,
      handler(ctx: Context<{ id: string; reason?: string }>) {
        const { portfolios } = this.risk;
        return portfolios.setHalted(portfolios.visible(principalOf(ctx.meta), ctx.params.id), true, ctx.params.reason ?? "manual");
      },
    },

    resume: {
      rest: "POST /portfolios/:id/resume",
      openapi: { response: PortfolioSnapshot },
      params: RISK_PARAMS.resume,
      handler(ctx: Context<{ id: string }>) {
        const { portfolios } = this.risk;
        return portfolios.setHalted(portfolios.visible(principalOf(ctx.meta), ctx.params.id), false);
      },
    },

    listOrders: {
      rest: "GET /portfolios/:id/orders",
      openapi: { response: listOf(OrderRecord) },
      params: RISK_PARAMS.listOrders,
      handler(ctx: Context<{ id: string; status?: string; limit?: number; offset?: number }>) {
        return this.risk.portfolios.history(principalOf(ctx.meta), "orders", ctx.params.id, ctx.params, { status: ctx.params.status });
      },
    },

    listFills: {
      rest: "GET /portfolios/:id/fills",
      openapi: { response: listOf(Fill) },
      params: RISK_PARAMS.listFills,
      handler(ctx: Context<{ id: string; limit?: number; offset?: number }>) {
        return this.risk.portfolios.history(principalOf(ctx.meta), "fills", ctx.params.id, ctx.params);
      },
    },

    /** Which of these fill ids the record lacks: all that execution republishes when it starts. */
    missingFills: {
      params: RISK_PARAMS.missingFills,
      handler(ctx: Context<{ fillIds: string[] }>) {
        return this.risk.portfolios.missingFills(ctx.params.fillIds);
      },
    },

    listDecisions: {
      rest: "GET /portfolios/:id/decisions",
      openapi: { response: listOf(DecisionRecord) },
      params: RISK_PARAMS.listDecisions,
      handler(ctx: Context<{ id: string; outcome?: string; reason?: string; limit?: number; offset?: number }>) {
        const { id, outcome, reason } = ctx.params;
        return this.risk.portfolios.history(principalOf(ctx.meta), "decisions", id, ctx.params, { outcome, reason });
      },
    },
  },

  async started() {
    this.risk = new RiskEngine({
      clock: wallClock,
      stores: this.stores,
      locks: new KeyedMutex(),
      config: platformConfig(this.broker),
      publish: (topic, payload, options) => this.publish(topic, payload, options),
      balanceOf: async (currency) => (await this.broker.call<{ total: string }, { currency: string }>("exchange.balance", { currency })).total,
      log: this.logger,
    });
    await this.risk.start();
  },
};

export default RiskService;
