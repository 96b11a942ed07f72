/** The ingestion service's action params: fastest-validator rules, from which lib/openapi.ts derives the request schemas. */
import { TIMEFRAMES } from "../../lib/marketdata/types";

const instrument = { type: "string", empty: false } as const;
const limit = { type: "number", integer: true, positive: true, max: 5000, optional: true, convert: true } as const;
/** An open time in epoch ms, up to the latest a Date can hold (larger numbers are no exact integers). */
const before = { type: "number", integer: true, min: 0, max: 8_640_000_000_000_000, optional: true, convert: true } as const;
const after = before;
/** Candles and indicators of this timeframe, derived from the stored 1-minute rows ("1m" by default). */
const timeframe = { type: "enum", values: [...TIMEFRAMES], optional: true } as const;

export const INGESTION_PARAMS = {
  candles: { instrument, timeframe, limit, before, after },
  indicators: { instrument, timeframe, limit, before, after },
  coverage: { instrument: { ...instrument, optional: true } },
  storeIndicators: { rows: { type: "array", items: "object" } },
  trades: { instrument, limit },
  book: { instrument },
} as const;
