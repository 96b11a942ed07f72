/** Payloads of the order lifecycle and portfolio topics. */
import { arrayOf, decimal, epochMs, instrumentKey, object, side, text, type JsonSchema } from "../json-schema";

export const orderPlacedV1 = object(
  {
    clientOrderId: text,
    venueOrderId: text,
    portfolioId: text,
    instrumentKey,
    side,
    type: { type: "string", enum: ["market", "limit"] },
    quantity: decimal,
    price: decimal,
    filledQuantity: decimal,
    averagePrice: decimal,
    status: { type: "string", enum: ["pending_new", "open", "partially_filled", "filled", "cancelled", "rejected"] },
    reason: { type: "string", maxLength: 500 },
    createdAt: epochMs,
    updatedAt: epochMs,
  },
  ["price", "averagePrice", "reason"],
);

export const orderFillV1 = object({
  fillId: text,
  clientOrderId: text,
  venueOrderId: text,
  portfolioId: text,
  instrumentKey,
  side,
  price: decimal,
  quantity: decimal,
  fee: decimal,
  feeCurrency: text,
  liquidity: { type: "string", enum: ["maker", "taker"] },
  time: epochMs,
});

const position = object({
  instrumentKey,
  quantity: decimal,
  averageCost: decimal,
  markPrice: decimal,
  marketValue: decimal,
  unrealizedPnl: decimal,
  realizedPnl: decimal,
  fees: decimal,
});

const portfolioSnapshotFields: Record<string, JsonSchema> = {
  portfolioId: text,
  cash: decimal,
  equity: decimal,
  realizedPnl: decimal,
  unrealizedPnl: decimal,
  fees: decimal,
  exposure: decimal,
  halted: { type: "boolean" },
  haltReason: text,
  openOrders: { type: "integer", minimum: 0 },
  positions: arrayOf(position),
  cause: { type: "string", enum: ["created", "fill", "order", "halt", "resume", "limits", "mark"] },
  updatedAt: epochMs,
};

export const portfolioUpdatedV1 = object(portfolioSnapshotFields, ["haltReason"]);

/** v2 adds the owning trader (absent for the operator's portfolios): the gateway scopes live pushes by it. */
export const portfolioUpdatedV2 = object({ ...portfolioSnapshotFields, owner: text }, ["haltReason", "owner"]);
