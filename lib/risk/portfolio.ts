/**
 * One portfolio's live risk state: its book (the replay of its fills), working orders, limits, halt
 * state, day-start and peak equity. Plain domain code: the risk service persists what it returns.
 */
import { Dec, dec, str } from "../decimal";
import { applyFill, replayFills, valueBook, type PortfolioBook, type Valuation } from "./accounting";
import { dayKey, portfolioRules, type OpenOrder, type PortfolioDecision } from "./rules";
import { type Fill, type MarketInfo, type OrderRecord, type OrderStatus, type PortfolioRecord, type PortfolioSnapshot, TERMINAL_ORDER_STATUSES, type TradingSignal, type VenueOrder } from "../../schemas";

const ORDER_PROGRESS: Record<OrderStatus, number> = { pending_new: 0, open: 1, partially_filled: 2, filled: 3, cancelled: 3, rejected: 3 };

/** Status implied by the fills applied so far, keeping a venue's cancel or reject. */
function statusOf(order: OrderRecord, venueStatus: OrderStatus): OrderStatus {
  if (venueStatus === "cancelled" || venueStatus === "rejected") return venueStatus;
  if (remainingOf(order).isZero()) return "filled";
  return dec(order.filledQuantity).isZero() ? (venueStatus === "pending_new" ? "pending_new" : "open") : "partially_filled";
}

/**
 * Merges a venue report into the record; undefined when it is stale (reports can arrive late or
 * twice: only a step forward in the lifecycle or more filled at the venue counts).
 */
export function mergeOrderReport(current: OrderRecord | undefined, report: VenueOrder, appliedFilled: string): OrderRecord | undefined {
  if (current) {
    const venueFilledBefore = dec(current.venueFilledQuantity ?? "0");
    const forward = ORDER_PROGRESS[report.status] > ORDER_PROGRESS[current.venueStatus ?? current.status] || dec(report.filledQuantity).gt(venueFilledBefore);
    if (!forward) return undefined;
  }
  const merged: OrderRecord = {
    ...current,
    ...report,
    createdAt: current?.createdAt ?? report.createdAt,
    venueFilledQuantity: report.filledQuantity,
    venueStatus: report.status,
    filledQuantity: appliedFilled,
  };
  return { ...merged, status: statusOf(merged, report.status) };
}

/** The order with `applied` as its filled quantity (what the book holds of it); the same object when unchanged. */
export function withFilledQuantity(order: OrderRecord, applied: string): OrderRecord {
  if (dec(applied).eq(dec(order.filledQuantity))) return order;
  const updated: OrderRecord = { ...order, filledQuantity: str(applied) };
  return { ...updated, status: statusOf(updated, order.venueStatus ?? order.status) };
}

export function remainingOf(order: VenueOrder): Dec {
  return Dec.max(dec(order.quantity).sub(dec(order.filledQuantity)), 0);
}

export function isWorking(order: VenueOrder): boolean {
  return !TERMINAL_ORDER_STATUSES.includes(order.status);
}

export class Portfolio {
  book: PortfolioBook;
  readonly working = new Map<string, OrderRecord>();
  /** Fills in the book, so a retried fill (stored, then the handler failed) is applied exactly once. */
  private readonly applied = new Set<string>();
  /** Quantity in the book per client order id: an order's filled quantity is derived from it, never counted up. */
  private readonly filledByOrder = new Map<string, Dec>();

  constructor(
    public record: PortfolioRecord,
    fills: Fill[],
    orders: OrderRecord[],
    private readonly marketOf: (instrumentKey: string) => Pick<MarketInfo, "base" | "quote">,
  ) {
    this.book = replayFills(record.portfolioId, record.startCash, fills, marketOf);
    for (const fill of fills) this.remember(fill);
    for (const order of orders) this.trackOrder(order);
  }

  get id(): string {
    return this.record.portfolioId;
  }

  value(marks: Record<string, string>): Valuation {
    return valueBook(this.book, marks);
  }

  /** Rolls the day-start equity at the UTC day boundary and raises the peak; true when the record changed. */
  track(marks: Record<string, string>, now: number): boolean {
    const equity = this.value(marks).equity;
    let changed = false;
    const today = dayKey(now);
    if (today !== this.record.dayKey) {
      this.record = { ...this.record, dayKey: today, dayStartEquity: equity };
      changed = true;
    }
    if (dec(equity).gt(dec(this.record.peakEquity))) {
      this.record = { ...this.record, peakEquity: equity };
      changed = true;
    }
    return changed;
  }

  openOrders(): OpenOrder[] {
    return [...this.working.values()].map((o) => ({
      instrumentKey: o.instrumentKey,
      side: o.side,
      remainingQuantity: str(remainingOf(o)),
      price: o.averagePrice ?? o.price ?? "0",
    }));
  }

  evaluate(signal: TradingSignal, market: MarketInfo, marks: Record<string, string>): PortfolioDecision {
    return portfolioRules({
      signal,
      market,
      state: {
        halted: this.record.halted,
        limits: this.record.limits,
        book: this.book,
        marks,
        openOrders: this.openOrders(),
        dayStartEquity: this.record.dayStartEquity,
        peakEquity: this.record.peakEquity,
      },
    });
  }

  /** Applies a fill to the book once; false when it is in the book already. */
  applyFill(fill: Fill): boolean {
    if (this.applied.has(fill.fillId)) return false;
    this.book = applyFill(this.book, fill, this.marketOf(fill.instrumentKey));
    this.remember(fill);
    return true;
  }

  private remember(fill: Fill): void {
    this.applied.add(fill.fillId);
    this.filledByOrder.set(fill.clientOrderId, (this.filledByOrder.get(fill.clientOrderId) ?? dec(0)).add(dec(fill.quantity)));
  }

  /** What the book holds of an order's fills. */
  filledOf(clientOrderId: string): string {
    return str(this.filledByOrder.get(clientOrderId) ?? 0);
  }

  /** Tracks an order's latest state; terminal orders stop counting as working. */
  trackOrder(order: OrderRecord): void {
    if (isWorking(order)) this.working.set(order.clientOrderId, order);
    else this.working.delete(order.clientOrderId);
  }

  /** What is served and published: the valuation's figures as they are, all at MONEY_SCALE places. */
  snapshot(marks: Record<string, string>, cause: PortfolioSnapshot["cause"], now: number): PortfolioSnapshot {
    const v = this.value(marks);
    const snapshot: PortfolioSnapshot = {
      portfolioId: this.id,
      cash: v.cash,
      equity: v.equity,
      realizedPnl: v.realizedPnl,
      unrealizedPnl: v.unrealizedPnl,
      fees: v.fees,
      exposure: v.exposure,
      halted: this.record.halted,
      openOrders: this.working.size,
      positions: v.positions
        .filter((p) => !dec(p.quantity).isZero() || !dec(p.realizedPnl).isZero())
        .map(({ instrumentKey, quantity, averageCost, markPrice, marketValue, unrealizedPnl, realizedPnl, fees }) => ({
          instrumentKey, quantity, averageCost, markPrice, marketValue, unrealizedPnl, realizedPnl, fees,
        })),
      cause,
      updatedAt: now,
    };
    if (this.record.haltReason && this.record.halted) snapshot.haltReason = this.record.haltReason;
    if (this.record.owner) snapshot.owner = this.record.owner;
    return snapshot;
  }
}
