/**
 * The building blocks of every contract: TypeBox schemas (JSON Schema with static types) of the
 * platform's scalar values, and the few constructors the contracts share. What they emit is read by
 * ajv (the bus), by the schema-compatibility check and by the OpenAPI 3.0 document, so they stay
 * within what all three accept: enums as `enum` (3.0 has no `const` outside a discriminator), no
 * type arrays.
 */
import { Type, type Static, type TObject, type TProperties, type TSchema, type TUnion, type TUnsafe } from "@sinclair/typebox";
import { DECIMAL_PATTERN } from "../lib/decimal";

/** A decimal number as text (prices, quantities, fees, cash): money never travels as a float. */
export const DecimalString = Type.String({ pattern: DECIMAL_PATTERN });
export type DecimalString = Static<typeof DecimalString>;

/** A non-empty name or id of bounded length. */
export const Text = Type.String({ minLength: 1, maxLength: 200 });
/** Epoch milliseconds. */
export const EpochMs = Type.Integer({ minimum: 0 });
export const Count = Type.Integer({ minimum: 0 });
/** A fraction in [0, 1] (a strategy's confidence). */
export const Probability = Type.Number({ minimum: 0, maximum: 1 });

/** One of these strings, as a JSON Schema `enum`. */
export function StringEnum<const T extends readonly string[]>(values: T): TUnsafe<T[number]> {
  return Type.Unsafe<T[number]>({ type: "string", enum: [...values] });
}

/** One of these integers, as a JSON Schema `enum`. */
export function IntegerEnum<const T extends readonly number[]>(values: T): TUnsafe<T[number]> {
  return Type.Unsafe<T[number]>({ type: "integer", enum: [...values] });
}

/** An object with exactly these properties (a topic payload: anything else is refused). */
export function Closed<T extends TProperties>(properties: T): TObject<T> {
  return Type.Object(properties, { additionalProperties: false });
}

/** One of these objects, told apart by their `kind` (ajv's `discriminator`, OpenAPI's as well). */
export function Discriminated<T extends TObject[]>(variants: [...T]): TUnsafe<Static<TUnion<T>>> {
  return Type.Unsafe<Static<TUnion<T>>>({ type: "object", discriminator: { propertyName: "kind" }, required: ["kind"], oneOf: variants });
}

/** The value, or null (OpenAPI 3.0's `nullable`; ajv reads it too). */
export function Nullable<T extends TSchema>(schema: T): TUnsafe<Static<T> | null> {
  return Type.Unsafe<Static<T> | null>({ ...schema, nullable: true });
}
