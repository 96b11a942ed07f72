/** Words for the platform's machine-readable codes. Records over the code unions, so tsc flags a code without a label. */
import type { OrderStatus } from "../../../schemas/orders";
import type { RejectReason } from "../../../schemas/trading";
import type { ServiceName } from "../../../schemas";

export const REJECT_REASON_LABELS: Record<RejectReason, string> = {
  instrument_not_registered: "Instrument not registered",
  instrument_disabled: "Instrument disabled",
  stale_data: "Stale market data",
  invalid_price: "Invalid price",
  halted: "Portfolio halted",
  min_confidence: "Confidence below minimum",
  max_open_orders: "Too many open orders",
  daily_loss_limit: "Daily loss limit",
  max_drawdown: "Max drawdown",
  max_order_notional: "Order too large",
  max_position: "Position limit",
  max_exposure: "Exposure limit",
  insufficient_cash: "Insufficient cash",
  no_position: "No position to sell",
  below_min_notional: "Below minimum order value",
  venue_rejected: "Rejected by the venue",
  account_halted: "Account halted",
  account_max_open_orders: "Too many open orders on the account",
  account_max_exposure: "Account exposure limit",
};

export const REJECT_REASONS = Object.keys(REJECT_REASON_LABELS) as RejectReason[];

export function reasonLabel(reason: string | undefined): string {
  return reason ? (REJECT_REASON_LABELS[reason as RejectReason] ?? reason) : "";
}

export const ORDER_STATUS_LABELS: Record<OrderStatus, string> = {
  pending_new: "Pending",
  open: "Open",
  partially_filled: "Partially filled",
  filled: "Filled",
  cancelled: "Cancelled",
  rejected: "Rejected",
};

/** What each of the platform's services does, for the System view. */
export const SERVICE_ROLES: Record<ServiceName, string> = {
  gateway: "REST API, live push, dashboard",
  risk: "Risk & portfolio manager, system of record",
  ingestion: "Market data store",
  features: "Streaming indicators",
  prediction: "Strategies → signals",
  execution: "Approved trades → orders",
  exchange: "Exchange facade (market data, orders)",
};
