/** Errors a message handler throws to tell the bus what to do with the message. */

/** The message can never be handled (bad JSON, schema violation): dead-letter it at once, no retries. */
export class InvalidMessageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InvalidMessageError";
  }
}

/**
 * A dependency is down (database, venue): the consumer pauses and retries the same message with
 * capped backoff until it goes through, so nothing is dead-lettered or lost during an outage.
 */
export class DependencyUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DependencyUnavailableError";
  }
}
