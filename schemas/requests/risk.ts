/** The risk service's action params: fastest-validator rules, from which lib/openapi.ts derives the request schemas. */
import { MISSING_FILLS_MAX } from "..";
import { PORTFOLIO_ID, TRADER_ID } from "../../lib/auth";
import { MONEY_AMOUNT } from "../../lib/decimal";

const portfolioId = { type: "string", pattern: PORTFOLIO_ID, empty: false } as const;
const traderId = { type: "string", pattern: TRADER_ID } as const;
const page = {
  limit: { type: "number", integer: true, positive: true, max: 1000, optional: true, convert: true },
  offset: { type: "number", integer: true, min: 0, max: 1_000_000, optional: true, convert: true },
} as const;
const reason = { type: "string", max: 200, optional: true } as const;

export const RISK_PARAMS = {
  setAccountLimits: { $$strict: false },
  haltAccount: { reason },
  getTrader: { id: traderId },
  setTrader: {
    id: traderId,
    allowance: { type: "string", pattern: /^[0-9]+(\.[0-9]+)?$/, max: 40, optional: true },
    ceilings: { type: "object", optional: true },
  },
  provisionTrader: { traderId },
  registerInstrument: {
    exchange: { type: "string", pattern: /^[a-z0-9_-]{2,32}$/, empty: false },
    symbol: { type: "string", pattern: /^[A-Z0-9]{2,12}\/[A-Z0-9]{2,12}$/, empty: false },
    portfolioId: { ...portfolioId, optional: true },
  },
  unregisterInstrument: { instrumentKey: { type: "string", empty: false, max: 100 }, portfolioId: { ...portfolioId, optional: true } },
  createPortfolio: {
    id: portfolioId,
    name: { type: "string", max: 100, optional: true },
    startCash: { type: "string", pattern: MONEY_AMOUNT, max: 40, optional: true },
    limits: { type: "object", optional: true },
  },
  getPortfolio: { id: portfolioId },
  setLimits: { id: portfolioId, $$strict: false },
  halt: { id: portfolioId, reason },
  resume: { id: portfolioId },
  listOrders: { id: portfolioId, status: { type: "string", optional: true }, ...page },
  listFills: { id: portfolioId, ...page },
  missingFills: { fillIds: { type: "array", items: { type: "string", empty: false }, max: MISSING_FILLS_MAX } },
  listDecisions: {
    id: portfolioId,
    outcome: { type: "enum", values: ["approved", "rejected"], optional: true },
    reason: { type: "string", optional: true },
    ...page,
  },
} as const;
