/** Payloads of the market-data topics: `instrument.registered`, `market.raw.data`, `features.indicators`. */
import { arrayOf, decimal, epochMs, instrumentKey, object, oneOfKind, side, text, type JsonSchema } from "../json-schema";

const marketInfo = object({
  exchange: text,
  symbol: text,
  base: text,
  quote: text,
  tickSize: decimal,
  lotSize: decimal,
  minQuantity: decimal,
  minNotional: decimal,
  makerFee: decimal,
  takerFee: decimal,
});

export const instrumentRegisteredV1 = object(
  {
    instrumentKey,
    exchange: text,
    symbol: text,
    portfolioIds: arrayOf(text),
    status: { type: "string", enum: ["active", "removed"] },
    market: marketInfo,
    changedAt: epochMs,
  },
  ["market"],
);

const eventBase = { instrumentKey, exchange: text, symbol: text, time: epochMs, receivedAt: epochMs };
const bookLevel: JsonSchema = { type: "array", items: [decimal, decimal], minItems: 2, maxItems: 2 };

export const marketRawDataV1 = oneOfKind([
  object({ kind: { const: "trade" }, ...eventBase, tradeId: text, price: decimal, quantity: decimal, takerSide: side }),
  object({
    kind: { const: "ticker" },
    ...eventBase,
    bid: decimal,
    ask: decimal,
    last: decimal,
    bidQuantity: decimal,
    askQuantity: decimal,
  }),
  object({
    kind: { const: "candle" },
    ...eventBase,
    timeframe: { type: "string", enum: ["1m"] },
    openTime: epochMs,
    closeTime: epochMs,
    open: decimal,
    high: decimal,
    low: decimal,
    close: decimal,
    volume: decimal,
    tradeCount: { type: "integer", minimum: 0 },
    closed: { type: "boolean" },
  }),
  object({ kind: { const: "book" }, ...eventBase, bids: arrayOf(bookLevel, 100), asks: arrayOf(bookLevel, 100) }),
]);

const number: JsonSchema = { type: "number" };
export const featureVector = object({
  close: number,
  return1: number,
  rsi14: number,
  macd: number,
  macdSignal: number,
  macdHistogram: number,
  bbUpper: number,
  bbMiddle: number,
  bbLower: number,
  bbPercentB: number,
  atr14: number,
  ema12: number,
  ema26: number,
  sma20: number,
  realizedVolatility: number,
});

export const featuresIndicatorsV1 = object({
  instrumentKey,
  exchange: text,
  symbol: text,
  timeframe: { type: "string", enum: ["1m"] },
  openTime: epochMs,
  closeTime: epochMs,
  close: decimal,
  features: featureVector,
  receivedAt: epochMs,
});
