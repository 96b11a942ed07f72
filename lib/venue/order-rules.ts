/**
 * The order rules every venue applies alike, the paper broker and the live ccxt venue: what a
 * request must look like, how it fits the market's grid and minimums, that an order's status only
 * moves forward, and its filled quantity and average price (VWAP) from its fills.
 */
import { Dec, dec, isDecimalString, roundToStep, str } from "../decimal";
import { VenueError, type VenueErrorCode } from "../errors";
import { type Fill, type MarketInfo, type OrderRequest, type OrderStatus, TERMINAL_ORDER_STATUSES, type VenueOrder } from "../../schemas";

/** Decimal places of an order's average price. */
const AVERAGE_PRICE_DECIMALS = 8;

/** How far along an order is: a venue's report never moves it back (a late "open" after "partially_filled"). */
const PROGRESS: Record<OrderStatus, number> = { pending_new: 0, open: 1, partially_filled: 2, filled: 3, cancelled: 3, rejected: 3 };

export function isTerminal(order: Pick<VenueOrder, "status">): boolean {
  return TERMINAL_ORDER_STATUSES.includes(order.status);
}

/** Refuses a request no venue could take: no client order id, an unknown side, type or time in force, a quantity that is not a positive decimal. */
export function checkOrderRequest(request: OrderRequest): void {
  if (typeof request.clientOrderId !== "string" || request.clientOrderId === "") throw new VenueError("invalid_order", "clientOrderId is required");
  if (request.side !== "BUY" && request.side !== "SELL") throw new VenueError("invalid_order", `invalid side ${String(request.side)}`);
  if (request.type !== "market" && request.type !== "limit") throw new VenueError("invalid_order", `invalid order type ${String(request.type)}`);
  if (request.timeInForce !== undefined && request.timeInForce !== "GTC" && request.timeInForce !== "IOC") {
    throw new VenueError("invalid_order", `invalid time in force ${String(request.timeInForce)}`);
  }
  if (!isDecimalString(request.quantity) || dec(request.quantity).lte(0)) throw new VenueError("invalid_order", `invalid quantity ${String(request.quantity)}`);
}

/** A request on its market's grid. */
export interface GriddedOrder {
  quantity: Dec;
  /** A limit order's price. */
  limit?: Dec;
}

/**
 * The quantity down to the lot size, refused below the market's minimum; a limit price onto the tick
 * grid in the trader's favour (never paying more on a buy, nor receiving less on a sell, than asked).
 */
export function onMarketGrid(request: OrderRequest, market: MarketInfo): GriddedOrder {
  const quantity = roundToStep(request.quantity, market.lotSize, "down");
  if (quantity.isZero() || quantity.lt(market.minQuantity)) {
    throw new VenueError("below_min_quantity", `quantity ${request.quantity} is below the minimum ${market.minQuantity} of ${market.symbol}`);
  }
  if (request.type !== "limit") return { quantity };
  if (!isDecimalString(request.price) || dec(request.price).lte(0)) throw new VenueError("invalid_order", "a limit order needs a positive price");
  const limit = roundToStep(request.price, market.tickSize, request.side === "BUY" ? "down" : "up");
  if (limit.isZero()) throw new VenueError("invalid_order", `price ${request.price} is below one tick`);
  return { quantity, limit };
}

/** Refuses an order worth less than the market's minimum at `price` (the limit, or the market's reference price). */
export function checkMinNotional(quantity: Dec, price: Dec, market: MarketInfo): void {
  const notional = quantity.mul(price);
  if (notional.lt(market.minNotional)) {
    throw new VenueError("below_min_notional", `order value ${str(notional)} is below the minimum ${market.minNotional} of ${market.symbol}`);
  }
}

/** Whether `next` would move the order back: to an earlier status, or out of a final one. */
export function movesBack(current: Pick<VenueOrder, "status">, next: Pick<VenueOrder, "status">): boolean {
  return PROGRESS[next.status] < PROGRESS[current.status] || (isTerminal(current) && next.status !== current.status);
}

/** The status an order's filled quantity makes it: filled in full, or at least partially filled; a final status stays. */
export function statusAfterFills(order: Pick<VenueOrder, "status" | "quantity">, filled: Dec): OrderStatus {
  if (isTerminal(order)) return order.status;
  if (filled.gte(order.quantity)) return "filled";
  if (filled.gt(0) && PROGRESS[order.status] < PROGRESS.partially_filled) return "partially_filled";
  return order.status;
}

/** What an order's fills add up to: the quantity, and the volume-weighted average price when anything filled. */
export function fillTotals(fills: readonly Pick<Fill, "quantity" | "price">[]): { filled: Dec; averagePrice?: string } {
  let filled = new Dec(0);
  let value = new Dec(0);
  for (const fill of fills) {
    filled = filled.add(fill.quantity);
    value = value.add(dec(fill.quantity).mul(fill.price));
  }
  if (filled.isZero()) return { filled };
  return { filled, averagePrice: str(value.div(filled).toDecimalPlaces(AVERAGE_PRICE_DECIMALS)) };
}

/** An order's `reason` when a venue refused it: the refusal's code and message, bounded. */
export function refusalReason(code: VenueErrorCode, message: string): string {
  return `${code}: ${message}`.slice(0, 500);
}

/** The record of an order the venue refused outright: it never reached the book and nothing filled. */
export function refusedOrder(request: Omit<OrderRequest, "timeInForce">, code: VenueErrorCode, message: string, time: number): VenueOrder {
  const { clientOrderId, portfolioId, instrumentKey, side, type, quantity, price } = request;
  return {
    clientOrderId, venueOrderId: "none", portfolioId, instrumentKey, side, type, quantity, price, filledQuantity: "0",
    status: "rejected", reason: refusalReason(code, message), createdAt: time, updatedAt: time,
  };
}
