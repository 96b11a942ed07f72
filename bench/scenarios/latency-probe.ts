/**
 * The latency scenario's observer: two consumer groups of the bench that see, for each signal whose
 * candle the scenario published, when its intermediate topics' events, its approval and its order
 * arrived. Times come from performance.now(), relative to the candle's publication.
 */
import { performance } from "node:perf_hooks";
import { TOPICS, type TradeApproved, type TradeRejected, type VenueOrder } from "../../schemas";
import { readEnvelope } from "../../lib/bus/envelope";
import type { BusMessage, Subscription, TopicBus } from "../../lib/bus/types";
import { signalIdOf } from "../../lib/strategies/types";

/** The intermediate topics between the candle and the approval, in pipeline order. */
const HOPS = [TOPICS.featuresIndicators, TOPICS.tradingSignals, TOPICS.tradingSignalsPortfolio] as const;

export interface LatencyFigures {
  approvals: number;
  orders: number;
  orderStatuses: Record<string, number>;
  rejections: Record<string, number>;
  toOrderMs: number[];
  toApprovalMs: number[];
  receivedAtMs: number[];
  /** Per intermediate topic, for the signals that became orders: time from the tick until the bench group saw it. */
  hopMs: Record<string, number[]>;
}

const ascending = (values: number[]) => values.sort((a, b) => a - b);

export class LatencyProbe {
  /** Only signals published while measuring count (not the warm-up's). */
  measuring = false;
  /** Per signal id: when its candle was published (high resolution). */
  private readonly publishedAt = new Map<string, number>();
  private readonly approvals = new Map<string, { signalId: string; receivedAt: number }>();
  private readonly hopSeen = new Map<string, Partial<Record<string, number>>>();
  private readonly seenOrders = new Set<string>();
  private readonly figures: LatencyFigures = {
    approvals: 0,
    orders: 0,
    orderStatuses: {},
    rejections: {},
    toOrderMs: [],
    toApprovalMs: [],
    receivedAtMs: [],
    hopMs: Object.fromEntries([...HOPS, TOPICS.tradesApproved].map((t) => [t, []])),
  };
  private subscriptions: Subscription[] = [];
  private readonly signalOf: Record<string, (m: BusMessage) => string>;

  constructor(private readonly strategy: string) {
    this.signalOf = {
      [TOPICS.featuresIndicators]: (m) => {
        const f = readEnvelope(TOPICS.featuresIndicators, m).payload;
        return signalIdOf(this.strategy, f.instrumentKey, f.openTime);
      },
      [TOPICS.tradingSignals]: (m) => readEnvelope(TOPICS.tradingSignals, m).payload.signalId,
      [TOPICS.tradingSignalsPortfolio]: (m) => readEnvelope(TOPICS.tradingSignalsPortfolio, m).payload.signal.signalId,
    };
  }

  /**
   * Two consumer groups: "bench" for the measured endpoints (approvals, orders, rejections) and
   * "bench-hops" for the intermediate topics, so on Kafka the orders.placed events never wait
   * behind the hop topics' messages in the bench's own consumer.
   */
  async open(bus: TopicBus): Promise<void> {
    this.subscriptions.push(
      await bus.subscribe({
        topics: [TOPICS.tradesApproved, TOPICS.ordersPlaced, TOPICS.tradesRejected],
        group: "bench",
        handler: async (message) => {
          if (message.topic === TOPICS.tradesApproved) this.onApproved(message);
          else if (message.topic === TOPICS.ordersPlaced) this.onOrder(message);
          else this.onRejected(message);
        },
      }),
      await bus.subscribe({
        topics: [...HOPS],
        group: "bench-hops",
        handler: async (message) => this.sawHop(this.signalOf[message.topic]!(message), message.topic),
      }),
    );
  }

  async close(): Promise<void> {
    await Promise.all(this.subscriptions.map((s) => s.close()));
    this.subscriptions = [];
  }

  /** The candle of this signal is being published now. */
  published(signalId: string): void {
    this.publishedAt.set(signalId, performance.now());
  }

  /** What was measured, each series sorted ascending. */
  result(): LatencyFigures {
    const f = this.figures;
    return {
      ...f,
      approvals: f.toApprovalMs.length,
      orders: f.toOrderMs.length,
      toOrderMs: ascending(f.toOrderMs),
      toApprovalMs: ascending(f.toApprovalMs),
      receivedAtMs: ascending(f.receivedAtMs),
      hopMs: Object.fromEntries(Object.entries(f.hopMs).map(([t, v]) => [t, ascending(v)])),
    };
  }

  private sawHop(signalId: string, topic: string): void {
    if (!this.measuring || !this.publishedAt.has(signalId)) return;
    let seen = this.hopSeen.get(signalId);
    if (!seen) this.hopSeen.set(signalId, (seen = {}));
    seen[topic] ??= performance.now();
  }

  private onApproved(message: BusMessage): void {
    const at = performance.now();
    const a: TradeApproved = readEnvelope(TOPICS.tradesApproved, message).payload;
    this.approvals.set(a.clientOrderId, { signalId: a.signalId, receivedAt: a.receivedAt });
    this.sawHop(a.signalId, TOPICS.tradesApproved);
    const t0 = this.publishedAt.get(a.signalId);
    if (this.measuring && t0 !== undefined) this.figures.toApprovalMs.push(at - t0);
  }

  private onOrder(message: BusMessage): void {
    const at = performance.now();
    // The cross-check compares with the receivedAt stamp on the wire, a wall-clock time.
    const wallNow = Date.now();
    const order: VenueOrder = readEnvelope(TOPICS.ordersPlaced, message).payload;
    if (this.seenOrders.has(order.clientOrderId)) return; // later updates of the same order
    this.seenOrders.add(order.clientOrderId);
    const approval = this.approvals.get(order.clientOrderId);
    if (!approval) return;
    const t0 = this.publishedAt.get(approval.signalId);
    if (!this.measuring || t0 === undefined) return;
    const f = this.figures;
    f.orderStatuses[order.status] = (f.orderStatuses[order.status] ?? 0) + 1;
    f.toOrderMs.push(at - t0);
    f.receivedAtMs.push(wallNow - approval.receivedAt);
    const seen = this.hopSeen.get(approval.signalId) ?? {};
    for (const [topic, times] of Object.entries(f.hopMs)) if (seen[topic] !== undefined) times.push(seen[topic]! - t0);
  }

  private onRejected(message: BusMessage): void {
    const r: TradeRejected = readEnvelope(TOPICS.tradesRejected, message).payload;
    if (this.measuring) this.figures.rejections[r.reason] = (this.figures.rejections[r.reason] ?? 0) + 1;
  }
}
