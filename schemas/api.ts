/**
 * The shapes only the REST API has, for the OpenAPI document (each action declares what it answers
 * with in its `openapi` field, usually a contract of schemas/ itself): composite answers and the
 * request-body fields the handlers check. The document shows answers open (more fields may come,
 * lib/openapi.ts); the schemathesis suite checks real answers against them.
 */
import { Type, type TSchema } from "@sinclair/typebox";
import { KNOWN_EXCHANGES, SYMBOL_RE } from "../lib/market/catalog";
import { LIMIT_BOUNDS } from "../lib/risk/rules";
import { MAX_ACCOUNT_EXPOSURE, MAX_ACCOUNT_OPEN_ORDERS } from "../lib/risk/account";
import { ERROR_SCHEMA, VALIDATION_ERROR_SCHEMA, type OpenApiSchema } from "../lib/openapi";
import { Nullable, StringEnum } from "./common";
import { BookEvent, TickerEvent } from "./market";
import { Health } from "./system";

export const listOf = (items: TSchema) => Type.Array(items);

/** The latest order book and ticker of an instrument; null until the feed sent one. */
export const BOOK = Type.Object({ book: Nullable(BookEvent), ticker: Nullable(TickerEvent) });

export const STRATEGY = Type.Object({ strategy: Type.String(), version: Type.String() });

export const MODELS = Type.Object({ active: STRATEGY, models: Type.Array(Type.Object({ version: Type.String() })) });

/** Health while not ready: the same figures, or the gateway's own "starting" error before its routes exist. */
export const HEALTH_NOT_READY: OpenApiSchema = { anyOf: [Health, ERROR_SCHEMA] };

/** 409 of a creation whose id is taken: `data` names the field, as a validation error does. */
export const EXISTS_ALREADY = { description: "It exists already: `data` names the field", schema: VALIDATION_ERROR_SCHEMA };

export const EXCHANGE_STATUS = Type.Object({
  exchange: Type.String(),
  marketData: Type.Unknown(),
  tradingMode: StringEnum(["paper", "live"]),
  sandbox: Type.Boolean(),
  circuit: Type.Object({ state: StringEnum(["closed", "open", "half_open"]) }),
  streams: Type.Array(Type.Unknown()),
});

export const OPENAPI_DOCUMENT = Type.Object({ openapi: Type.String(), info: Type.Object({}), paths: Type.Object({}) });

/**
 * A decimal string in [0, max] (in (0, max] when `positive`), max a power of ten, as
 * `boundedDecimal` (lib/risk/rules.ts) accepts it: digits only, at most 18 significant ones (the
 * pattern allows as many decimals as the integer part leaves) and 40 characters.
 */
export function boundedDecimalSchema(max: string, positive = false): OpenApiSchema {
  const digits = max.length - 1;
  if (max !== `1${"0".repeat(digits)}`) throw new Error(`boundedDecimalSchema: ${max} is not a power of ten`);
  const decimals = LIMIT_BOUNDS.maxSignificantDigits - Math.max(digits, 1);
  const fraction = `(\\.[0-9]{1,${decimals}})?`;
  const below = positive
    ? // A non-zero digit before the point, or zero and a non-zero decimal (leading zeros are not significant).
      [...(digits > 0 ? [`[1-9][0-9]{0,${digits - 1}}${fraction}`] : []), `0\\.0{0,${decimals - 1}}[1-9][0-9]{0,${decimals - 1}}`]
    : [digits > 0 ? `[0-9]{1,${digits}}${fraction}` : `0${fraction}`];
  return { type: "string", pattern: `^0*(${[...below, `${max}(\\.0+)?`].join("|")})$`, maxLength: 40 };
}

/** An amount of cash or a notional limit in a request body (start cash, an allowance, orderNotional, …). */
export const AMOUNT = boundedDecimalSchema(LIMIT_BOUNDS.maxAmount);

export const LIMIT_FIELDS: Record<string, OpenApiSchema> = {
  orderNotional: AMOUNT,
  maxOrderNotional: AMOUNT,
  maxPositionNotional: AMOUNT,
  maxExposure: boundedDecimalSchema(LIMIT_BOUNDS.maxExposureMultiple, true),
  maxOpenOrders: { type: "integer", minimum: 0, maximum: LIMIT_BOUNDS.maxOpenOrders },
  dailyLossLimit: AMOUNT,
  maxDrawdown: boundedDecimalSchema("1", true),
  minConfidence: { type: "number", minimum: 0, maximum: 1 },
  maxDataAgeMs: { type: "integer", minimum: 1, maximum: LIMIT_BOUNDS.maxDataAgeMs },
};

export const LIMITS_CHANGE: OpenApiSchema = { type: "object", additionalProperties: false, properties: LIMIT_FIELDS };

/** The same, where null returns a ceiling to its default. */
export const CEILINGS_CHANGE: OpenApiSchema = {
  ...LIMITS_CHANGE,
  properties: Object.fromEntries(Object.entries(LIMIT_FIELDS).map(([field, schema]) => [field, { ...schema, nullable: true }])),
};

/** A change of the account-wide limits; null returns one to its derived default. */
export const ACCOUNT_LIMITS_CHANGE: Record<string, OpenApiSchema> = {
  maxExposure: { ...boundedDecimalSchema(MAX_ACCOUNT_EXPOSURE), nullable: true },
  maxOpenOrders: { type: "integer", minimum: 0, maximum: MAX_ACCOUNT_OPEN_ORDERS, nullable: true },
};

/**
 * What the simulator (the default market data) registers: an exchange of ccxt's list, and a
 * BASE/QUOTE symbol of two different currencies (lib/market/catalog.ts). A live exchange checks
 * the symbol against its own market list instead.
 */
export const SIM_INSTRUMENT_FIELDS: Record<string, OpenApiSchema> = {
  exchange: { type: "string", enum: [...KNOWN_EXCHANGES] },
  symbol: { type: "string", pattern: `^(?!([A-Z0-9]+)/\\1$)${SYMBOL_RE.source.slice(1).replace(/\\\//g, "/")}` },
};
