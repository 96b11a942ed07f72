/**
 * Order contracts: what execution asks a venue for, the venue's orders (`orders.placed`) and fills
 * (`orders.fills`), and the order as the system of record keeps it.
 */
import { Type, type Static } from "@sinclair/typebox";
import { Closed, DecimalString, EpochMs, StringEnum, Text } from "./common";
import { InstrumentKey } from "./keys";
import { Side } from "./market";

export const OrderType = StringEnum(["market", "limit"]);
export type OrderType = Static<typeof OrderType>;
export const TimeInForce = StringEnum(["GTC", "IOC"]);
export type TimeInForce = Static<typeof TimeInForce>;
export const OrderStatus = StringEnum(["pending_new", "open", "partially_filled", "filled", "cancelled", "rejected"]);
export type OrderStatus = Static<typeof OrderStatus>;
export const TERMINAL_ORDER_STATUSES: readonly OrderStatus[] = ["filled", "cancelled", "rejected"];

/** Fill ids per `risk.missingFills` call (execution asks in batches of this many after a restart). */
export const MISSING_FILLS_MAX = 1000;

/** Whose order it is and which way it goes: an order's and each of its fills' own. */
const orderOf = { clientOrderId: Text, portfolioId: Text, instrumentKey: InstrumentKey, side: Side };

/** What an order is, whoever tells it: execution asking, or the venue reporting. */
const orderFields = {
  ...orderOf,
  type: OrderType,
  quantity: DecimalString,
  /** Limit price; required for limit orders. */
  price: Type.Optional(DecimalString),
};

/** An order as execution hands it to a venue. */
export const OrderRequest = Closed({ ...orderFields, timeInForce: Type.Optional(TimeInForce) });
export type OrderRequest = Static<typeof OrderRequest>;

/** An order as the venue reports it: one message of `orders.placed`. */
export const VenueOrder = Closed({
  ...orderFields,
  venueOrderId: Text,
  filledQuantity: DecimalString,
  averagePrice: Type.Optional(DecimalString),
  status: OrderStatus,
  /** Machine-readable reason of a rejection or cancellation. */
  reason: Type.Optional(Type.String({ maxLength: 500 })),
  createdAt: EpochMs,
  updatedAt: EpochMs,
});
export type VenueOrder = Static<typeof VenueOrder>;

/** One message of `orders.fills`. */
export const Fill = Closed({
  /** The venue's trade id, prefixed with the exchange id: unique per venue, the fill's idempotency key. */
  fillId: Text,
  ...orderOf,
  venueOrderId: Text,
  price: DecimalString,
  quantity: DecimalString,
  fee: DecimalString,
  feeCurrency: Text,
  liquidity: StringEnum(["maker", "taker"]),
  time: EpochMs,
});
export type Fill = Static<typeof Fill>;

/** An order's state change and the fills it produced, as a venue reports them. */
export const Execution = Type.Object({ order: VenueOrder, fills: Type.Array(Fill) });
export type Execution = Static<typeof Execution>;

/**
 * An order as the system of record keeps it. `filledQuantity` counts only the fills already applied
 * to the book; the venue's own figure is `venueFilledQuantity`. So an order the venue reports filled
 * keeps counting as working (reserving cash or position) until its fills are in the book: a SELL
 * can never be sized against a position its earlier SELL already sold.
 */
export const OrderRecord = Type.Composite([
  Type.Omit(VenueOrder, ["venueOrderId"]),
  Type.Object({
    /** Empty until the venue has answered (the order is recorded before it is sent). */
    venueOrderId: Type.String(),
    decisionKey: Type.Optional(Type.String()),
    signalId: Type.Optional(Type.String()),
    venueFilledQuantity: Type.Optional(DecimalString),
    venueStatus: Type.Optional(OrderStatus),
  }),
]);
export type OrderRecord = Static<typeof OrderRecord>;
