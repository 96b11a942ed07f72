/**
 * Paper trading as a TradingVenue: one PaperBroker per exchange id, its orders and fills written
 * to the store before an answer leaves, so a restarted process still refuses a client order id it
 * has seen (the guard against a second order for a redelivered approval).
 */
import { PaperBroker, type PaperBrokerState } from "./paper-broker";
import type { Clock } from "../clock";
import { type Execution, type Fill, type MarketEventDraft, type MarketInfo, type OrderRequest, type VenueOrder, parseInstrumentKey } from "../../schemas";
import type { TradingVenue, VenueJournal } from "./types";

/** The paper venue's journal: a venue's, though whether a fill was new does not matter to it. */
export type PaperJournal = Omit<VenueJournal, "saveFill"> & { saveFill(fill: Fill): Promise<unknown> };

const seqOf = (id: string) => Number(/(\d+)$/.exec(id)?.[1] ?? 0);

export class PaperVenue implements TradingVenue {
  private readonly brokers = new Map<string, PaperBroker>();

  constructor(
    private readonly marketOf: (exchange: string, symbol: string) => MarketInfo,
    private readonly clock: Clock,
    private readonly journal: PaperJournal,
    private readonly slippageBps = 5,
  ) {}

  /** Restores every exchange's broker from the journal. */
  async load(): Promise<void> {
    const { orders, fills } = await this.journal.load();
    const exchanges = new Set(orders.map((o) => parseInstrumentKey(o.instrumentKey).exchange));
    for (const exchange of exchanges) {
      const own = (key: string) => parseInstrumentKey(key).exchange === exchange;
      const ownOrders = orders.filter((o) => own(o.instrumentKey)).sort((a, b) => seqOf(a.venueOrderId) - seqOf(b.venueOrderId));
      const ownFills = fills.filter((f) => own(f.instrumentKey)).sort((a, b) => seqOf(a.fillId) - seqOf(b.fillId));
      const state: PaperBrokerState = {
        version: 1,
        orderSeq: Math.max(0, ...ownOrders.map((o) => seqOf(o.venueOrderId))),
        fillSeq: Math.max(0, ...ownFills.map((f) => seqOf(f.fillId))),
        orders: ownOrders,
        fills: ownFills,
        lastPrices: {},
      };
      this.broker(exchange).restore(state);
    }
  }

  private broker(exchange: string): PaperBroker {
    let broker = this.brokers.get(exchange);
    if (!broker) {
      broker = new PaperBroker({ exchange, market: (symbol) => this.marketOf(exchange, symbol), clock: this.clock, slippageBps: this.slippageBps });
      this.brokers.set(exchange, broker);
    }
    return broker;
  }

  private async record(executions: Execution[]): Promise<Execution[]> {
    for (const execution of executions) {
      await this.journal.saveOrder(execution.order);
      for (const fill of execution.fills) await this.journal.saveFill(fill);
    }
    return executions;
  }

  async place(request: OrderRequest): Promise<Execution> {
    const execution = this.broker(parseInstrumentKey(request.instrumentKey).exchange).place(request);
    await this.record([execution]);
    return execution;
  }

  async cancel(clientOrderId: string): Promise<VenueOrder> {
    const broker = this.ownerOf(clientOrderId);
    const order = broker.cancel(clientOrderId);
    await this.journal.saveOrder(order);
    return order;
  }

  async order(clientOrderId: string): Promise<Execution> {
    const broker = this.ownerOf(clientOrderId);
    return { order: broker.getOrder(clientOrderId), fills: broker.fillsOf(clientOrderId) };
  }

  /** The broker that knows this client order id (getOrder throws order_not_found when none does). */
  private ownerOf(clientOrderId: string): PaperBroker {
    for (const broker of this.brokers.values()) {
      try {
        broker.getOrder(clientOrderId);
        return broker;
      } catch {
        // not this exchange's order
      }
    }
    return this.broker("paper");
  }

  async fillsSince(time: number): Promise<Fill[]> {
    return [...this.brokers.values()].flatMap((b) => b.fillsSince(time));
  }

  async openOrders(): Promise<VenueOrder[]> {
    return [...this.brokers.values()].flatMap((b) => b.openOrders());
  }

  async onMarket(events: MarketEventDraft[]): Promise<Execution[]> {
    const executions: Execution[] = [];
    for (const event of events) executions.push(...this.broker(event.exchange).onMarket(event));
    return executions.length > 0 ? this.record(executions) : executions;
  }
}
