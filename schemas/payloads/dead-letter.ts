/** Payload of the dead-letter topic: a message a consumer could not handle, with the reason. */
import { epochMs, object, text } from "../json-schema";

export const deadLetterV1 = object(
  {
    topic: text,
    partition: { type: "integer", minimum: 0 },
    offset: { type: "string", pattern: "^[0-9]+$" },
    group: text,
    key: { type: "string", maxLength: 500 },
    reason: { type: "string", enum: ["invalid_message", "handler_failed"] },
    error: { type: "string", maxLength: 2000 },
    attempts: { type: "integer", minimum: 0 },
    value: { type: "string" },
    failedAt: epochMs,
  },
  ["key"],
);
