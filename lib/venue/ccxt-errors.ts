/**
 * ccxt's exceptions as the platform's typed venue refusals (`VenueError` codes), which reach the
 * order's events and the API. Messages are scrubbed of key material before they leave.
 */
import {
  AuthenticationError,
  BadRequest,
  BadSymbol,
  BaseError,
  DDoSProtection,
  DuplicateOrderId,
  ExchangeError,
  InsufficientFunds,
  InvalidOrder,
  NetworkError,
  OperationFailed,
  OperationRejected,
  OrderNotFound,
  RateLimitExceeded,
} from "ccxt";
import { VenueError, type VenueErrorCode } from "../errors";

const messageOf = (err: unknown) => String((err as Error)?.message ?? err);

/**
 * Filter failures carry the rule in the venue's message (Binance: "Filter failure: NOTIONAL",
 * "Duplicate order sent."); they are recognised by it whatever exception class ccxt chose.
 */
const MESSAGE_CODES: Array<[RegExp, VenueErrorCode]> = [
  [/duplicate order|duplicate client ?order ?id|clientOrderId.*(exists|duplicate)/i, "duplicate_client_order_id"],
  [/insufficient (balance|funds)/i, "insufficient_funds"],
  [/MIN_NOTIONAL|NOTIONAL/, "below_min_notional"],
  [/LOT_SIZE|MIN_QTY|quantity less than/i, "below_min_quantity"],
];

function codeOf(err: unknown): VenueErrorCode | undefined {
  const message = messageOf(err);
  if (err instanceof BaseError) {
    for (const [pattern, code] of MESSAGE_CODES) if (pattern.test(message)) return code;
  }
  if (err instanceof DuplicateOrderId) return "duplicate_client_order_id";
  if (err instanceof InsufficientFunds) return "insufficient_funds";
  if (err instanceof OrderNotFound) return "order_not_found";
  if (err instanceof BadSymbol) return "unknown_symbol";
  // Before NetworkError: ccxt files 429/418 answers under it, but the venue did answer.
  if (err instanceof RateLimitExceeded || err instanceof DDoSProtection) return "rate_limited";
  if (err instanceof NetworkError || err instanceof OperationFailed) return "venue_unavailable";
  if (err instanceof AuthenticationError) return "permission_denied";
  if (err instanceof InvalidOrder || err instanceof BadRequest || err instanceof OperationRejected || err instanceof ExchangeError) return "invalid_order";
  return undefined;
}

/**
 * The typed refusal behind a ccxt exception, or undefined for an error that is not the venue's
 * (a bug on our side must surface as itself, not as a venue outage). An outage reads
 * "exchange <id> unreachable" with the scrubbed cause in `details`.
 */
export function venueErrorOf(err: unknown, exchangeId: string, redact: (text: string) => string): VenueError | undefined {
  if (err instanceof VenueError) return err;
  const code = codeOf(err);
  if (!code) return undefined;
  const cause = redact(messageOf(err)).slice(0, 500);
  if (code === "venue_unavailable") return new VenueError(code, `exchange ${exchangeId} unreachable`, { cause });
  if (code === "rate_limited") return new VenueError(code, `exchange ${exchangeId} rate limit reached, retry later`, { cause });
  return new VenueError(code, cause);
}

/** For the circuit breaker: true for an outage, false for any answer of the venue, undefined for our own bugs. */
export function isOutage(err: unknown): boolean | undefined {
  if (err instanceof VenueError) return err.code === "venue_unavailable" ? true : undefined;
  const code = codeOf(err);
  return code === undefined ? undefined : code === "venue_unavailable";
}
