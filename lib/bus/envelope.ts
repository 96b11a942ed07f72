/** Building, serializing and reading envelopes: the one code path both buses and all services use. */
import { randomUUID } from "node:crypto";
import { type Envelope, TOPIC_TABLE, type TopicName, type TopicPayloads, latestVersion } from "../../schemas";
import { envelopeError, payloadError, upcastEnvelope } from "../../schemas/registry";
import { isoTime, wallClock, type Clock } from "../clock";
import { InvalidMessageError } from "../errors";
import type { BusMessage, BusRecord } from "./types";

export interface PublishOptions {
  /** Defaults to the topic's key of the payload. */
  key?: string;
  idempotencyKey?: string;
  /** Carried over from the event that caused this one; a new trace starts when absent. */
  traceId?: string;
}

export function createEnvelope<T extends TopicName>(
  topic: T,
  payload: TopicPayloads[T],
  producer: string,
  options: PublishOptions = {},
  clock: Clock = wallClock,
): Envelope<TopicPayloads[T]> {
  const spec = TOPIC_TABLE[topic];
  const version = latestVersion(topic);
  const problem = payloadError(topic, version, payload);
  if (problem) throw new Error(`refusing to publish an invalid ${topic} event: ${problem}`);
  if (spec.idempotent && !options.idempotencyKey) throw new Error(`${topic} events need an idempotency key`);
  const envelope: Envelope<TopicPayloads[T]> = {
    id: randomUUID(),
    type: spec.eventType,
    version,
    time: isoTime(clock.now()),
    producer,
    key: options.key ?? spec.keyOf(payload),
    traceId: options.traceId ?? randomUUID(),
    payload,
  };
  if (options.idempotencyKey) envelope.idempotencyKey = options.idempotencyKey;
  return envelope;
}

export function toRecord(envelope: Envelope): BusRecord {
  return {
    key: envelope.key,
    value: JSON.stringify(envelope),
    headers: {
      "event-type": envelope.type,
      "schema-version": String(envelope.version),
      "trace-id": envelope.traceId,
    },
  };
}

/**
 * The embedded log hands one message object to every consumer group: it is parsed and validated
 * once, and the groups share the result (handlers treat payloads as read-only).
 */
const readCache = new WeakMap<BusMessage, Envelope>();

/** Parses and validates a consumed message, as the newest version of its payload; a bad one throws InvalidMessageError (dead-lettered, never retried). */
export function readEnvelope<T extends TopicName>(topic: T, message: BusMessage): Envelope<TopicPayloads[T]> {
  const cached = readCache.get(message);
  if (cached) return cached as Envelope<TopicPayloads[T]>;
  const envelope = parseEnvelope(topic, message);
  readCache.set(message, envelope);
  return envelope;
}

function parseEnvelope<T extends TopicName>(topic: T, message: BusMessage): Envelope<TopicPayloads[T]> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(message.value);
  } catch (err) {
    throw new InvalidMessageError(`not JSON: ${(err as Error).message}`);
  }
  const problem = envelopeError(topic, parsed);
  if (problem) throw new InvalidMessageError(problem);
  // Consumers handle only the newest version: an older message is handed over as it (renamed fields).
  return upcastEnvelope(topic, parsed as Envelope);
}
