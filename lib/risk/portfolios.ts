/**
 * The portfolios risk holds in memory, their owners' budgets and what the API shows of them: creation
 * (funded by the operator or out of a trader's allowance), queries filtered to what the caller may see,
 * limits, the kill switch, and the operator's settings per trader. Each portfolio's book is the replay
 * of its fills; a change is stored before the `portfolio.updated` announcing it goes out.
 */
import { type Fill, type MarketInfo, type PortfolioSnapshot, TOPICS } from "../../schemas";
import { canSee, portfolioIdRefusal, type Principal } from "../auth";
import type { Clock } from "../clock";
import type { PlatformConfig } from "../config";
import { Dec, str } from "../decimal";
import { alreadyExists, invalidField, invalidFields, notFound, quotaExceeded } from "../errors";
import type { KeyedMutex } from "../keyed-mutex";

import type { FundingCheck } from "./funding";
import { Portfolio, withFilledQuantity } from "./portfolio";
import { DEFAULT_LIMITS, dayKey, validateLimits } from "./rules";
import type { Publish, RecordStore } from "./stores";
import { amountRefusal, budgetOf, ceilingErrors, ceilingsOf, limitsWithin, startCashRefusal, validateTraderPatch } from "./traders";
import type { DecisionRecord, OrderRecord, PortfolioRecord, RiskLimits, TraderBudget, TraderRecord } from "../../schemas";

export type RiskConfig = Pick<PlatformConfig, "startCash" | "traderAllowance" | "quotas" | "traderTokens" | "tradingMode">;

/** The operator's portfolio, made at the first start. */
export const DEFAULT_PORTFOLIO = "default";

/** The lock of a trader's budget: their portfolios' start cash and the operator's allowance change under it. */
const traderLock = (traderId: string) => `trader:${traderId}`;

/** The records kept per portfolio besides its own, and the field they are listed newest first by. */
type History = { orders: OrderRecord; fills: Fill; decisions: DecisionRecord };
const NEWEST_FIRST: { [K in keyof History]: string } = { orders: "-createdAt", fills: "-time", decisions: "-decidedAt" };

export interface PortfoliosDeps {
  stores: { [K in keyof History]: RecordStore<History[K]> } & { portfolios: RecordStore<PortfolioRecord>; traders: RecordStore<TraderRecord> };
  clock: Clock;
  locks: KeyedMutex;
  publish: Publish;
  config: RiskConfig;
  funding: FundingCheck;
  marketOf(instrumentKey: string): Pick<MarketInfo, "base" | "quote">;
}

/** A portfolio as the API lists it. */
export type PortfolioView = PortfolioSnapshot & { name?: string; limits: RiskLimits };

export interface PortfolioRequest {
  id: string;
  name?: string;
  startCash?: string;
  limits?: unknown;
}

export class Portfolios {
  /** The last price seen per instrument: signals' and fills' prices. */
  readonly marks: Record<string, string> = {};
  private readonly byId = new Map<string, Portfolio>();
  /** The operator's allowance and ceilings of each trader who has any set. */
  private readonly traders = new Map<string, TraderRecord>();

  constructor(private readonly deps: PortfoliosDeps) {}

  /** Each portfolio's book is the replay of its fills: the fills are the record, the book follows. */
  async load(): Promise<void> {
    const { stores } = this.deps;
    for (const trader of await stores.traders.find()) this.traders.set(trader.traderId, trader);
    for (const record of await stores.portfolios.find()) {
      const fills = await stores.fills.find({ query: { portfolioId: record.portfolioId } });
      const orders = await stores.orders.find({ query: { portfolioId: record.portfolioId, status: { $in: ["pending_new", "open", "partially_filled"] } } });
      const portfolio = new Portfolio(record, fills, orders, this.deps.marketOf);
      // A crash between storing a fill and updating its order leaves the order behind its fills.
      for (const order of orders) {
        const reconciled = withFilledQuantity(order, portfolio.filledOf(order.clientOrderId));
        if (reconciled === order) continue;
        await stores.orders.put(order.clientOrderId, reconciled);
        portfolio.trackOrder(reconciled);
      }
      this.byId.set(record.portfolioId, portfolio);
      for (const f of fills) this.marks[f.instrumentKey] = f.price;
    }
    if (!this.byId.has(DEFAULT_PORTFOLIO)) await this.create(DEFAULT_PORTFOLIO, "Default", this.deps.config.startCash);
  }

  get(id: string): Portfolio | undefined {
    return this.byId.get(id);
  }

  all(): Portfolio[] {
    return [...this.byId.values()];
  }

  /** The portfolio if the principal may see it; 404 otherwise, as if another trader's did not exist. */
  visible(principal: Principal, id: string): Portfolio {
    const p = this.byId.get(id);
    if (!p || !canSee(principal, p.record.owner)) throw notFound("portfolio", id);
    return p;
  }

  /** Whether the principal may see the portfolio of this id (the operator: any id). */
  sees(principal: Principal, portfolioId: string): boolean {
    return canSee(principal, this.byId.get(portfolioId)?.record.owner);
  }

  list(principal: Principal): PortfolioView[] {
    const now = this.deps.clock.now();
    return this.all().filter((p) => canSee(principal, p.record.owner)).map((p) => ({ ...p.snapshot(this.marks, "mark", now), name: p.record.name, limits: p.record.limits }));
  }

  detail(principal: Principal, id: string) {
    const p = this.visible(principal, id);
    const { name, startCash, limits, dayStartEquity, peakEquity, haltReason } = p.record;
    return { ...p.snapshot(this.marks, "mark", this.deps.clock.now()), name, startCash, limits, dayStartEquity, peakEquity, haltReason };
  }

  /** A page of the portfolio's orders, fills or decisions, newest first, narrowed by the filters given; 404 for a portfolio the principal cannot see. */
  history<K extends keyof History>(principal: Principal, kind: K, id: string, page: { limit?: number; offset?: number }, filters: Record<string, string | undefined> = {}): Promise<History[K][]> {
    this.visible(principal, id);
    const query = { portfolioId: id, ...Object.fromEntries(Object.entries(filters).filter(([, value]) => value)) };
    const store = this.deps.stores[kind] as RecordStore<History[K]>;
    return store.find({ query, sort: [NEWEST_FIRST[kind]], limit: page.limit ?? 100, offset: page.offset });
  }

  /** Which of these fill ids the record lacks. */
  async missingFills(fillIds: string[]): Promise<string[]> {
    const known = new Set((await this.deps.stores.fills.find({ query: { _id: { $in: fillIds } } })).map((f) => f.fillId));
    return fillIds.filter((id) => !known.has(id));
  }

  /**
   * A new portfolio: the operator's funded by the operator (in live trading, from the exchange
   * account), a trader's out of their allowance, within their portfolio quota and the operator's ceilings.
   */
  async createFor(principal: Principal, request: PortfolioRequest): Promise<PortfolioView> {
    const refusal = portfolioIdRefusal(principal, request.id);
    if (refusal) throw invalidField("id", refusal, request.id);
    const startCash = request.startCash ?? this.deps.config.startCash;
    const checkAmount = () => {
      const bad = amountRefusal(startCash);
      if (bad) throw invalidField("startCash", bad, startCash);
    };
    let limits: Partial<RiskLimits> = {};
    if (request.limits !== undefined) {
      const checked = validateLimits(request.limits);
      if (!checked.ok) throw invalidFields("invalid limits", checked.errors.map((e) => ({ ...e, field: `limits.${e.field}` })));
      limits = checked.limits;
    }
    const create = (base: Partial<RiskLimits> = {}, owner?: string) => {
      if (this.byId.has(request.id)) throw alreadyExists("id", `portfolio "${request.id}" exists already`, request.id);
      return this.create(request.id, request.name ?? request.id, startCash, { ...base, ...limits }, owner);
    };
    let portfolio: Portfolio;
    if (principal.role === "operator") {
      checkAmount();
      await this.deps.funding.require("startCash", startCash, this.allocations({}, startCash));
      portfolio = await create();
    } else {
      const { traderId } = principal;
      portfolio = await this.deps.locks.run(traderLock(traderId), () => {
        const budget = this.budget(traderId);
        const quota = this.deps.config.quotas.portfoliosPerTrader;
        if (budget.portfolioIds.length >= quota) throw quotaExceeded(`a trader may own at most ${quota} portfolios (PORTFOLIOS_PER_TRADER)`, "portfoliosPerTrader", quota);
        const overBudget = startCashRefusal(startCash, budget);
        if (overBudget) throw invalidField("startCash", overBudget, startCash, { allowance: budget.allowance, free: budget.free });
        checkAmount();
        const overCeiling = ceilingErrors(limits, budget.ceilings, "limits.");
        if (overCeiling.length > 0) throw invalidFields("limits above the trader's ceilings", overCeiling);
        return create(limitsWithin(budget.ceilings), traderId);
      });
    }
    return { ...portfolio.snapshot(this.marks, "created", this.deps.clock.now()), limits: portfolio.record.limits };
  }

  /** A trader's own portfolio (named after them, START_CASH or what is left of the allowance), made if missing. */
  async provision(traderId: string): Promise<void> {
    if (this.byId.has(traderId)) return;
    await this.deps.locks.run(traderLock(traderId), async () => {
      if (this.byId.has(traderId)) return;
      // START_CASH, out of the allowance: never more than what is left of it.
      const budget = this.budget(traderId);
      const startCash = str(Dec.max(0, Dec.min(this.deps.config.startCash, budget.free)));
      await this.create(traderId, traderId, startCash, limitsWithin(budget.ceilings), traderId);
    });
  }

  /** Changes the portfolio's limits; a trader's stay within the operator's ceilings. */
  async setLimits(principal: Principal, id: string, patch: Record<string, unknown>): Promise<RiskLimits> {
    const p = this.visible(principal, id);
    const checked = validateLimits(patch);
    if (!checked.ok) throw invalidFields("invalid limits", checked.errors);
    if (principal.role === "trader") {
      const overCeiling = ceilingErrors(checked.limits, ceilingsOf(this.traders.get(principal.traderId)));
      if (overCeiling.length > 0) throw invalidFields("limits above the trader's ceilings", overCeiling);
    }
    return this.deps.locks.run(id, async () => {
      p.record = { ...p.record, limits: { ...p.record.limits, ...checked.limits }, updatedAt: this.deps.clock.now() };
      await this.saveRecord(p);
      await this.announce(p, "limits");
      return p.record.limits;
    });
  }

  /** Sets the kill switch under the portfolio's lock. */
  setHalted(p: Portfolio, halted: boolean, reason?: string): Promise<PortfolioSnapshot> {
    return this.deps.locks.run(p.id, () => this.writeHalt(p, halted, reason));
  }

  /** Sets the kill switch; the caller holds the portfolio's lock. */
  async writeHalt(p: Portfolio, halted: boolean, reason?: string, traceId?: string): Promise<PortfolioSnapshot> {
    p.record = { ...p.record, halted, haltReason: halted ? reason : undefined, updatedAt: this.deps.clock.now() };
    await this.saveRecord(p);
    return this.announce(p, halted ? "halt" : "resume", traceId);
  }

  /** Records the day's and the peak equity when they move, then announces the portfolio as it stands. */
  async announce(p: Portfolio, cause: PortfolioSnapshot["cause"], traceId?: string): Promise<PortfolioSnapshot> {
    const now = this.deps.clock.now();
    if (p.track(this.marks, now)) await this.saveRecord(p);
    const snapshot = p.snapshot(this.marks, cause, now);
    await this.deps.publish(TOPICS.portfolioUpdated, snapshot, { traceId });
    return snapshot;
  }

  /** The trader's allowance, what their portfolios hold of it, and their ceilings. */
  budget(traderId: string): TraderBudget {
    const own = this.all().filter((p) => p.record.owner === traderId).map((p) => p.record);
    return budgetOf(traderId, this.traders.get(traderId), this.deps.config.traderAllowance, own);
  }

  /** Trader ids the platform knows: from TRADER_TOKENS, the operator's settings and the portfolios' owners. */
  knownTraders(): string[] {
    const owners = this.all().flatMap((p) => (p.record.owner ? [p.record.owner] : []));
    return [...new Set([...Object.keys(this.deps.config.traderTokens), ...this.traders.keys(), ...owners])].sort();
  }

  /** One trader's budget as the principal may see it: the operator any known trader's, a trader their own. */
  traderFor(principal: Principal, traderId: string): TraderBudget {
    const own = principal.role === "trader" && principal.traderId === traderId;
    if ((principal.role === "trader" && !own) || !this.knownTraders().includes(traderId)) throw notFound("trader", traderId);
    return this.budget(traderId);
  }

  /** The operator sets a trader's allowance and ceilings; a ceiling of null returns to the default. */
  async setTrader(traderId: string, patch: { allowance?: string; ceilings?: Record<string, unknown> }): Promise<TraderBudget> {
    if (traderId === DEFAULT_PORTFOLIO) throw invalidField("id", '"default" is the operator\'s portfolio, not a trader', traderId);
    return this.deps.locks.run(traderLock(traderId), async () => {
      const checked = validateTraderPatch(patch, this.budget(traderId).used);
      if (!checked.ok) throw invalidFields("invalid trader budget", checked.errors);
      const { allowance: raised } = checked.change;
      if (raised !== undefined) await this.deps.funding.require("allowance", raised, this.allocations({ [traderId]: raised }));
      const previous = this.traders.get(traderId);
      const ceilings = { ...previous?.ceilings, ...checked.change.ceilings };
      for (const field of checked.change.cleared) delete ceilings[field];
      const allowance = checked.change.allowance ?? previous?.allowance;
      const record: TraderRecord = { traderId, ...(allowance !== undefined && { allowance }), ceilings, updatedAt: this.deps.clock.now() };
      await this.deps.stores.traders.put(traderId, record);
      this.traders.set(traderId, record);
      return this.budget(traderId);
    });
  }

  /** What is handed out: each trader's allowance (with `allowances` overriding) and the operator's portfolios' start cash, plus `more`. */
  allocations(allowances: Record<string, string> = {}, more?: string): string[] {
    const traders = [...new Set([...this.knownTraders(), ...Object.keys(allowances)])];
    const operators = this.all().filter((p) => !p.record.owner).map((p) => p.record.startCash);
    return [...traders.map((id) => allowances[id] ?? this.budget(id).allowance), ...operators, ...(more !== undefined ? [more] : [])];
  }

  async saveRecord(p: Portfolio): Promise<void> {
    await this.deps.stores.portfolios.put(p.id, p.record);
  }

  private async create(id: string, name: string, startCash: string, limits: Partial<RiskLimits> = {}, owner?: string): Promise<Portfolio> {
    const now = this.deps.clock.now();
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
    await this.deps.stores.portfolios.insert(id, record);
    const portfolio = new Portfolio(record, [], [], this.deps.marketOf);
    this.byId.set(id, portfolio);
    await this.announce(portfolio, "created");
    return portfolio;
  }
}
