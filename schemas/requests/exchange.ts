/** The exchange service's action params: fastest-validator rules, from which lib/openapi.ts derives the request schemas. */
const instrumentKey = { type: "string", pattern: /^[a-z0-9_-]+:[A-Z0-9]+\/[A-Z0-9]+$/, empty: false } as const;
const clientOrderId = { type: "string", empty: false } as const;
const decimal = { type: "string", pattern: /^[0-9]+(\.[0-9]+)?$/ } as const;

export const EXCHANGE_PARAMS = {
  market: { instrumentKey },
  balance: { currency: { type: "string", pattern: /^[A-Z0-9]{2,12}$/ } },
  candles: { instrumentKey, limit: { type: "number", integer: true, positive: true, max: 5000, convert: true } },
  startMarketDataStream: { instrumentKey },
  stopMarketDataStream: { instrumentKey },
  placeOrder: {
    clientOrderId: { ...clientOrderId, max: 36 },
    portfolioId: { type: "string", empty: false },
    instrumentKey,
    side: { type: "enum", values: ["BUY", "SELL"] },
    type: { type: "enum", values: ["market", "limit"] },
    quantity: decimal,
    price: { ...decimal, optional: true },
    timeInForce: { type: "enum", values: ["GTC", "IOC"], optional: true },
  },
  cancelOrder: { clientOrderId },
  getOrder: { clientOrderId },
  executionsSince: { since: { type: "number", integer: true, min: 0, convert: true } },
} as const;
