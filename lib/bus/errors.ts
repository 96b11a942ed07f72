/** Errors a message handler throws to tell the bus what to do with the message. */
import { Errors } from "moleculer";

/** The message can never be handled (bad JSON, schema violation): dead-letter it at once, no retries. */
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
