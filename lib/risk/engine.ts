/**
 * The two-stage risk gate and the accounting of orders and fills, on an injected clock, stores and
 * publish function. Stage 1 takes `trading.signals` in instrument order, applies the instrument rules
 * and republishes to `trading.signals.portfolio` once per portfolio holding the instrument; stage 2
 * takes that in portfolio order, applies the portfolio rules and the account gate and publishes
 * `trades.approved` or `trades.rejected`. Fills and order updates from execution are stored
 * (deduplicated by their ids) and announced as `portfolio.updated`. State is written before the event
 * announcing it goes out; a replayed signal finds its decision recorded and republishes that one.
 */
import { randomUUID } from "node:crypto";
import { type Fill, type PortfolioSignal, type RejectReason, TOPICS, type TradingSignal, type VenueOrder, riskKeyOf } from "../../schemas";
import type { Clock } from "../clock";
import { clientOrderIdOf, decisionKeyOf } from "../ids";
import type { KeyedMutex } from "../keyed-mutex";
import { accountHalt } from "./account";
import { AccountGate } from "./account-gate";
import { decisionEvent, signalSummary } from "./decisions";
import { FundingCheck, type FundingDeps } from "./funding";
import { mergeOrderReport, withFilledQuantity } from "./portfolio";
import { Portfolios, type RiskConfig } from "./portfolios";
import { InstrumentRegistry } from "./registry";
import { freshData, instrumentRules, portfolioHalt } from "./rules";
import type { Publish, RecordStore } from "./stores";
import type { AccountRecord, DecisionRecord, InstrumentRecord, OrderRecord, PortfolioRecord, TraderRecord } from "../../schemas";

/** The record kept in each of risk's collections. */
export type RiskRecords = {
  instruments: InstrumentRecord;
  portfolios: PortfolioRecord;
  orders: OrderRecord;
  fills: Fill;
  decisions: DecisionRecord;
  account: AccountRecord;
  traders: TraderRecord;
};

export type RiskStores = { [K in keyof RiskRecords]: RecordStore<RiskRecords[K]> };

export interface RiskEngineDeps {
  clock: Clock;
  stores: RiskStores;
  publish: Publish;
  locks: KeyedMutex;
  config: RiskConfig;
  balanceOf: FundingDeps["balanceOf"];
  log: FundingDeps["log"];
}

/** Where a message came from: its trace, and the idempotency key it was published with. */
export interface Delivery {
  traceId: string;
  idempotencyKey?: string;
}

export class RiskEngine {
  readonly instruments: InstrumentRegistry;
  readonly portfolios: Portfolios;
  readonly account: AccountGate;
  private readonly funding: FundingCheck;

  constructor(private readonly deps: RiskEngineDeps) {
    const { clock, stores, publish, locks, config } = deps;
    this.funding = new FundingCheck({ clock, tradingMode: config.tradingMode, balanceOf: deps.balanceOf, log: deps.log });
    this.instruments = new InstrumentRegistry({ store: stores.instruments, clock, locks, publish, quotas: config.quotas, portfolioOf: (id) => this.portfolios.get(id)?.record });
    this.portfolios = new Portfolios({ stores, clock, locks, publish, config, funding: this.funding, marketOf: (key) => this.instruments.marketOf(key) });
    this.account = new AccountGate({ store: stores.account, clock, locks, portfolios: this.portfolios, funding: this.funding });
  }

  /** Loads the registry, replays each portfolio's fills into its book, and loads the account gate. */
  async start(): Promise<void> {
    await this.instruments.load();
    await this.portfolios.load();
    await this.account.load();
    // Not awaited: the exchange may be unreachable at start, and the platform starts without it.
    void this.funding.refresh(this.portfolios.allocations());
  }

  /** Stage 1: instrument-level rules, in instrument order, then one republish per portfolio. */
  async screen(signal: TradingSignal, { traceId }: Delivery): Promise<void> {
    this.portfolios.marks[signal.instrumentKey] = signal.price;
    if (signal.action === "HOLD") return;
    const instrument = this.instruments.get(signal.instrumentKey);
    if (!instrument) return;
    for (const id of instrument.portfolioIds) {
      const portfolio = this.portfolios.get(id);
      if (!portfolio) continue;
      const outcome = instrumentRules({ signal, instrument, now: this.deps.clock.now(), maxDataAgeMs: portfolio.record.limits.maxDataAgeMs });
      if (!outcome.pass) {
        await this.reject(id, signal, 1, outcome.reason, outcome.detail, traceId);
        continue;
      }
      const riskKey = riskKeyOf(id, signal.symbol);
      await this.deps.publish(TOPICS.tradingSignalsPortfolio, { portfolioId: id, riskKey, signal }, { idempotencyKey: decisionKeyOf(riskKey, signal.signalId), traceId });
    }
  }

  /** Stage 2: portfolio-level rules and the account gate, under the portfolio's lock. */
  decide(payload: PortfolioSignal, delivery: Delivery): Promise<void> {
    return this.deps.locks.run(payload.portfolioId, () => this.decideLocked(payload, delivery));
  }

  /** An order report from execution: merged into the stored order, under the portfolio's lock. */
  onOrder(update: VenueOrder, { traceId }: Delivery): Promise<void> {
    return this.deps.locks.run(update.portfolioId, async () => {
      const portfolio = this.portfolios.get(update.portfolioId);
      if (!portfolio) return;
      const current = await this.deps.stores.orders.get(update.clientOrderId);
      const merged = mergeOrderReport(current, update, portfolio.filledOf(update.clientOrderId));
      if (!merged) return;
      await this.deps.stores.orders.put(update.clientOrderId, merged);
      portfolio.trackOrder(merged);
      await this.portfolios.announce(portfolio, "order", traceId);
    });
  }

  /** A fill from execution: stored, applied to the book once, under the portfolio's lock. */
  onFill(fill: Fill, { traceId }: Delivery): Promise<void> {
    return this.deps.locks.run(fill.portfolioId, async () => {
      const portfolio = this.portfolios.get(fill.portfolioId);
      if (!portfolio) return;
      const { orders, fills } = this.deps.stores;
      // Stored (the record), applied to the book once, then the order derived from the book: each
      // step is safe to repeat, so a retry after a failure part-way leaves the same state.
      await fills.insertIfAbsent(fill.fillId, fill);
      const fresh = portfolio.applyFill(fill);
      if (fresh) this.portfolios.marks[fill.instrumentKey] ??= fill.price;
      const order = portfolio.working.get(fill.clientOrderId) ?? (await orders.get(fill.clientOrderId));
      const updated = order && withFilledQuantity(order, portfolio.filledOf(order.clientOrderId));
      if (updated && updated !== order) {
        await orders.put(updated.clientOrderId, updated);
        portfolio.trackOrder(updated);
      }
      if (fresh || updated !== order) await this.portfolios.announce(portfolio, "fill", traceId);
    });
  }

  private async decideLocked({ portfolioId: id, riskKey, signal }: PortfolioSignal, { traceId, idempotencyKey }: Delivery): Promise<void> {
    const { stores, clock } = this.deps;
    const key = idempotencyKey ?? decisionKeyOf(riskKey, signal.signalId);
    const previous = await stores.decisions.get(key);
    if (previous) return this.publishDecision(previous, traceId);
    const portfolio = this.portfolios.get(id);
    const instrument = this.instruments.get(signal.instrumentKey);
    if (!portfolio || !instrument) return;
    // The kill switches first, the account's then the portfolio's: a halted portfolio reports `halted` whatever the data's age.
    for (const check of [accountHalt(this.account.current), portfolioHalt(portfolio.record), freshData(signal, clock.now(), portfolio.record.limits.maxDataAgeMs)]) {
      if (!check.pass) return this.reject(id, signal, 2, check.reason, check.detail, traceId);
    }
    const marks = { ...this.portfolios.marks, [signal.instrumentKey]: signal.price };
    const outcome = portfolio.evaluate(signal, instrument.market, marks);
    if (!outcome.approved) {
      if (outcome.haltPortfolio && !portfolio.record.halted) await this.portfolios.writeHalt(portfolio, true, outcome.reason, traceId);
      return this.reject(id, signal, 2, outcome.reason, outcome.detail, traceId);
    }
    const now = clock.now();
    const clientOrderId = clientOrderIdOf(key);
    const order: OrderRecord = {
      clientOrderId, venueOrderId: "", portfolioId: id, instrumentKey: signal.instrumentKey, side: outcome.side, type: "market",
      quantity: outcome.quantity, price: outcome.price, filledQuantity: "0", status: "pending_new", createdAt: now, updatedAt: now,
      decisionKey: key, signalId: signal.signalId,
    };
    // The order is recorded in the same step as the account gate admits it, before the approval goes out.
    const gate = await this.account.admit(outcome, marks, async () => {
      await stores.orders.insertIfAbsent(clientOrderId, order);
      portfolio.trackOrder(order);
    });
    if (!gate.pass) return this.reject(id, signal, 2, gate.reason, gate.detail, traceId);
    const decision: DecisionRecord = {
      idempotencyKey: key, decisionId: randomUUID(), outcome: "approved", stage: 2, portfolioId: id, instrumentKey: signal.instrumentKey,
      action: outcome.side, clientOrderId, quantity: outcome.quantity, price: outcome.price, notional: outcome.notional,
      signal: signalSummary(signal), decidedAt: now,
    };
    await stores.decisions.insert(key, decision);
    await this.publishDecision(decision, traceId);
    await this.portfolios.announce(portfolio, "order", traceId);
  }

  private async reject(portfolioId: string, signal: TradingSignal, stage: 1 | 2, reason: RejectReason, detail: string, traceId: string): Promise<void> {
    const idempotencyKey = decisionKeyOf(riskKeyOf(portfolioId, signal.symbol), signal.signalId);
    const decision: DecisionRecord = {
      idempotencyKey, decisionId: randomUUID(), outcome: "rejected", stage, portfolioId, instrumentKey: signal.instrumentKey,
      action: signal.action as "BUY" | "SELL", reason, detail, price: signal.price, signal: signalSummary(signal), decidedAt: this.deps.clock.now(),
    };
    const { decisions } = this.deps.stores;
    // A replayed signal finds its decision already recorded and republishes that one.
    const stored = (await decisions.insertIfAbsent(idempotencyKey, decision)) ? decision : (await decisions.get(idempotencyKey))!;
    await this.publishDecision(stored, traceId);
  }

  private async publishDecision(d: DecisionRecord, traceId: string): Promise<void> {
    const event = decisionEvent(d);
    const options = { idempotencyKey: d.idempotencyKey, traceId };
    if ("approved" in event) await this.deps.publish(TOPICS.tradesApproved, event.approved, options);
    else await this.deps.publish(TOPICS.tradesRejected, event.rejected, options);
  }
}
