/** Handing one message to a handler with the retry policy, then the dead-letter topic: shared by both buses. */
import { type DeadLetter, TOPICS } from "../../schemas";
import { sleep, type Clock } from "../clock";
import { createEnvelope, toRecord } from "./envelope";
import { DependencyUnavailableError, InvalidMessageError } from "../errors";
import { DEFAULT_MAX_BATCH, DEFAULT_RETRY, type BatchHandler, type BusMessage, type BusRecord, type MessageHandler, type RetryPolicy, type SubscribeOptions } from "./types";

export function retryPolicy(partial?: Partial<RetryPolicy>): RetryPolicy {
  return { ...DEFAULT_RETRY, ...partial };
}

/** A subscription's batch delivery: which topics go to the batch handler, and how many messages at once. */
export interface BatchDelivery {
  handler: BatchHandler;
  maxBatch: number;
  covers(topic: string): boolean;
}

/** Undefined for a subscription without batchHandler (every message goes to `handler` alone). */
export function batchDelivery(options: SubscribeOptions): BatchDelivery | undefined {
  const { batchHandler, maxBatch = DEFAULT_MAX_BATCH } = options;
  if (!batchHandler) return undefined;
  if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new Error(`maxBatch must be a positive integer, got ${maxBatch}`);
  const topics = new Set(options.batchTopics ?? options.topics);
  return { handler: batchHandler, maxBatch, covers: (topic) => topics.has(topic) };
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

/** Waits before the next attempt; false when the consumer is leaving meanwhile (stop retrying, leave uncommitted). */
async function waitToRetry(ctx: DeliveryContext, backoffMs: number): Promise<boolean> {
  if (ctx.stopping()) return false;
  await sleep(backoffMs);
  await ctx.whileWaiting?.();
  return !ctx.stopping();
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
      if (!(await waitToRetry(ctx, backoff))) return false;
      backoff = Math.min(backoff * 2, ctx.policy.maxBackoffMs);
    }
  }
}

/**
 * Delivers messages of one partition one at a time, calling `commitThrough` after each one done
 * with; resolves false when the consumer stopped first (the rest stays uncommitted).
 */
export async function deliverEach(messages: readonly BusMessage[], handler: MessageHandler, ctx: DeliveryContext, commitThrough: (message: BusMessage) => void): Promise<boolean> {
  for (const message of messages) {
    if (!(await deliver(message, handler, ctx))) return false;
    commitThrough(message);
  }
  return true;
}

/**
 * Hands messages of one partition to the batch handler at once; `commitThrough` gets the last one
 * when the batch is done with. A batch that fails goes one message at a time through `handler`
 * (retries, then the dead-letter topic), so a poison message costs the others nothing; a batch
 * whose dependency is unavailable is retried whole after a backoff, as `deliver` does with one message.
 */
export async function deliverBatch(
  messages: BusMessage[],
  batch: BatchDelivery,
  handler: MessageHandler,
  ctx: DeliveryContext,
  commitThrough: (message: BusMessage) => void,
): Promise<boolean> {
  let backoff = ctx.policy.initialBackoffMs;
  for (;;) {
    const invalid: Array<{ message: BusMessage; error: Error }> = [];
    try {
      await batch.handler(messages, (message, error) => invalid.push({ message, error }));
    } catch (err) {
      if (!(err instanceof DependencyUnavailableError)) return deliverEach(messages, handler, ctx, commitThrough);
      if (!(await waitToRetry(ctx, backoff))) return false;
      backoff = Math.min(backoff * 2, ctx.policy.maxBackoffMs);
      continue;
    }
    for (const { message, error } of invalid) await ctx.deadLetter(deadLetterRecord(message, ctx, "invalid_message", error, 1));
    commitThrough(messages[messages.length - 1]!);
    return true;
  }
}
