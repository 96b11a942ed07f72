/** Builders for the JSON Schemas of topic payloads, so each schema file reads as a table of fields. */
import { DECIMAL_PATTERN } from "../lib/decimal";

export interface JsonSchema {
  type?: "object" | "array" | "string" | "number" | "integer" | "boolean" | "null";
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean;
  items?: JsonSchema | JsonSchema[];
  minItems?: number;
  maxItems?: number;
  enum?: readonly (string | number)[];
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  oneOf?: JsonSchema[];
  discriminator?: { propertyName: string };
  const?: string | number;
  description?: string;
}

export const decimal: JsonSchema = { type: "string", pattern: DECIMAL_PATTERN };
export const text: JsonSchema = { type: "string", minLength: 1, maxLength: 200 };
export const epochMs: JsonSchema = { type: "integer", minimum: 0 };
export const side: JsonSchema = { type: "string", enum: ["BUY", "SELL"] };
export const instrumentKey: JsonSchema = { type: "string", pattern: "^[a-z0-9_-]+:[A-Z0-9]+/[A-Z0-9]+$" };

/** A closed object: every property listed, the ones in `optional` may be absent. */
export function object(properties: Record<string, JsonSchema>, optional: string[] = []): JsonSchema {
  return {
    type: "object",
    properties,
    required: Object.keys(properties).filter((p) => !optional.includes(p)),
    additionalProperties: false,
  };
}

export function arrayOf(items: JsonSchema, maxItems?: number): JsonSchema {
  return maxItems === undefined ? { type: "array", items } : { type: "array", items, maxItems };
}

export function oneOfKind(variants: JsonSchema[]): JsonSchema {
  return { type: "object", discriminator: { propertyName: "kind" }, required: ["kind"], oneOf: variants };
}
