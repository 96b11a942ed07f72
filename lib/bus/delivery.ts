/** Handing one message to a handler with the retry policy, then the dead-letter topic: shared by both buses. */
import { type DeadLetter, TOPICS } from "../../schemas";
import { sleep, type Clock } from "../clock";
import { createEnvelope, toRecord } from "./envelope";
import { DependencyUnavailableError, InvalidMessageError } from "../errors";
import { DEFAULT_RETRY, type BusMessage, type BusRecord, type MessageHandler, type RetryPolicy } from "./types";

export function retryPolicy(partial?: Partial<RetryPolicy>): RetryPolicy {
  return { ...DEFAULT_RETRY, ...partial };
}

function deadLetterRecord(message: BusMessage, ctx: DeliveryContext, reason: DeadLetter["reason"], error: unknown, attempts: number): BusRecord {
  const payload: DeadLetter = {
    topic: message.topic,
    partition: message.partition,
    offset: message.offset,
    group: ctx.group,
    reason,
    error: String((error as Error)?.message ?? error).slice(0, 2000),
    attempts,
    value: message.value,
    failedAt: ctx.clock.now(),
  };
  if (message.key) payload.key = message.key.slice(0, 500);
  return toRecord(createEnvelope(TOPICS.deadLetter, payload, ctx.group, { key: message.key }, ctx.clock));
}

export interface DeliveryContext {
  group: string;
  policy: RetryPolicy;
  /** The time of a dead letter. */
  clock: Clock;
  /** Publishes to the dead-letter topic. */
  deadLetter(record: BusRecord): Promise<void>;
  /** True once the consumer is leaving: stop retrying, leave the message uncommitted. */
  stopping(): boolean;
  /** Called while waiting between attempts: Kafka consumers heartbeat so a long pause keeps the membership. */
  whileWaiting?(): Promise<void>;
}

/**
 * Resolves true when the message is done with (handled or dead-lettered) and may be committed,
 * false when the consumer stopped first (the message stays uncommitted and is redelivered).
 */
export async function deliver(message: BusMessage, handler: MessageHandler, ctx: DeliveryContext): Promise<boolean> {
  let failures = 0;
  let backoff = ctx.policy.initialBackoffMs;
  for (;;) {
    try {
      await handler(message);
      return true;
    } catch (err) {
      if (err instanceof InvalidMessageError) {
        await ctx.deadLetter(deadLetterRecord(message, ctx, "invalid_message", err, failures + 1));
        return true;
      }
      if (!(err instanceof DependencyUnavailableError)) {
        failures++;
        if (failures > ctx.policy.maxRetries) {
          await ctx.deadLetter(deadLetterRecord(message, ctx, "handler_failed", err, failures));
          return true;
        }
      }
      if (ctx.stopping()) return false;
      await sleep(backoff);
      await ctx.whileWaiting?.();
      backoff = Math.min(backoff * 2, ctx.policy.maxBackoffMs);
      if (ctx.stopping()) return false;
    }
  }
}
