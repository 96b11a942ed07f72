/** Payloads of the signal and decision topics. */
import { decimal, epochMs, instrumentKey, object, side, text, type JsonSchema } from "../json-schema";
import { featureVector } from "./market";

export const tradingSignalV1 = object({
  signalId: text,
  instrumentKey,
  exchange: text,
  symbol: text,
  action: { type: "string", enum: ["BUY", "SELL", "HOLD"] },
  strategy: text,
  modelVersion: text,
  confidence: { type: "number", minimum: 0, maximum: 1 },
  price: decimal,
  features: featureVector,
  marketTime: epochMs,
  receivedAt: epochMs,
});

export const portfolioSignalV1 = object({ portfolioId: text, riskKey: text, signal: tradingSignalV1 });

const decisionBase = {
  decisionId: text,
  riskKey: text,
  portfolioId: text,
  instrumentKey,
  signalId: text,
  strategy: text,
  modelVersion: text,
  confidence: { type: "number", minimum: 0, maximum: 1 } as JsonSchema,
  receivedAt: epochMs,
  decidedAt: epochMs,
};

export const tradeApprovedV1 = object({
  ...decisionBase,
  clientOrderId: text,
  side,
  type: { type: "string", enum: ["market", "limit"] },
  quantity: decimal,
  price: decimal,
  notional: decimal,
});

const rejectReason: JsonSchema = { type: "string", pattern: "^[a-z_]+$" };

const tradeRejectedFields: Record<string, JsonSchema> = {
  ...decisionBase,
  action: { type: "string", enum: ["BUY", "SELL"] },
  reason: rejectReason,
  detail: { type: "string", maxLength: 500 },
};

export const tradeRejectedV1 = object(tradeRejectedFields);

/** v2 adds the risk stage (1 instrument, 2 portfolio) that refused the trade; optional, so v1 data still reads. */
export const tradeRejectedV2 = object({ ...tradeRejectedFields, stage: { type: "integer", enum: [1, 2] } }, ["stage"]);
