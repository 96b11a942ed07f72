/** The envelope every topic message travels in, and the dead letter a consumer parks what it cannot handle as. */
import { Type, type Static } from "@sinclair/typebox";
import { Closed, Count, EpochMs, StringEnum, Text } from "./common";

const NonEmpty = Type.String({ minLength: 1 });

export const Envelope = Closed({
  id: NonEmpty,
  /** Event type, e.g. "TradeApproved". */
  type: NonEmpty,
  /** Version of the payload schema. */
  version: Type.Integer({ minimum: 1 }),
  /** ISO-8601 time of publication. */
  time: NonEmpty,
  producer: NonEmpty,
  /** Partition key. */
  key: Type.String(),
  idempotencyKey: Type.Optional(NonEmpty),
  traceId: NonEmpty,
  /** Validated against the topic's schema of `version`. */
  payload: Type.Unknown(),
});
/** Every message on every topic is one of these around its payload. */
export type Envelope<P = unknown> = Omit<Static<typeof Envelope>, "payload"> & { payload: P };

/** One message of `dead.letter`: a message a consumer could not handle, with the reason. */
export const DeadLetter = Closed({
  topic: Text,
  partition: Count,
  offset: Type.String({ pattern: "^[0-9]+$" }),
  group: Text,
  /** The original message's key, which is also the dead letter's. */
  key: Type.Optional(Type.String({ maxLength: 500 })),
  reason: StringEnum(["invalid_message", "handler_failed"]),
  error: Type.String({ maxLength: 2000 }),
  attempts: Count,
  /** The original message as received. */
  value: Type.String(),
  failedAt: EpochMs,
});
export type DeadLetter = Static<typeof DeadLetter>;
