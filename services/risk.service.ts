/**
 * Risk & Portfolio Manager: the system of record for instruments, portfolios, orders, fills and
 * decisions, and the two-stage risk gate. Stage 1 consumes `trading.signals` in instrument order and
 * applies the instrument rules, then republishes to `trading.signals.portfolio` once per portfolio
 * holding the instrument; stage 2 consumes that in portfolio order, applies the portfolio rules and
 * publishes `trades.approved` or `trades.rejected`. Fills and order updates from execution are
 * persisted (deduplicated by their ids) and announced as `portfolio.updated`. State is written
 * before the event announcing it goes out.
 */
import { randomUUID } from "node:crypto";
import type { Context, ServiceSchema, ServiceSettingSchema } from "moleculer";
import { Errors } from "moleculer";
import { TopicsMixin, type TopicMethods } from "../mixins/topics.mixin";
import { StoreMixin, type Stores } from "../mixins/store.mixin";
import { TOPICS } from "../schemas";
import { MISSING_FILLS_MAX, type Envelope, type PortfolioSignal, type PortfolioSnapshot, type TradeApproved, type TradeRejected } from "../schemas/events";
import { ACCOUNT, ACCOUNT_LIMITS_CHANGE, AMOUNT, EXISTS_ALREADY, CEILINGS_CHANGE, DECISION, FILL, INSTRUMENT, LIMITS, LIMITS_CHANGE, LIMIT_FIELDS, ORDER, PORTFOLIO, PORTFOLIO_DETAIL, PORTFOLIO_SNAPSHOT, SIM_INSTRUMENT_FIELDS, TRADER_BUDGET, listOf } from "../schemas/api";
import { platformConfig, type PlatformConfig } from "../lib/config";
import { wallClock, type Clock } from "../lib/clock";
import { alreadyExists, invalidField, notFound, venueCodeOf } from "../lib/errors";
import { accountHalt, accountLimitsInForce, accountRules, accountUsage, validateAccountLimits, type AccountLimits, type AccountRecord, type AccountUsage } from "../lib/risk/account";
import { amountRefusal, budgetOf, ceilingErrors, ceilingsOf, fundingHeadroom, limitsWithin, startCashRefusal, validateTraderPatch, type TraderBudget, type TraderRecord } from "../lib/risk/traders";
import { PORTFOLIO_ID, TRADER_ID, canSee, portfolioIdRefusal, principalOf, requireOperator, type Principal } from "../lib/auth";
import { clientOrderIdOf, decisionKeyOf } from "../lib/ids";
import { KeyedMutex } from "../lib/keyed-mutex";
import { DEFAULT_LIMITS, dayKey, freshData, instrumentRules, validateLimits } from "../lib/risk/rules";
import { Portfolio, mergeOrderReport, withFilledQuantity, type OrderRecord, type PortfolioRecord } from "../lib/risk/portfolio";
import { Dec, MONEY_AMOUNT, dec, str } from "../lib/decimal";
import { instrumentKeyOf, parseInstrumentKey, riskKeyOf, type Fill, type MarketInfo, type RejectReason, type TradingSignal, type VenueOrder } from "../lib/types";

export interface InstrumentRecord {
  instrumentKey: string;
  exchange: string;
  symbol: string;
  portfolioIds: string[];
  enabled: boolean;
  market: MarketInfo;
  registeredAt: number;
  updatedAt: number;
}

export interface DecisionRecord {
  idempotencyKey: string;
  decisionId: string;
  outcome: "approved" | "rejected";
  stage: 1 | 2;
  portfolioId: string;
  instrumentKey: string;
  action: "BUY" | "SELL";
  reason?: RejectReason;
  detail?: string;
  clientOrderId?: string;
  quantity?: string;
  price: string;
  notional?: string;
  signal: Pick<TradingSignal, "signalId" | "strategy" | "modelVersion" | "confidence" | "price" | "marketTime" | "receivedAt" | "features">;
  decidedAt: number;
}

type RiskStores = Stores<{
  instruments: InstrumentRecord;
  portfolios: PortfolioRecord;
  orders: OrderRecord;
  fills: Fill;
  decisions: DecisionRecord;
  account: AccountRecord;
  traders: TraderRecord;
}>;

/** The account as GET /api/account shows it: the operator's settings, the limits in force and the usage. */
type AccountView = AccountRecord & AccountUsage & { effectiveLimits: Required<AccountLimits>; funding?: Funding };

/** The currency of START_CASH and of the allowances: what the exchange account must hold in live trading. */
const FUNDING_CURRENCY = "USDT";
type Funding = ReturnType<typeof fundingHeadroom> & { currency: string; checkedAt: number };

interface RiskLocals {
  stores: RiskStores;
  /** The account-wide gate's kill switch and limits. */
  account: AccountRecord;
  portfolios: Map<string, Portfolio>;
  instruments: Map<string, InstrumentRecord>;
  marks: Record<string, string>;
  locks: KeyedMutex;
  clock: Clock;
  config: Pick<PlatformConfig, "startCash" | "traderAllowance" | "quotas" | "traderTokens" | "tradingMode">;
  /** Live trading: the last check of the money handed out against the exchange account's balance. */
  funding?: Funding;
  /** The operator's allowance and ceilings of each trader who has any set. */
  traders: Map<string, TraderRecord>;
}

interface RiskMethods extends TopicMethods {
  /** The portfolio if the caller may see it; 404 otherwise, as if another trader's did not exist. */
  visiblePortfolio(meta: unknown, id: string): Portfolio;
  /** The instrument as the caller sees it: only their own portfolios among those holding it. */
  instrumentFor(principal: Principal, instrument: InstrumentRecord): InstrumentRecord;
  /** A trader's own portfolio (named after them, START_CASH or what is left of the allowance), made on their first call. */
  provisionTrader(principal: Principal): Promise<void>;
  /** The trader's allowance, what their portfolios hold of it, and their ceilings. */
  budget(traderId: string): TraderBudget;
  /** Trader ids the platform knows: from TRADER_TOKENS, the operator's settings and the portfolios' owners. */
  knownTraders(): string[];
  /** 429 when registering `instrumentKey` into `portfolioId` would pass a quota. */
  checkInstrumentQuota(instrumentKey: string, portfolioId: string): void;
  /** The account limits in force: the operator's, else derived from the portfolios' start cash and count. */
  accountLimits(): AccountLimits;
  /** What is handed out: each trader's allowance (with `allowances` overriding) and the operator's portfolios' start cash, plus `more`. */
  allocations(allowances?: Record<string, string>, more?: string): string[];
  /** Live trading: the money handed out against the exchange account's balance, asked of the exchange now. */
  fundingWith(allocated: string[]): Promise<Funding>;
  /** Live trading: refreshes `funding` for what is handed out now; logs an error when the account holds less. */
  refreshFunding(): Promise<void>;
  /** Live trading: 422 on `field` when a change would hand out more than the account holds. */
  requireFunding(field: string, value: string, allocated: string[]): Promise<void>;
  createPortfolio(id: string, name: string, startCash: string, limits?: Partial<PortfolioRecord["limits"]>, owner?: string): Promise<Portfolio>;
  announce(portfolio: Portfolio, cause: PortfolioSnapshot["cause"], traceId?: string): Promise<PortfolioSnapshot>;
  saveRecord(portfolio: Portfolio): Promise<void>;
  /** Sets the kill switch under the portfolio's lock. */
  setHalted(p: Portfolio, halted: boolean, reason?: string): Promise<PortfolioSnapshot>;
  /** Sets the kill switch; the caller holds the portfolio's lock. */
  writeHalt(p: Portfolio, halted: boolean, reason?: string, traceId?: string): Promise<PortfolioSnapshot>;
  /** Whether the principal may see the portfolio of this id (the operator: any id). */
  sees(principal: Principal, portfolioId: string): boolean;
  /** The account's usage over all portfolios, valued at these marks. */
  usageAt(marks: Record<string, string>): AccountUsage;
  publishDecision(decision: DecisionRecord, traceId: string): Promise<void>;
  decide(signal: PortfolioSignal, envelope: Envelope<PortfolioSignal>): Promise<void>;
  reject(portfolioId: string, signal: TradingSignal, stage: 1 | 2, reason: RejectReason, detail: string, traceId: string): Promise<void>;
  onOrder(order: VenueOrder, traceId: string): Promise<void>;
  onFill(fill: Fill, traceId: string): Promise<void>;
  publishInstrument(instrument: InstrumentRecord): Promise<void>;
  accountView(): AccountView;
  saveAccount(change: Partial<AccountRecord>): Promise<AccountView>;
}

const portfolioId = { type: "string", pattern: PORTFOLIO_ID, empty: false } as const;
const page = {
  limit: { type: "number", integer: true, positive: true, max: 1000, optional: true, convert: true },
  offset: { type: "number", integer: true, min: 0, max: 1_000_000, optional: true, convert: true },
} as const;


/** The lock of the account-wide gate; portfolio locks are taken before it, never after. */
const ACCOUNT_LOCK = "account:gate";
/** The lock of the instrument registry, under which the instrument quotas are checked and a registration recorded. */
const INSTRUMENTS_LOCK = "instruments:registry";
/** The lock of a trader's budget: their portfolios' start cash and the operator's allowance change under it. */
const traderLock = (traderId: string) => `trader:${traderId}`;

function signalSummary(signal: TradingSignal): DecisionRecord["signal"] {
  const { signalId, strategy, modelVersion, confidence, price, marketTime, receivedAt, features } = signal;
  return { signalId, strategy, modelVersion, confidence, price, marketTime, receivedAt, features };
}

/** Actions after which a trader expects their own portfolio to exist (besides those naming it by id). */
const PROVISIONING_ACTIONS = new Set(["risk.listPortfolios", "risk.registerInstrument", "risk.createPortfolio", "risk.getTrader"]);

/** 429: a quota that keeps one token from exhausting the platform. */
function quotaExceeded(message: string, quota: string, limit: number): Errors.MoleculerClientError {
  return new Errors.MoleculerClientError(message, 429, "QUOTA_EXCEEDED", { quota, limit });
}

const startCashParam = { type: "string", pattern: MONEY_AMOUNT, max: 40, optional: true } as const;

const RiskService: ServiceSchema<ServiceSettingSchema, RiskMethods, RiskLocals> = {
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

  hooks: {
    before: {
      // A trader's first call that shows or uses their own portfolio finds it there; other calls create nothing.
      async "*"(ctx: Context<{ id?: unknown }>) {
        const principal = principalOf(ctx.meta);
        if (principal.role !== "trader") return;
        if (PROVISIONING_ACTIONS.has(ctx.action?.name ?? "") || ctx.params?.id === principal.traderId) await this.provisionTrader(principal);
      },
    },
  },

  topics: {
    /** Stage 1: instrument-level rules, in instrument order, then one republish per portfolio. */
    [TOPICS.tradingSignals]: {
      async handler(signal: TradingSignal, envelope: Envelope<TradingSignal>) {
        this.marks[signal.instrumentKey] = signal.price;
        if (signal.action === "HOLD") return;
        const instrument = this.instruments.get(signal.instrumentKey);
        if (!instrument || instrument.portfolioIds.length === 0) {
          this.logger.debug(`signal for unregistered instrument ${signal.instrumentKey} dropped`);
          return;
        }
        for (const id of instrument.portfolioIds) {
          const portfolio = this.portfolios.get(id);
          if (!portfolio) continue;
          const outcome = instrumentRules({ signal, instrument, now: this.clock.now(), maxDataAgeMs: portfolio.record.limits.maxDataAgeMs });
          if (!outcome.pass) {
            await this.reject(id, signal, 1, outcome.reason, outcome.detail, envelope.traceId);
            continue;
          }
          const riskKey = riskKeyOf(id, signal.symbol);
          await this.publish(TOPICS.tradingSignalsPortfolio, { portfolioId: id, riskKey, signal }, {
            idempotencyKey: decisionKeyOf(riskKey, signal.signalId),
            traceId: envelope.traceId,
          });
        }
      },
    },

    /** Stage 2: portfolio-level rules, in portfolio order. */
    [TOPICS.tradingSignalsPortfolio]: {
      async handler(payload: PortfolioSignal, envelope: Envelope<PortfolioSignal>) {
        await this.locks.run(payload.portfolioId, () => this.decide(payload, envelope));
      },
    },

    [TOPICS.ordersPlaced]: {
      async handler(order: VenueOrder, envelope: Envelope<VenueOrder>) {
        await this.locks.run(order.portfolioId, () => this.onOrder(order, envelope.traceId));
      },
    },

    [TOPICS.ordersFills]: {
      async handler(fill: Fill, envelope: Envelope<Fill>) {
        await this.locks.run(fill.portfolioId, () => this.onFill(fill, envelope.traceId));
      },
    },
  },

  actions: {
    /** The account-wide gate: its kill switch, limits and current usage over all portfolios (the operator's). */
    getAccount: {
      rest: "GET /account",
      openapi: { operatorOnly: true, response: ACCOUNT },
      async handler(ctx: Context) {
        requireOperator(ctx.meta, "the account");
        await this.refreshFunding();
        return this.accountView();
      },
    },

    setAccountLimits: {
      rest: "PATCH /account/limits",
      openapi: { operatorOnly: true, response: ACCOUNT, body: ACCOUNT_LIMITS_CHANGE },
      params: { $$strict: false },
      async handler(ctx: Context<Record<string, unknown>>) {
        requireOperator(ctx.meta, "the account");
        const checked = validateAccountLimits(ctx.params);
        if (!checked.ok) throw new Errors.ValidationError("invalid account limits", "VALIDATION_ERROR", checked.errors);
        const limits = { ...this.account.limits, ...checked.set };
        for (const field of checked.cleared) delete limits[field];
        return this.saveAccount({ limits });
      },
    },

    haltAccount: {
      rest: "POST /account/halt",
      openapi: { operatorOnly: true, response: ACCOUNT },
      params: { reason: { type: "string", max: 200, optional: true } },
      handler(ctx: Context<{ reason?: string }>) {
        requireOperator(ctx.meta, "the account");
        return this.saveAccount({ halted: true, haltReason: ctx.params.reason ?? "manual" });
      },
    },

    resumeAccount: {
      rest: "POST /account/resume",
      openapi: { operatorOnly: true, response: ACCOUNT },
      handler(ctx: Context) {
        requireOperator(ctx.meta, "the account");
        return this.saveAccount({ halted: false });
      },
    },

    /** Every trader's allowance, what their portfolios hold of it, and their ceilings (the operator's). */
    listTraders: {
      rest: "GET /traders",
      openapi: { operatorOnly: true, response: listOf(TRADER_BUDGET) },
      handler(ctx: Context) {
        requireOperator(ctx.meta, "the traders' budgets");
        return this.knownTraders().map((id) => this.budget(id));
      },
    },

    /** One trader's budget: the operator's, or the trader's own (read-only). */
    getTrader: {
      rest: "GET /traders/:id",
      openapi: { response: TRADER_BUDGET },
      params: { id: { type: "string", pattern: TRADER_ID } },
      handler(ctx: Context<{ id: string }>) {
        const principal = principalOf(ctx.meta);
        const own = principal.role === "trader" && principal.traderId === ctx.params.id;
        if ((principal.role === "trader" && !own) || !this.knownTraders().includes(ctx.params.id)) throw notFound("trader", ctx.params.id);
        return this.budget(ctx.params.id);
      },
    },

    /** The operator sets a trader's allowance and ceilings; a ceiling of null returns to the default. */
    setTrader: {
      rest: "PATCH /traders/:id",
      openapi: { operatorOnly: true, response: TRADER_BUDGET, body: { allowance: AMOUNT, ceilings: CEILINGS_CHANGE } },
      params: {
        id: { type: "string", pattern: TRADER_ID },
        allowance: { type: "string", pattern: /^[0-9]+(\.[0-9]+)?$/, max: 40, optional: true },
        ceilings: { type: "object", optional: true },
      },
      async handler(ctx: Context<{ id: string; allowance?: string; ceilings?: Record<string, unknown> }>) {
        requireOperator(ctx.meta, "a trader's allowance and ceilings");
        const { id } = ctx.params;
        if (id === "default") throw invalidField("id", '"default" is the operator\'s portfolio, not a trader', id);
        return this.locks.run(traderLock(id), async () => {
          const checked = validateTraderPatch(ctx.params, this.budget(id).used);
          if (!checked.ok) throw new Errors.ValidationError("invalid trader budget", "VALIDATION_ERROR", checked.errors);
          const { allowance: raised } = checked.change;
          if (raised !== undefined) await this.requireFunding("allowance", raised, this.allocations({ [id]: raised }));
          const previous = this.traders.get(id);
          const ceilings = { ...previous?.ceilings, ...checked.change.ceilings };
          for (const field of checked.change.cleared) delete ceilings[field];
          const allowance = checked.change.allowance ?? previous?.allowance;
          const record: TraderRecord = { traderId: id, ...(allowance !== undefined && { allowance }), ceilings, updatedAt: this.clock.now() };
          await this.stores.traders.put(id, record);
          this.traders.set(id, record);
          return this.budget(id);
        });
      },
    },

    registerInstrument: {
      rest: "POST /instruments",
      openapi: { success: [200, 201], response: INSTRUMENT, body: SIM_INSTRUMENT_FIELDS },
      params: {
        exchange: { type: "string", pattern: /^[a-z0-9_-]{2,32}$/, empty: false },
        symbol: { type: "string", pattern: /^[A-Z0-9]{2,12}\/[A-Z0-9]{2,12}$/, empty: false },
        portfolioId: { ...portfolioId, optional: true },
      },
      async handler(ctx: Context<{ exchange: string; symbol: string; portfolioId?: string }, { $statusCode?: number; $location?: string }>) {
        const { exchange, symbol } = ctx.params;
        const principal = principalOf(ctx.meta);
        const pid = ctx.params.portfolioId ?? (principal.role === "trader" ? principal.traderId : "default");
        if (!this.portfolios.has(pid) || !this.sees(principal, pid)) {
          throw invalidField("portfolioId", `portfolio "${pid}" does not exist`, pid);
        }
        const instrumentKey = instrumentKeyOf(exchange, symbol);
        // Refused before the venue is asked, and again below under the lock, where it is exact.
        this.checkInstrumentQuota(instrumentKey, pid);
        let market: MarketInfo;
        try {
          market = await ctx.call<MarketInfo, { instrumentKey: string }>("exchange.market", { instrumentKey });
        } catch (err) {
          // Nothing is recorded unless the venue confirmed the market.
          throw registrationError(err, exchange, symbol);
        }
        const { instrument, unchanged } = await this.locks.run(INSTRUMENTS_LOCK, async () => {
          this.checkInstrumentQuota(instrumentKey, pid);
          const now = this.clock.now();
          const existing = this.instruments.get(instrumentKey);
          const unchanged = Boolean(existing?.enabled && existing.portfolioIds.includes(pid));
          const instrument: InstrumentRecord = existing
            ? { ...existing, enabled: true, market, portfolioIds: [...new Set([...existing.portfolioIds, pid])], updatedAt: now }
            : { instrumentKey, exchange, symbol, portfolioIds: [pid], enabled: true, market, registeredAt: now, updatedAt: now };
          if (!unchanged) {
            await this.stores.instruments.put(instrumentKey, instrument);
            this.instruments.set(instrumentKey, instrument);
          }
          return { instrument, unchanged };
        });
        if (!unchanged) await this.publishInstrument(instrument);
        ctx.meta.$statusCode = unchanged ? 200 : 201;
        ctx.meta.$location = `/api/instruments/${encodeURIComponent(instrumentKey)}`;
        return this.instrumentFor(principal, instrument);
      },
    },

    listInstruments: {
      rest: "GET /instruments",
      openapi: { response: listOf(INSTRUMENT) },
      handler(ctx: Context) {
        const principal = principalOf(ctx.meta);
        return [...this.instruments.values()].map((i) => this.instrumentFor(principal, i));
      },
    },

    unregisterInstrument: {
      rest: "DELETE /instruments/:instrumentKey",
      openapi: { response: INSTRUMENT },
      params: { instrumentKey: { type: "string", empty: false, max: 100 }, portfolioId: { ...portfolioId, optional: true } },
      async handler(ctx: Context<{ instrumentKey: string; portfolioId?: string }>) {
        // moleculer-web decoded the path once; a key is never decoded twice, so `%25ZZ` is the key "%ZZ", not found.
        const key = ctx.params.instrumentKey;
        const instrument = this.instruments.get(key);
        if (!instrument) throw notFound("instrument", key);
        const principal = principalOf(ctx.meta);
        const only = ctx.params.portfolioId;
        if (only) this.visiblePortfolio(ctx.meta, only);
        // Without a portfolio id, every portfolio of the caller's stops trading it (all of them for the operator).
        const removed = (id: string) => (only ? id === only : this.sees(principal, id));
        const updated = await this.locks.run(INSTRUMENTS_LOCK, async () => {
          const current = this.instruments.get(key)!;
          const portfolioIds = current.portfolioIds.filter((id) => !removed(id));
          const updated: InstrumentRecord = { ...current, portfolioIds, enabled: portfolioIds.length > 0, updatedAt: this.clock.now() };
          await this.stores.instruments.put(key, updated);
          this.instruments.set(key, updated);
          return updated;
        });
        await this.publishInstrument(updated);
        return this.instrumentFor(principal, updated);
      },
    },

    createPortfolio: {
      rest: "POST /portfolios",
      openapi: { success: [201], response: PORTFOLIO, body: { startCash: { ...AMOUNT, nullable: true }, limits: LIMITS_CHANGE }, answers: { 409: EXISTS_ALREADY } },
      params: {
        id: portfolioId,
        name: { type: "string", max: 100, optional: true },
        startCash: startCashParam,
        limits: { type: "object", optional: true },
      },
      async handler(ctx: Context<{ id: string; name?: string; startCash?: string; limits?: unknown }, { $statusCode?: number; $location?: string }>) {
        const principal = principalOf(ctx.meta);
        const refusal = portfolioIdRefusal(principal, ctx.params.id);
        if (refusal) throw invalidField("id", refusal, ctx.params.id);
        const startCash = ctx.params.startCash ?? this.config.startCash;
        const checkAmount = () => {
          const bad = amountRefusal(startCash);
          if (bad) throw invalidField("startCash", bad, startCash);
        };
        let limits: Partial<PortfolioRecord["limits"]> = {};
        if (ctx.params.limits !== undefined) {
          const checked = validateLimits(ctx.params.limits);
          if (!checked.ok) throw new Errors.ValidationError("invalid limits", "VALIDATION_ERROR", checked.errors.map((e) => ({ ...e, field: `limits.${e.field}` })));
          limits = checked.limits;
        }
        const create = (base: Partial<PortfolioRecord["limits"]> = {}, owner?: string) => {
          if (this.portfolios.has(ctx.params.id)) throw alreadyExists("id", `portfolio "${ctx.params.id}" exists already`, ctx.params.id);
          return this.createPortfolio(ctx.params.id, ctx.params.name ?? ctx.params.id, startCash, { ...base, ...limits }, owner);
        };
        let portfolio: Portfolio;
        if (principal.role === "operator") {
          checkAmount();
          // The operator's portfolios are funded by the operator: in live trading, from the exchange account.
          await this.requireFunding("startCash", startCash, this.allocations({}, startCash));
          portfolio = await create();
        } else {
          const { traderId } = principal;
          // A trader's portfolios are funded from their allowance: the portfolio quota, the allowance left, the operator's ceilings.
          portfolio = await this.locks.run(traderLock(traderId), () => {
            const budget = this.budget(traderId);
            const quota = this.config.quotas.portfoliosPerTrader;
            if (budget.portfolioIds.length >= quota) throw quotaExceeded(`a trader may own at most ${quota} portfolios (PORTFOLIOS_PER_TRADER)`, "portfoliosPerTrader", quota);
            const overBudget = startCashRefusal(startCash, budget);
            if (overBudget) throw invalidField("startCash", overBudget, startCash, { allowance: budget.allowance, free: budget.free });
            checkAmount();
            const overCeiling = ceilingErrors(limits, budget.ceilings, "limits.");
            if (overCeiling.length > 0) throw new Errors.ValidationError("limits above the trader's ceilings", "VALIDATION_ERROR", overCeiling);
            return create(limitsWithin(budget.ceilings), traderId);
          });
        }
        ctx.meta.$statusCode = 201;
        ctx.meta.$location = `/api/portfolios/${ctx.params.id}`;
        return { ...portfolio.snapshot(this.marks, "created", this.clock.now()), limits: portfolio.record.limits };
      },
    },

    listPortfolios: {
      rest: "GET /portfolios",
      openapi: { response: listOf(PORTFOLIO) },
      handler(ctx: Context) {
        const principal = principalOf(ctx.meta);
        return [...this.portfolios.values()].filter((p) => canSee(principal, p.record.owner)).map((p) => ({ ...p.snapshot(this.marks, "mark", this.clock.now()), name: p.record.name, limits: p.record.limits }));
      },
    },

    getPortfolio: {
      rest: "GET /portfolios/:id",
      openapi: { response: PORTFOLIO_DETAIL },
      params: { id: portfolioId },
      handler(ctx: Context<{ id: string }>) {
        const p = this.visiblePortfolio(ctx.meta, ctx.params.id);
        return {
          ...p.snapshot(this.marks, "mark", this.clock.now()),
          name: p.record.name,
          startCash: p.record.startCash,
          limits: p.record.limits,
          dayStartEquity: p.record.dayStartEquity,
          peakEquity: p.record.peakEquity,
          haltReason: p.record.haltReason,
        };
      },
    },

    setLimits: {
      rest: "PATCH /portfolios/:id/limits",
      openapi: { response: LIMITS, body: LIMIT_FIELDS },
      params: { id: portfolioId, $$strict: false },
      async handler(ctx: Context<Record<string, unknown> & { id: string }>) {
        const { id, ...patch } = ctx.params;
        const p = this.visiblePortfolio(ctx.meta, id);
        const checked = validateLimits(patch);
        if (!checked.ok) throw new Errors.ValidationError("invalid limits", "VALIDATION_ERROR", checked.errors);
        const principal = principalOf(ctx.meta);
        if (principal.role === "trader") {
          const overCeiling = ceilingErrors(checked.limits, ceilingsOf(this.traders.get(principal.traderId)));
          if (overCeiling.length > 0) throw new Errors.ValidationError("limits above the trader's ceilings", "VALIDATION_ERROR", overCeiling);
        }
        return this.locks.run(id, async () => {
          p.record = { ...p.record, limits: { ...p.record.limits, ...checked.limits }, updatedAt: this.clock.now() };
          await this.saveRecord(p);
          await this.announce(p, "limits");
          return p.record.limits;
        });
      },
    },

    halt: {
      rest: "POST /portfolios/:id/halt",
      openapi: { response: PORTFOLIO_SNAPSHOT },
      params: { id: portfolioId, reason: { type: "string", max: 200, optional: true } },
      handler(ctx: Context<{ id: string; reason?: string }>) {
        return this.setHalted(this.visiblePortfolio(ctx.meta, ctx.params.id), true, ctx.params.reason ?? "manual");
      },
    },

    resume: {
      rest: "POST /portfolios/:id/resume",
      openapi: { response: PORTFOLIO_SNAPSHOT },
      params: { id: portfolioId },
      handler(ctx: Context<{ id: string }>) {
        return this.setHalted(this.visiblePortfolio(ctx.meta, ctx.params.id), false);
      },
    },

    listOrders: {
      rest: "GET /portfolios/:id/orders",
      openapi: { response: listOf(ORDER) },
      params: { id: portfolioId, status: { type: "string", optional: true }, ...page },
      async handler(ctx: Context<{ id: string; status?: string; limit?: number; offset?: number }>) {
        this.visiblePortfolio(ctx.meta, ctx.params.id);
        const query: Record<string, unknown> = { portfolioId: ctx.params.id };
        if (ctx.params.status) query.status = ctx.params.status;
        return this.stores.orders.find({ query, sort: ["-createdAt"], limit: ctx.params.limit ?? 100, offset: ctx.params.offset });
      },
    },

    listFills: {
      rest: "GET /portfolios/:id/fills",
      openapi: { response: listOf(FILL) },
      params: { id: portfolioId, ...page },
      async handler(ctx: Context<{ id: string; limit?: number; offset?: number }>) {
        this.visiblePortfolio(ctx.meta, ctx.params.id);
        return this.stores.fills.find({ query: { portfolioId: ctx.params.id }, sort: ["-time"], limit: ctx.params.limit ?? 100, offset: ctx.params.offset });
      },
    },

    /** Which of these fill ids the record lacks: all that execution republishes when it starts. */
    missingFills: {
      params: { fillIds: { type: "array", items: { type: "string", empty: false }, max: MISSING_FILLS_MAX } },
      async handler(ctx: Context<{ fillIds: string[] }>) {
        const known = new Set((await this.stores.fills.find({ query: { _id: { $in: ctx.params.fillIds } } })).map((f) => f.fillId));
        return ctx.params.fillIds.filter((id) => !known.has(id));
      },
    },

    listDecisions: {
      rest: "GET /portfolios/:id/decisions",
      openapi: { response: listOf(DECISION) },
      params: {
        id: portfolioId,
        outcome: { type: "enum", values: ["approved", "rejected"], optional: true },
        reason: { type: "string", optional: true },
        ...page,
      },
      async handler(ctx: Context<{ id: string; outcome?: string; reason?: string; limit?: number; offset?: number }>) {
        this.visiblePortfolio(ctx.meta, ctx.params.id);
        const query: Record<string, unknown> = { portfolioId: ctx.params.id };
        if (ctx.params.outcome) query.outcome = ctx.params.outcome;
        if (ctx.params.reason) query.reason = ctx.params.reason;
        return this.stores.decisions.find({ query, sort: ["-decidedAt"], limit: ctx.params.limit ?? 100, offset: ctx.params.offset });
      },
    },
  },

  methods: {
    visiblePortfolio(meta: unknown, id: string) {
      const p = this.portfolios.get(id);
      if (!p || !canSee(principalOf(meta), p.record.owner)) throw notFound("portfolio", id);
      return p;
    },

    instrumentFor(principal: Principal, instrument: InstrumentRecord) {
      if (principal.role === "operator") return instrument;
      return { ...instrument, portfolioIds: instrument.portfolioIds.filter((id) => this.sees(principal, id)) };
    },

    sees(principal: Principal, portfolioId: string) {
      return canSee(principal, this.portfolios.get(portfolioId)?.record.owner);
    },

    async provisionTrader(principal: Principal) {
      if (principal.role !== "trader" || this.portfolios.has(principal.traderId)) return;
      const id = principal.traderId;
      await this.locks.run(traderLock(id), async () => {
        if (this.portfolios.has(id)) return;
        // START_CASH, out of the allowance: never more than what is left of it.
        const budget = this.budget(id);
        const startCash = str(Dec.max(0, Dec.min(this.config.startCash, budget.free)));
        await this.createPortfolio(id, id, startCash, limitsWithin(budget.ceilings), id);
      });
    },

    budget(traderId: string) {
      const own = [...this.portfolios.values()].filter((p) => p.record.owner === traderId).map((p) => p.record);
      return budgetOf(traderId, this.traders.get(traderId), this.config.traderAllowance, own);
    },

    knownTraders() {
      const owners = [...this.portfolios.values()].flatMap((p) => (p.record.owner ? [p.record.owner] : []));
      return [...new Set([...Object.keys(this.config.traderTokens), ...this.traders.keys(), ...owners])].sort();
    },

    checkInstrumentQuota(instrumentKey: string, portfolioId: string) {
      const existing = this.instruments.get(instrumentKey);
      if (existing?.enabled && existing.portfolioIds.includes(portfolioId)) return;
      const { instrumentsTotal, instrumentsPerTrader } = this.config.quotas;
      const enabled = [...this.instruments.values()].filter((i) => i.enabled);
      if (!existing?.enabled && enabled.length >= instrumentsTotal) {
        throw quotaExceeded(`the platform trades at most ${instrumentsTotal} instruments (INSTRUMENTS_MAX)`, "instrumentsTotal", instrumentsTotal);
      }
      const owner = this.portfolios.get(portfolioId)?.record.owner;
      if (!owner) return;
      const ownedBy = (i: InstrumentRecord) => i.portfolioIds.some((id) => this.portfolios.get(id)?.record.owner === owner);
      if (existing?.enabled && ownedBy(existing)) return;
      if (enabled.filter(ownedBy).length >= instrumentsPerTrader) {
        throw quotaExceeded(`a trader's portfolios trade at most ${instrumentsPerTrader} instruments (INSTRUMENTS_PER_TRADER)`, "instrumentsPerTrader", instrumentsPerTrader);
      }
    },

    async createPortfolio(id: string, name: string, startCash: string, limits: Partial<PortfolioRecord["limits"]> = {}, owner?: string) {
      const now = this.clock.now();
      const record: PortfolioRecord = {
        portfolioId: id,
        name,
        ...(owner ? { owner } : {}),
        startCash: str(startCash),
        limits: { ...DEFAULT_LIMITS, ...limits },
        halted: false,
        dayKey: dayKey(now),
        dayStartEquity: str(startCash),
        peakEquity: str(startCash),
        createdAt: now,
        updatedAt: now,
      };
      await this.stores.portfolios.insert(id, record);
      const portfolio = new Portfolio(record, [], [], (key) => this.instruments.get(key)?.market ?? parseMarketCurrencies(key));
      this.portfolios.set(id, portfolio);
      await this.announce(portfolio, "created");
      return portfolio;
    },

    async saveRecord(p: Portfolio) {
      await this.stores.portfolios.put(p.id, p.record);
    },

    async announce(p: Portfolio, cause: PortfolioSnapshot["cause"], traceId?: string) {
      const now = this.clock.now();
      if (p.track(this.marks, now)) await this.saveRecord(p);
      const snapshot = p.snapshot(this.marks, cause, now);
      await this.publish(TOPICS.portfolioUpdated, snapshot, { traceId });
      return snapshot;
    },

    setHalted(p: Portfolio, halted: boolean, reason?: string) {
      return this.locks.run(p.id, () => this.writeHalt(p, halted, reason));
    },

    async writeHalt(p: Portfolio, halted: boolean, reason?: string, traceId?: string) {
      p.record = { ...p.record, halted, haltReason: halted ? reason : undefined, updatedAt: this.clock.now() };
      await this.saveRecord(p);
      return this.announce(p, halted ? "halt" : "resume", traceId);
    },

    accountView() {
      return { ...this.account, effectiveLimits: this.accountLimits(), ...this.usageAt(this.marks), ...(this.funding && { funding: this.funding }) };
    },

    allocations(allowances: Record<string, string> = {}, more?: string) {
      const traders = [...new Set([...this.knownTraders(), ...Object.keys(allowances)])];
      const operators = [...this.portfolios.values()].filter((p) => !p.record.owner).map((p) => p.record.startCash);
      return [...traders.map((id) => allowances[id] ?? this.budget(id).allowance), ...operators, ...(more !== undefined ? [more] : [])];
    },

    async fundingWith(allocated: string[]) {
      const { total } = await this.broker.call<{ total: string }, { currency: string }>("exchange.balance", { currency: FUNDING_CURRENCY });
      return { currency: FUNDING_CURRENCY, ...fundingHeadroom(total, allocated), checkedAt: this.clock.now() };
    },

    async refreshFunding() {
      if (this.config.tradingMode !== "live") return;
      try {
        this.funding = await this.fundingWith(this.allocations());
      } catch (err) {
        this.logger.warn(`exchange account balance unknown, funding not checked: ${(err as Error).message}`);
        return;
      }
      if (dec(this.funding.headroom).isNegative()) {
        this.logger.error(`${this.funding.allocated} ${FUNDING_CURRENCY} handed out (allowances and the operator's portfolios) but the exchange account holds ${this.funding.balance}: lower allowances or fund the account`);
      }
    },

    async requireFunding(field: string, value: string, allocated: string[]) {
      if (this.config.tradingMode !== "live") return;
      const funding = await this.fundingWith(allocated);
      if (dec(funding.headroom).isNegative()) {
        throw invalidField(field, `would hand out ${funding.allocated} ${FUNDING_CURRENCY} in all, more than the exchange account's ${funding.balance} ${FUNDING_CURRENCY}`, value, { balance: funding.balance, allocated: funding.allocated });
      }
      this.funding = funding;
    },

    accountLimits() {
      return accountLimitsInForce(this.account.limits, [...this.portfolios.values()].map((p) => p.record));
    },

    usageAt(marks: Record<string, string>) {
      return accountUsage([...this.portfolios.values()].map((p) => ({ exposure: p.value(marks).exposure, openOrders: p.openOrders() })));
    },

    async saveAccount(change: Partial<AccountRecord>) {
      return this.locks.run(ACCOUNT_LOCK, async () => {
        const next: AccountRecord = { ...this.account, ...change, updatedAt: this.clock.now() };
        if (!next.halted) delete next.haltReason;
        await this.stores.account.put("account", next);
        this.account = next;
        return this.accountView();
      });
    },

    async publishInstrument(instrument: InstrumentRecord) {
      await this.publish(TOPICS.instrumentRegistered, {
        instrumentKey: instrument.instrumentKey,
        exchange: instrument.exchange,
        symbol: instrument.symbol,
        portfolioIds: instrument.portfolioIds,
        status: instrument.enabled ? "active" : "removed",
        market: instrument.market,
        changedAt: instrument.updatedAt,
      });
    },

    async publishDecision(d: DecisionRecord, traceId: string) {
      const base = {
        decisionId: d.decisionId,
        riskKey: riskKeyOf(d.portfolioId, parseInstrumentKey(d.instrumentKey).symbol),
        portfolioId: d.portfolioId,
        instrumentKey: d.instrumentKey,
        signalId: d.signal.signalId,
        strategy: d.signal.strategy,
        modelVersion: d.signal.modelVersion,
        confidence: d.signal.confidence,
        receivedAt: d.signal.receivedAt,
        decidedAt: d.decidedAt,
      };
      if (d.outcome === "approved") {
        const approved: TradeApproved = {
          ...base, clientOrderId: d.clientOrderId!, side: d.action, type: "market", quantity: d.quantity!, price: d.price, notional: d.notional!,
        };
        await this.publish(TOPICS.tradesApproved, approved, { idempotencyKey: d.idempotencyKey, traceId });
      } else {
        const rejected: TradeRejected = { ...base, action: d.action, reason: d.reason!, detail: d.detail ?? "", stage: d.stage };
        await this.publish(TOPICS.tradesRejected, rejected, { idempotencyKey: d.idempotencyKey, traceId });
      }
    },

    async reject(portfolioId: string, signal: TradingSignal, stage: 1 | 2, reason: RejectReason, detail: string, traceId: string) {
      const idempotencyKey = decisionKeyOf(riskKeyOf(portfolioId, signal.symbol), signal.signalId);
      const decision: DecisionRecord = {
        idempotencyKey, decisionId: randomUUID(), outcome: "rejected", stage, portfolioId, instrumentKey: signal.instrumentKey,
        action: signal.action as "BUY" | "SELL", reason, detail, price: signal.price, signal: signalSummary(signal), decidedAt: this.clock.now(),
      };
      // A replayed signal finds its decision already recorded and republishes that one.
      const stored = (await this.stores.decisions.insertIfAbsent(idempotencyKey, decision)) ? decision : (await this.stores.decisions.get(idempotencyKey))!;
      await this.publishDecision(stored, traceId);
    },

    async decide({ portfolioId: id, riskKey, signal }: PortfolioSignal, envelope: Envelope<PortfolioSignal>) {
      const key = envelope.idempotencyKey ?? decisionKeyOf(riskKey, signal.signalId);
      const previous = await this.stores.decisions.get(key);
      if (previous) return this.publishDecision(previous, envelope.traceId);
      const portfolio = this.portfolios.get(id);
      const instrument = this.instruments.get(signal.instrumentKey);
      if (!portfolio || !instrument) return;
      const halt = accountHalt(this.account);
      if (!halt.pass) return this.reject(id, signal, 2, halt.reason, halt.detail, envelope.traceId);
      const fresh = freshData(signal, this.clock.now(), portfolio.record.limits.maxDataAgeMs);
      if (!fresh.pass) return this.reject(id, signal, 2, fresh.reason, fresh.detail, envelope.traceId);
      const marks = { ...this.marks, [signal.instrumentKey]: signal.price };
      const outcome = portfolio.evaluate(signal, instrument.market, marks);
      if (!outcome.approved) {
        if (outcome.haltPortfolio && !portfolio.record.halted) await this.writeHalt(portfolio, true, outcome.reason, envelope.traceId);
        return this.reject(id, signal, 2, outcome.reason, outcome.detail, envelope.traceId);
      }
      const now = this.clock.now();
      const clientOrderId = clientOrderIdOf(key);
      const order: OrderRecord = {
        clientOrderId, venueOrderId: "", portfolioId: id, instrumentKey: signal.instrumentKey, side: outcome.side, type: "market",
        quantity: outcome.quantity, price: outcome.price, filledQuantity: "0", status: "pending_new", createdAt: now, updatedAt: now,
        decisionKey: key, signalId: signal.signalId,
      };
      const decision: DecisionRecord = {
        idempotencyKey: key, decisionId: randomUUID(), outcome: "approved", stage: 2, portfolioId: id, instrumentKey: signal.instrumentKey,
        action: outcome.side, clientOrderId, quantity: outcome.quantity, price: outcome.price, notional: outcome.notional,
        signal: signalSummary(signal), decidedAt: now,
      };
      // The account gate and the order's recording are one step under the account lock: the next
      // decision, of any portfolio, already counts this order. It is recorded before the approval goes out.
      const gate = await this.locks.run(ACCOUNT_LOCK, async () => {
        const verdict = accountRules({ limits: this.accountLimits(), usage: this.usageAt(marks), order: outcome });
        if (!verdict.pass) return verdict;
        await this.stores.orders.insertIfAbsent(clientOrderId, order);
        portfolio.trackOrder(order);
        return verdict;
      });
      if (!gate.pass) return this.reject(id, signal, 2, gate.reason, gate.detail, envelope.traceId);
      await this.stores.decisions.insert(key, decision);
      await this.publishDecision(decision, envelope.traceId);
      await this.announce(portfolio, "order", envelope.traceId);
    },

    async onOrder(update: VenueOrder, traceId: string) {
      const portfolio = this.portfolios.get(update.portfolioId);
      if (!portfolio) return;
      const current = await this.stores.orders.get(update.clientOrderId);
      const merged = mergeOrderReport(current, update, portfolio.filledOf(update.clientOrderId));
      if (!merged) return;
      await this.stores.orders.put(update.clientOrderId, merged);
      portfolio.trackOrder(merged);
      await this.announce(portfolio, "order", traceId);
    },

    async onFill(fill: Fill, traceId: string) {
      const portfolio = this.portfolios.get(fill.portfolioId);
      if (!portfolio) return;
      // Stored (the record), applied to the book once, then the order derived from the book: each
      // step is safe to repeat, so a retry after a failure part-way leaves the same state.
      await this.stores.fills.insertIfAbsent(fill.fillId, fill);
      const fresh = portfolio.applyFill(fill);
      if (fresh) this.marks[fill.instrumentKey] ??= fill.price;
      const order = portfolio.working.get(fill.clientOrderId) ?? (await this.stores.orders.get(fill.clientOrderId));
      const updated = order && withFilledQuantity(order, portfolio.filledOf(order.clientOrderId));
      if (updated && updated !== order) {
        await this.stores.orders.put(updated.clientOrderId, updated);
        portfolio.trackOrder(updated);
      }
      if (fresh || updated !== order) await this.announce(portfolio, "fill", traceId);
    },
  },

  created() {
    this.portfolios = new Map();
    this.instruments = new Map();
    this.marks = {};
    this.locks = new KeyedMutex();
    this.traders = new Map();
    this.clock = wallClock;
  },

  async started() {
    const config = platformConfig(this.broker);
    this.config = config;
    for (const trader of await this.stores.traders.find()) this.traders.set(trader.traderId, trader);
    for (const instrument of await this.stores.instruments.find()) this.instruments.set(instrument.instrumentKey, instrument);
    const marketOf = (key: string) => this.instruments.get(key)?.market ?? parseMarketCurrencies(key);
    // Each portfolio's book is the replay of its fills: the fills are the record, the book follows.
    for (const record of await this.stores.portfolios.find()) {
      const fills = await this.stores.fills.find({ query: { portfolioId: record.portfolioId } });
      const orders = await this.stores.orders.find({ query: { portfolioId: record.portfolioId, status: { $in: ["pending_new", "open", "partially_filled"] } } });
      const portfolio = new Portfolio(record, fills, orders, marketOf);
      // A crash between storing a fill and updating its order leaves the order behind its fills.
      for (const order of orders) {
        const reconciled = withFilledQuantity(order, portfolio.filledOf(order.clientOrderId));
        if (reconciled === order) continue;
        await this.stores.orders.put(order.clientOrderId, reconciled);
        portfolio.trackOrder(reconciled);
      }
      this.portfolios.set(record.portfolioId, portfolio);
      for (const f of fills) this.marks[f.instrumentKey] = f.price;
    }
    if (!this.portfolios.has("default")) await this.createPortfolio("default", "Default", config.startCash);
    this.account = (await this.stores.account.get("account")) ?? { halted: false, limits: {}, updatedAt: this.clock.now() };
    // Not awaited: the exchange may be unreachable at start, and the platform starts without it.
    void this.refreshFunding();
  },
};

/**
 * Registration's answer when the venue cannot confirm the market: 422 on the field at fault (an
 * unknown symbol names the venue's close matches), 503 "exchange <id> unreachable" when it does not answer.
 */
function registrationError(err: unknown, exchange: string, symbol: string): Error {
  const code = venueCodeOf(err);
  const message = (err as Error).message;
  const data = ((err as { data?: Record<string, unknown> }).data ?? {}) as { closeMatches?: string[]; cause?: string };
  if (code === "unknown_symbol") return invalidField("symbol", message, symbol, { closeMatches: data.closeMatches ?? [] });
  if (code === "unknown_exchange") return invalidField("exchange", message, exchange);
  if (code === "venue_unavailable" || err instanceof Errors.RequestTimeoutError) {
    return new Errors.MoleculerServerError(`exchange ${exchange} unreachable`, 503, "EXCHANGE_UNREACHABLE", { exchange, ...(data.cause && { cause: data.cause }) });
  }
  return err as Error;
}

/** Base and quote of an instrument key, for books holding instruments no longer registered. */
function parseMarketCurrencies(instrumentKey: string): { base: string; quote: string } {
  const [base = "", quote = ""] = parseInstrumentKey(instrumentKey).symbol.split("/");
  return { base, quote };
}

export default RiskService;
