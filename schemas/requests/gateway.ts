/** The gateway's action params: fastest-validator rules, from which lib/openapi.ts derives the request schemas. */
import { PORTFOLIO_ID } from "../../lib/auth";
import { EQUITY_POINTS_KEPT } from "../../lib/risk/equity-history";

export const GATEWAY_PARAMS = {
  equity: {
    id: { type: "string", pattern: PORTFOLIO_ID, empty: false },
    limit: { type: "number", integer: true, positive: true, max: EQUITY_POINTS_KEPT, optional: true, convert: true },
  },
} as const;
