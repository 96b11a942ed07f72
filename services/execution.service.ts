/**
 * Execution Engine: turns approved trades into venue orders. The client order id comes from the
 * approval's idempotency key, and the venue refuses an id it has seen, so a redelivered approval
 * never becomes a second order: execution then reads the existing order back and republishes it.
 * On start it republishes recent fills and open orders from the venue; risk deduplicates them, so
 * a fill that happened while execution was down is never lost.
 */
import type { Context, ServiceSchema, ServiceSettingSchema } from "moleculer";
import { TopicsMixin, type TopicMethods } from "../mixins/topics.mixin";
import { TOPICS } from "../schemas";
import type { Envelope, TradeApproved } from "../schemas/events";
import { clientOrderIdOf } from "../lib/ids";
import { isRetryableVenueCode, venueCodeOf } from "../lib/errors";
import { DependencyUnavailableError, InvalidMessageError } from "../lib/bus/errors";
import type { Execution, Fill, VenueOrder } from "../lib/types";

/** How far back execution reconciles fills on start. */
const RECONCILE_WINDOW_MS = 24 * 60 * 60 * 1000;

interface ExecutionMethods extends TopicMethods {
  report(execution: Execution, traceId?: string): Promise<void>;
  placeApproved(trade: TradeApproved, envelope: Envelope<TradeApproved>): Promise<void>;
  reconcile(): Promise<void>;
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
          const now = Date.now();
          const rejected: VenueOrder = {
            clientOrderId: trade.clientOrderId, venueOrderId: "none", portfolioId: trade.portfolioId, instrumentKey: trade.instrumentKey,
            side: trade.side, type: trade.type, quantity: trade.quantity, price: trade.price, filledQuantity: "0",
            status: "rejected", reason: `${code}: ${(err as Error).message}`.slice(0, 500), createdAt: now, updatedAt: now,
          };
          execution = { order: rejected, fills: [] };
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
        since: Date.now() - RECONCILE_WINDOW_MS,
      });
      for (const order of openOrders) await this.report({ order, fills: [] });
      await this.publishMany(TOPICS.ordersFills, fills.map((fill) => ({ payload: fill, options: { idempotencyKey: fill.fillId } })));
      if (fills.length > 0) this.logger.info(`reconciled ${fills.length} fill(s) and ${openOrders.length} open order(s) from the venue`);
    },
  },

  async started() {
    await this.reconcile();
  },
};

export default ExecutionService;
