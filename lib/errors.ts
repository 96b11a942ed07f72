/**
 * The platform's errors, in one module: venue refusals (which keep their machine-readable code as the
 * error type across services), what a message handler throws to steer the bus, the store's duplicate
 * key, and the helpers that build the API's 4xx answers.
 */
import { Errors } from "moleculer";

export type VenueErrorCode =
  | "duplicate_client_order_id"
  | "insufficient_funds"
  | "below_min_notional"
  | "below_min_quantity"
  | "unknown_symbol"
  | "invalid_order"
  | "order_not_found"
  | "rate_limited"
  | "venue_unavailable"
  /** An exchange id other than the one the facade is configured for (MARKET_DATA). */
  | "unknown_exchange"
  /** The venue refused our credentials or their permissions (bad key, trading not enabled, IP not allowed). */
  | "permission_denied";

/** A venue's refusal, with a machine-readable code that ends up on the order's events and in the API. */
export class VenueError extends Error {
  constructor(
    readonly code: VenueErrorCode,
    message: string,
    /** Machine-readable particulars for the API, e.g. `closeMatches` of an unknown symbol or the `cause` of an outage. */
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = "VenueError";
  }
}

/** The message can never be handled (bad JSON, schema violation): the bus dead-letters it at once, no retries. */
export class InvalidMessageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InvalidMessageError";
  }
}

/**
 * A dependency is down (database, venue): the consumer pauses and retries the same message with
 * capped backoff until it goes through, so nothing is dead-lettered or lost during an outage; the
 * API answers 503 with the message.
 */
export class DependencyUnavailableError extends Errors.MoleculerRetryableError {
  constructor(message: string) {
    super(message, 503, "SERVICE_UNAVAILABLE");
    // Named as its Moleculer base class: a transporter rebuilds only Moleculer's own error classes, so
    // on another node (the gateway in the distributed mode) it stays a retryable 503, not a plain Error.
    this.name = "MoleculerRetryableError";
  }
}

/**
 * For a call on a message's path: a retryable failure of the callee (a timeout, the service absent,
 * its store down) becomes DependencyUnavailableError, so the bus retries the message; anything else
 * (a bug) is rethrown as it is.
 */
export function retriedWhenRetryable(what: string): (err: Error & { retryable?: boolean }) => never {
  return (err) => {
    if (err.retryable) throw new DependencyUnavailableError(`${what}: ${err.message}`);
    throw err;
  };
}

/** A setting of the environment is wrong: the start stops with this message, which names the variable. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

/** A store refused an insert: a document with that natural id exists already (what makes writes idempotent). */
export class DuplicateKeyError extends Error {
  constructor(collection: string, id: string) {
    super(`${collection}: a document with id "${id}" exists already`);
    this.name = "DuplicateKeyError";
  }
}

const STATUS: Record<VenueErrorCode, number> = {
  duplicate_client_order_id: 409,
  insufficient_funds: 422,
  below_min_notional: 422,
  below_min_quantity: 422,
  unknown_symbol: 422,
  invalid_order: 422,
  order_not_found: 404,
  rate_limited: 429,
  venue_unavailable: 503,
  unknown_exchange: 422,
  permission_denied: 403,
};

/** Venue refusals that may succeed when tried again later. */
export function isRetryableVenueCode(code: VenueErrorCode): boolean {
  return code === "venue_unavailable" || code === "rate_limited";
}

export function toServiceError(err: unknown): Error {
  if (err instanceof VenueError) {
    const Cls = isRetryableVenueCode(err.code) ? Errors.MoleculerRetryableError : Errors.MoleculerClientError;
    return new Cls(err.message, STATUS[err.code], err.code, { ...err.details, code: err.code });
  }
  return err as Error;
}

/** The venue error code of an error returned by an `exchange` action, if it is one. */
export function venueCodeOf(err: unknown): VenueErrorCode | undefined {
  const type = (err as { type?: string })?.type;
  return type && type in STATUS ? (type as VenueErrorCode) : undefined;
}

/** 422 naming the field and the reason, as the API promises for bad input; `extra` adds particulars (e.g. `closeMatches`). */
export function invalidField(field: string, message: string, value?: unknown, extra?: Record<string, unknown>): Errors.ValidationError {
  return new Errors.ValidationError(`${field} ${message}`, "VALIDATION_ERROR", [{ ...extra, field, message, type: "invalid", actual: value }]);
}

/** 409 for creating what exists already, naming the field as a 422 does. */
export function alreadyExists(field: string, message: string, value?: unknown): Errors.MoleculerClientError {
  return new Errors.MoleculerClientError(`${field} ${message}`, 409, "CONFLICT", [{ field, message, type: "conflict", actual: value }]);
}

export function notFound(what: string, id: string): Errors.MoleculerClientError {
  return new Errors.MoleculerClientError(`${what} "${id}" not found`, 404, "NOT_FOUND", { [what]: id });
}

/** 403 for a trader calling an action that changes the platform for everybody. */
export function operatorOnly(action: string): Errors.MoleculerClientError {
  return new Errors.MoleculerClientError(`${action} is for the operator (API_TOKEN) only`, 403, "FORBIDDEN", { action });
}

/** 422 listing the fields at fault, as the API promises for bad input. */
export function invalidFields(message: string, errors: Array<{ field: string; message: string }>): Errors.ValidationError {
  return new Errors.ValidationError(message, "VALIDATION_ERROR", errors);
}

/** 429: a quota that keeps one token from exhausting the platform. */
export function quotaExceeded(message: string, quota: string, limit: number): Errors.MoleculerClientError {
  return new Errors.MoleculerClientError(message, 429, "QUOTA_EXCEEDED", { quota, limit });
}

/**
 * Registration's answer when the venue cannot confirm an instrument's market: 422 on the field at fault
 * (an unknown symbol names the venue's close matches), 503 "exchange <id> unreachable" when it does not answer.
 */
export function registrationError(err: unknown, exchange: string, symbol: string): Error {
  const code = venueCodeOf(err);
  const message = (err as Error).message;
  const data = ((err as { data?: Record<string, unknown> }).data ?? {}) as { closeMatches?: string[]; cause?: string };
  if (code === "unknown_symbol") return invalidField("symbol", message, symbol, { closeMatches: data.closeMatches ?? [] });
  if (code === "unknown_exchange") return invalidField("exchange", message, exchange);
  if (code === "venue_unavailable" || err instanceof Errors.RequestTimeoutError) {
    return new Errors.MoleculerServerError(`exchange ${exchange} unreachable`, 503, "EXCHANGE_UNREACHABLE", { exchange, ...(data.cause && { cause: data.cause }) });
  }
  return err as Error;
}
