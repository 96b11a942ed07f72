/** Identifiers derived from idempotency keys, so retries and replays map to the same ids. */
import { createHash } from "node:crypto";

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

/** Starts every client order id: how an open order at the venue is recognised as the platform's. */
export const CLIENT_ORDER_ID_PREFIX = "tbp";

/**
 * The venue's client order id of an approval: a hash of its idempotency key, 32 characters of
 * [a-z0-9] (venues cap client ids at 32–36 characters of a restricted alphabet).
 */
export function clientOrderIdOf(approvalIdempotencyKey: string): string {
  return `${CLIENT_ORDER_ID_PREFIX}${sha256(approvalIdempotencyKey).slice(0, 29)}`;
}

/** Idempotency key of a risk decision: one per (portfolio, instrument, signal). */
export function decisionKeyOf(riskKey: string, signalId: string): string {
  return `${riskKey}:${signalId}`;
}
