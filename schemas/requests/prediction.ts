/** The prediction service's action params: fastest-validator rules, from which lib/openapi.ts derives the request schemas. */
import { SIGNALS_KEPT } from "../../lib/strategies/signals";

export const PREDICTION_PARAMS = {
  signals: {
    instrument: { type: "string", empty: false },
    limit: { type: "number", integer: true, positive: true, max: SIGNALS_KEPT, optional: true, convert: true },
  },
  reload: { strategy: { type: "enum", values: ["rule", "lstm"], optional: true }, version: { type: "string", optional: true } },
} as const;
