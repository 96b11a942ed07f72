/**
 * Execution Engine: turns approved trades into venue orders. The client order id comes from the
 * approval's idempotency key, and the venue refuses an id it has seen, so a redelivered approval
 * never becomes a second order: execution then reads the existing order back and republishes it.
 * On start it asks risk which of the venue's recent fills the system of record lacks and publishes
 * those (and the open orders), so a fill that happened while execution was down is never lost and
 * a restart does not flood `orders.fills` with fills risk has had all along.
 */
import type { Context, ServiceSchema, ServiceSettingSchema } from "moleculer";
import { TopicsMixin, type TopicMethods } from "../mixins/topics.mixin";
import { type Envelope, type Execution, type Fill, MISSING_FILLS_MAX, TOPICS, type TradeApproved, type VenueOrder } from "../schemas";
import { clientOrderIdOf } from "../lib/ids";
import { DependencyUnavailableError, InvalidMessageError, isRetryableVenueCode, venueCodeOf } from "../lib/errors";
import { wallClock } from "../lib/clock";
import { refusedOrder } from "../lib/venue/order-rules";

/** How far back execution reconciles fills on start. */
const RECONCILE_WINDOW_MS = 24 * 60 * 60 * 1000;
/** How long a start waits for risk to say which fills it has, before republishing them all. */
const RISK_ANSWER_MS = 10_000;

interface ExecutionMethods extends TopicMethods {
  report(execution: Execution, traceId?: string): Promise<void>;
  placeApproved(trade: TradeApproved, envelope: Envelope<TradeApproved>): Promise<void>;
  reconcile(): Promise<void>;
  missingFills(fills: Fill[]): Promise<Fill[]>;
}

const ExecutionService: ServiceSchema<ServiceSettingSchema, ExecutionMethods> = {
  name: "execution",
  dependencies: ["exchange"],
  mixins: [TopicsMixin()],

  topics: {
    [TOPICS.tradesApproved]: {
      handler(trade: TradeApproved, envelope: Envelope<TradeApproved>) {
        return this.placeApproved(trade, envelope);
      },
    },
  },

  events: {
    /** Resting orders filled later by market data. */
    "exchange.execution": {
      handler(ctx: Context<Execution>) {
        return this.report(ctx.params);
      },
    },
  },

  methods: {
    async placeApproved(trade: TradeApproved, envelope: Envelope<TradeApproved>) {
      if (clientOrderIdOf(envelope.idempotencyKey!) !== trade.clientOrderId) {
        throw new InvalidMessageError(`clientOrderId ${trade.clientOrderId} does not derive from idempotency key ${envelope.idempotencyKey}`);
      }
      const request = {
        clientOrderId: trade.clientOrderId,
        portfolioId: trade.portfolioId,
        instrumentKey: trade.instrumentKey,
        side: trade.side,
        type: trade.type,
        quantity: trade.quantity,
        ...(trade.type === "limit" ? { price: trade.price } : {}),
      };
      let execution: Execution;
      try {
        execution = await this.broker.call<Execution, typeof request>("exchange.placeOrder", request);
      } catch (err) {
        const code = venueCodeOf(err);
        if (code === "duplicate_client_order_id") {
          // Placed before (a redelivery, or a crash after placing): report what the venue has.
          execution = await this.broker.call<Execution, { clientOrderId: string }>("exchange.getOrder", { clientOrderId: trade.clientOrderId });
        } else if (!code || isRetryableVenueCode(code)) {
          throw new DependencyUnavailableError(`placing ${trade.clientOrderId}: ${(err as Error).message}`);
        } else {
          execution = { order: refusedOrder(trade, code, (err as Error).message, wallClock.now()), fills: [] };
        }
      }
      await this.report(execution, envelope.traceId);
    },

    async report({ order, fills }: Execution, traceId?: string) {
      await this.publish(TOPICS.ordersPlaced, order, { idempotencyKey: `${order.clientOrderId}:${order.status}:${order.filledQuantity}`, traceId });
      await this.publishMany(TOPICS.ordersFills, fills.map((fill: Fill) => ({ payload: fill, options: { idempotencyKey: fill.fillId, traceId } })));
    },

    async reconcile() {
      const { fills, openOrders } = await this.broker.call<{ fills: Fill[]; openOrders: VenueOrder[] }, { since: number }>("exchange.executionsSince", {
        since: wallClock.now() - RECONCILE_WINDOW_MS,
      });
      for (const order of openOrders) await this.report({ order, fills: [] });
      const missing = await this.missingFills(fills);
      await this.publishMany(TOPICS.ordersFills, missing.map((fill) => ({ payload: fill, options: { idempotencyKey: fill.fillId } })));
      if (missing.length > 0 || openOrders.length > 0) {
        this.logger.info(`reconciled ${missing.length} fill(s) risk lacked (of ${fills.length} at the venue) and ${openOrders.length} open order(s)`);
      }
    },

    /** The fills the system of record lacks. When risk cannot say, all of them: risk drops repeats, a lost fill is lost money. */
    async missingFills(fills: Fill[]) {
      try {
        const missing = new Set<string>();
        if (fills.length > 0) await this.broker.waitForServices(["risk"], RISK_ANSWER_MS);
        for (let i = 0; i < fills.length; i += MISSING_FILLS_MAX) {
          const fillIds = fills.slice(i, i + MISSING_FILLS_MAX).map((f) => f.fillId);
          for (const id of await this.broker.call<string[], { fillIds: string[] }>("risk.missingFills", { fillIds }, { timeout: RISK_ANSWER_MS })) missing.add(id);
        }
        return fills.filter((f) => missing.has(f.fillId));
      } catch (err) {
        this.logger.warn(`risk cannot say which fills it has (${(err as Error).message}): republishing all ${fills.length} recent fill(s)`);
        return fills;
      }
    },
  },

  async started() {
    await this.reconcile();
  },
};

export default ExecutionService;
