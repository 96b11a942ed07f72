/**
 * Each portfolio's equity history, a read model of `portfolio.updated`: one point per event, the
 * newest EQUITY_POINTS_KEPT kept per portfolio, read newest `limit` first and answered oldest first
 * (`GET /api/portfolios/:id/equity`). Plain: it takes the collection the gateway opened.
 */
import type { Collection } from "../store/collection";
import type { EquityPoint, PortfolioSnapshot } from "../../schemas";


/** Equity points kept per portfolio; older ones are pruned every tenth of that many inserts. */
export const EQUITY_POINTS_KEPT = 20_000;
/** Points answered when the query names no limit. */
export const EQUITY_POINTS_ANSWERED = 2000;

/** The part of a Collection the history uses. */
export type EquityStore = Pick<Collection<EquityPoint>, "insertIfAbsent" | "find" | "remove">;

export class EquityHistory {
  /** Points recorded per portfolio since its last pruning (per process: a restart prunes a little later, never wrongly). */
  private readonly insertsSincePrune = new Map<string, number>();

  constructor(
    private readonly store: EquityStore,
    private readonly kept = EQUITY_POINTS_KEPT,
  ) {}

  /** Records the snapshot's point; `eventId` (the envelope's id) keeps a redelivered event from recording twice. */
  async record(snapshot: PortfolioSnapshot, eventId: string): Promise<boolean> {
    const { portfolioId, updatedAt: time, equity, cash, realizedPnl, unrealizedPnl, cause } = snapshot;
    if (!(await this.store.insertIfAbsent(eventId, { portfolioId, time, equity, cash, realizedPnl, unrealizedPnl, cause }))) return false;
    const inserts = (this.insertsSincePrune.get(portfolioId) ?? 0) + 1;
    this.insertsSincePrune.set(portfolioId, inserts);
    if (inserts >= this.kept / 10) await this.prune(portfolioId);
    return true;
  }

  /** The portfolio's newest `limit` points, oldest first. */
  async newest(portfolioId: string, limit = EQUITY_POINTS_ANSWERED): Promise<EquityPoint[]> {
    const newest = await this.store.find({ query: { portfolioId }, sort: ["-time"], limit });
    return newest.reverse();
  }

  private async prune(portfolioId: string): Promise<void> {
    this.insertsSincePrune.set(portfolioId, 0);
    const [oldestKept] = await this.store.find({ query: { portfolioId }, sort: ["-time"], offset: this.kept - 1, limit: 1 });
    if (oldestKept) await this.store.remove({ portfolioId, time: { $lt: oldestKept.time } });
  }
}
