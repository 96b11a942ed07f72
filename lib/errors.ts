/** Errors crossing service boundaries: venue refusals keep their machine-readable code as the error type. */
import { Errors } from "moleculer";
import { VenueError, type VenueErrorCode } from "./types";

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
