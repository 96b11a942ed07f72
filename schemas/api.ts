/**
 * Schemas of the REST API's answers, for the OpenAPI document (each action declares which one it
 * answers with, in its `openapi` field). They are open (more fields may come) and require only what
 * is always there; the schemathesis suite checks real answers against them.
 */
import { DECIMAL_PATTERN } from "../lib/decimal";
import { KNOWN_EXCHANGES, SYMBOL_RE } from "../lib/market/catalog";
import { LIMIT_BOUNDS } from "../lib/risk/rules";
import { MAX_ACCOUNT_EXPOSURE, MAX_ACCOUNT_OPEN_ORDERS } from "../lib/risk/account";
import { ERROR_SCHEMA, VALIDATION_ERROR_SCHEMA, type OpenApiSchema } from "../lib/openapi";

const decimal: OpenApiSchema = { type: "string", pattern: DECIMAL_PATTERN };
const epochMs: OpenApiSchema = { type: "integer", minimum: 0 };
const count: OpenApiSchema = { type: "integer", minimum: 0 };
const str: OpenApiSchema = { type: "string" };
const bool: OpenApiSchema = { type: "boolean" };

/** An object with these properties; all of them required unless listed in `optional`. */
function shape(properties: Record<string, OpenApiSchema>, optional: string[] = []): OpenApiSchema {
  const required = Object.keys(properties).filter((p) => !optional.includes(p));
  return { type: "object", properties, ...(required.length > 0 ? { required } : {}) };
}

export const listOf = (items: OpenApiSchema): OpenApiSchema => ({ type: "array", items });

const position = shape({
  instrumentKey: str, quantity: decimal, averageCost: decimal, markPrice: decimal, marketValue: decimal,
  unrealizedPnl: decimal, realizedPnl: decimal, fees: decimal,
});

/** A portfolio's figures (the `portfolio.updated` snapshot). */
export const PORTFOLIO_SNAPSHOT = shape(
  {
    portfolioId: str, cash: decimal, equity: decimal, realizedPnl: decimal, unrealizedPnl: decimal, fees: decimal, exposure: decimal,
    halted: bool, haltReason: str, owner: str, openOrders: count, positions: listOf(position),
    cause: { type: "string", enum: ["created", "fill", "order", "halt", "resume", "limits", "mark"] }, updatedAt: epochMs,
  },
  ["haltReason", "owner"],
);

/** A portfolio's risk limits. */
export const LIMITS = shape(
  {
    orderNotional: decimal, maxOrderNotional: decimal, maxPositionNotional: decimal, maxExposure: decimal, maxOpenOrders: count,
    dailyLossLimit: decimal, maxDrawdown: decimal, minConfidence: { type: "number", minimum: 0, maximum: 1 }, maxDataAgeMs: count,
  },
);

/** A portfolio with its name and limits (lists, creation). */
export const PORTFOLIO = { allOf: [PORTFOLIO_SNAPSHOT, shape({ limits: LIMITS })] };

/** One portfolio in full. */
export const PORTFOLIO_DETAIL = {
  allOf: [PORTFOLIO_SNAPSHOT, shape({ name: str, startCash: decimal, limits: LIMITS, dayStartEquity: decimal, peakEquity: decimal, haltReason: str }, ["haltReason"])],
};

/** The account-wide gate: kill switch, limits, usage over all portfolios. */
export const ACCOUNT = shape(
  { halted: bool, haltReason: str, limits: shape({ maxExposure: decimal, maxOpenOrders: count }, ["maxExposure", "maxOpenOrders"]), exposure: decimal, openOrders: count },
  ["haltReason"],
);

const market = shape({
  exchange: str, symbol: str, base: str, quote: str, tickSize: decimal, lotSize: decimal, minQuantity: decimal, minNotional: decimal,
  makerFee: decimal, takerFee: decimal,
});

/** A registered instrument with its market rules and the portfolios trading it (the caller's own, for a trader). */
export const INSTRUMENT = shape({
  instrumentKey: str, exchange: str, symbol: str, portfolioIds: listOf(str), enabled: bool, market, registeredAt: epochMs, updatedAt: epochMs,
});

const side: OpenApiSchema = { type: "string", enum: ["BUY", "SELL"] };

export const ORDER = shape(
  {
    clientOrderId: str, venueOrderId: str, portfolioId: str, instrumentKey: str, side, type: { type: "string", enum: ["market", "limit"] },
    quantity: decimal, price: decimal, filledQuantity: decimal, averagePrice: decimal,
    status: { type: "string", enum: ["pending_new", "open", "partially_filled", "filled", "cancelled", "rejected"] },
    reason: str, createdAt: epochMs, updatedAt: epochMs,
  },
  ["price", "averagePrice", "reason"],
);

export const FILL = shape({
  fillId: str, clientOrderId: str, portfolioId: str, instrumentKey: str, side, price: decimal, quantity: decimal, fee: decimal,
  feeCurrency: str, time: epochMs,
});

export const DECISION = shape(
  {
    idempotencyKey: str, decisionId: str, outcome: { type: "string", enum: ["approved", "rejected"] }, stage: { type: "integer", enum: [1, 2] },
    portfolioId: str, instrumentKey: str, action: side, reason: str, detail: str, price: decimal, signal: { type: "object" }, decidedAt: epochMs,
  },
  ["reason", "detail"],
);

export const EQUITY_POINT = shape({ portfolioId: str, time: epochMs, equity: decimal, cash: decimal, realizedPnl: decimal, unrealizedPnl: decimal });

export const CANDLE = shape({
  instrumentKey: str, timeframe: { type: "string", enum: ["1m"] }, openTime: epochMs, closeTime: epochMs,
  open: decimal, high: decimal, low: decimal, close: decimal, volume: decimal, tradeCount: count,
});

export const INDICATORS = shape({ instrumentKey: str, openTime: epochMs, closeTime: epochMs, close: decimal, features: { type: "object" } });

export const TRADE = shape({ instrumentKey: str, time: epochMs, price: decimal, quantity: decimal });

export const BOOK = shape({ book: { type: "object", nullable: true }, ticker: { type: "object", nullable: true } });

export const SIGNAL = shape({
  signalId: str, instrumentKey: str, action: { type: "string", enum: ["BUY", "SELL", "HOLD"] }, strategy: str,
  confidence: { type: "number", minimum: 0, maximum: 1 }, price: decimal, marketTime: epochMs,
});

const strategy = shape({ strategy: str, version: str });

export const MODELS = shape({ active: strategy, models: listOf(shape({ version: str })) });

export const STRATEGY = strategy;

export const TOPIC_STATS = shape({ topic: str, partitions: count, messages: count, groups: { type: "array" } });

export const HEALTH = shape({ status: str, services: listOf(str) });

/** Health while not ready: the same figures, or the gateway's own "starting" error before its routes exist. */
export const HEALTH_NOT_READY: OpenApiSchema = { anyOf: [HEALTH, ERROR_SCHEMA] };

export const LIVENESS = shape({ status: str });

/** 409 of a creation whose id is taken: `data` names the field, as a validation error does. */
export const EXISTS_ALREADY = { description: "It exists already: `data` names the field", schema: VALIDATION_ERROR_SCHEMA };

export const EXCHANGE_STATUS = shape({
  exchange: str, marketData: {}, tradingMode: { type: "string", enum: ["paper", "live"] }, sandbox: bool,
  circuit: shape({ state: { type: "string", enum: ["closed", "open", "half_open"] } }), streams: { type: "array" },
});

export const OPENAPI_DOCUMENT = shape({ openapi: str, info: { type: "object" }, paths: { type: "object" } });

/** A trader's allowance, what their portfolios hold of it, and their ceilings. */
export const TRADER_BUDGET = shape({ traderId: str, allowance: decimal, used: decimal, free: decimal, ceilings: LIMITS, portfolioIds: listOf(str) });

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
