/**
 * The instrument registry: which instruments the platform trades and for which portfolios, with the
 * quotas that keep one trader from taking every instrument. A change is stored, then announced on
 * `instrument.registered`.
 */
import { type MarketInfo, TOPICS, instrumentKeyOf, parseInstrumentKey } from "../../schemas";
import { DEFAULT_PORTFOLIO } from "./portfolios";
import { canSee, type Principal } from "../auth";
import type { Clock } from "../clock";
import type { PlatformConfig } from "../config";
import { invalidField, notFound, quotaExceeded } from "../errors";
import type { KeyedMutex } from "../keyed-mutex";
import type { Publish, RecordStore } from "./stores";
import type { InstrumentRecord } from "../../schemas";


/** The lock of the instrument registry, under which the instrument quotas are checked and a registration recorded. */
const INSTRUMENTS_LOCK = "instruments:registry";

export interface RegistryDeps {
  store: RecordStore<InstrumentRecord>;
  clock: Clock;
  locks: KeyedMutex;
  publish: Publish;
  quotas: Pick<PlatformConfig["quotas"], "instrumentsTotal" | "instrumentsPerTrader">;
  /** The portfolio of this id (its owner, none for the operator's), undefined when there is none. */
  portfolioOf(portfolioId: string): { owner?: string } | undefined;
}

export class InstrumentRegistry {
  private readonly byKey = new Map<string, InstrumentRecord>();

  constructor(private readonly deps: RegistryDeps) {}

  async load(): Promise<void> {
    for (const instrument of await this.deps.store.find()) this.byKey.set(instrument.instrumentKey, instrument);
  }

  get(instrumentKey: string): InstrumentRecord | undefined {
    return this.byKey.get(instrumentKey);
  }

  /** The instrument of this key; 404 when there is none. */
  require(instrumentKey: string): InstrumentRecord {
    const instrument = this.byKey.get(instrumentKey);
    if (!instrument) throw notFound("instrument", instrumentKey);
    return instrument;
  }

  all(): InstrumentRecord[] {
    return [...this.byKey.values()];
  }

  /** Base and quote of an instrument, also for books holding instruments no longer registered. */
  marketOf(instrumentKey: string): Pick<MarketInfo, "base" | "quote"> {
    const market = this.byKey.get(instrumentKey)?.market;
    if (market) return market;
    const [base = "", quote = ""] = parseInstrumentKey(instrumentKey).symbol.split("/");
    return { base, quote };
  }

  /** 429 when registering `instrumentKey` into `portfolioId` would pass a quota. */
  checkQuota(instrumentKey: string, portfolioId: string): void {
    const existing = this.byKey.get(instrumentKey);
    if (existing?.enabled && existing.portfolioIds.includes(portfolioId)) return;
    const { instrumentsTotal, instrumentsPerTrader } = this.deps.quotas;
    const enabled = this.all().filter((i) => i.enabled);
    if (!existing?.enabled && enabled.length >= instrumentsTotal) {
      throw quotaExceeded(`the platform trades at most ${instrumentsTotal} instruments (INSTRUMENTS_MAX)`, "instrumentsTotal", instrumentsTotal);
    }
    const owner = this.deps.portfolioOf(portfolioId)?.owner;
    if (!owner) return;
    const ownedBy = (i: InstrumentRecord) => i.portfolioIds.some((id) => this.deps.portfolioOf(id)?.owner === owner);
    if (existing?.enabled && ownedBy(existing)) return;
    if (enabled.filter(ownedBy).length >= instrumentsPerTrader) {
      throw quotaExceeded(`a trader's portfolios trade at most ${instrumentsPerTrader} instruments (INSTRUMENTS_PER_TRADER)`, "instrumentsPerTrader", instrumentsPerTrader);
    }
  }

  /**
   * Registers the instrument for a portfolio of the principal's (a trader's own by default, the
   * operator's "default"), with the market `confirm` gets from the venue; nothing is recorded unless
   * the venue confirms it. `created` is false when the portfolio held it already (nothing stored or
   * announced). The quotas are checked before the venue is asked, and again under the registry's
   * lock, where they are exact.
   */
  async register(principal: Principal, request: { exchange: string; symbol: string; portfolioId?: string }, confirm: (instrumentKey: string) => Promise<MarketInfo>): Promise<{ instrument: InstrumentRecord; created: boolean }> {
    const { exchange, symbol } = request;
    const portfolioId = request.portfolioId ?? (principal.role === "trader" ? principal.traderId : DEFAULT_PORTFOLIO);
    if (!this.deps.portfolioOf(portfolioId) || !this.sees(principal, portfolioId)) throw invalidField("portfolioId", `portfolio "${portfolioId}" does not exist`, portfolioId);
    const instrumentKey = instrumentKeyOf(exchange, symbol);
    this.checkQuota(instrumentKey, portfolioId);
    const market = await confirm(instrumentKey);
    const result = await this.deps.locks.run(INSTRUMENTS_LOCK, async () => {
      this.checkQuota(instrumentKey, portfolioId);
      const now = this.deps.clock.now();
      const existing = this.byKey.get(instrumentKey);
      const created = !(existing?.enabled && existing.portfolioIds.includes(portfolioId));
      const instrument: InstrumentRecord = existing
        ? { ...existing, enabled: true, market, portfolioIds: [...new Set([...existing.portfolioIds, portfolioId])], updatedAt: now }
        : { instrumentKey, exchange, symbol, portfolioIds: [portfolioId], enabled: true, market, registeredAt: now, updatedAt: now };
      if (created) await this.save(instrument);
      return { instrument, created };
    });
    if (result.created) await this.announce(result.instrument);
    return { instrument: this.visibleTo(principal, result.instrument), created: result.created };
  }

  /**
   * Stops `only` trading the instrument, or without it every portfolio of the principal's (all of
   * them for the operator); with no portfolio left the instrument is disabled. 404 for an unknown key
   * or a portfolio the principal cannot see.
   */
  async unregister(principal: Principal, instrumentKey: string, only?: string): Promise<InstrumentRecord> {
    this.require(instrumentKey);
    if (only && (!this.deps.portfolioOf(only) || !this.sees(principal, only))) throw notFound("portfolio", only);
    const removed = (id: string) => (only ? id === only : this.sees(principal, id));
    const updated = await this.deps.locks.run(INSTRUMENTS_LOCK, async () => {
      const current = this.require(instrumentKey);
      const portfolioIds = current.portfolioIds.filter((id) => !removed(id));
      const instrument: InstrumentRecord = { ...current, portfolioIds, enabled: portfolioIds.length > 0, updatedAt: this.deps.clock.now() };
      await this.save(instrument);
      return instrument;
    });
    await this.announce(updated);
    return this.visibleTo(principal, updated);
  }

  /** The instruments as the principal sees them. */
  list(principal: Principal): InstrumentRecord[] {
    return this.all().map((i) => this.visibleTo(principal, i));
  }

  /** The instrument as the principal sees it: a trader only their own portfolios among those holding it. */
  private visibleTo(principal: Principal, instrument: InstrumentRecord): InstrumentRecord {
    if (principal.role === "operator") return instrument;
    return { ...instrument, portfolioIds: instrument.portfolioIds.filter((id) => this.sees(principal, id)) };
  }

  private sees(principal: Principal, portfolioId: string): boolean {
    return canSee(principal, this.deps.portfolioOf(portfolioId)?.owner);
  }

  private async save(instrument: InstrumentRecord): Promise<void> {
    await this.deps.store.put(instrument.instrumentKey, instrument);
    this.byKey.set(instrument.instrumentKey, instrument);
  }

  private async announce(instrument: InstrumentRecord): Promise<void> {
    await this.deps.publish(TOPICS.instrumentRegistered, {
      instrumentKey: instrument.instrumentKey,
      exchange: instrument.exchange,
      symbol: instrument.symbol,
      portfolioIds: instrument.portfolioIds,
      status: instrument.enabled ? "active" : "removed",
      market: instrument.market,
      changedAt: instrument.updatedAt,
    });
  }
}
