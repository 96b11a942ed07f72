/**
 * The Risk view's limits form. The inputs are text; the patch sends only the fields that changed,
 * numbers where the API expects numbers, and anything that does not parse as it was typed, so the
 * API's validation (the one set of rules) names the field and the reason.
 */
import type { RiskLimits } from "./api";

type LimitKind = "amount" | "fraction" | "integer" | "unit" | "milliseconds";

export interface LimitField {
  key: keyof RiskLimits;
  label: string;
  hint: string;
  kind: LimitKind;
}

const FIELDS: { [K in keyof RiskLimits]: Omit<LimitField, "key"> } = {
  orderNotional: { label: "Order size", hint: "Quote amount of each BUY", kind: "amount" },
  maxOrderNotional: { label: "Max order value", hint: "Largest single order, quote amount", kind: "amount" },
  maxPositionNotional: { label: "Max position value", hint: "Per instrument, quote amount", kind: "amount" },
  maxExposure: { label: "Max exposure", hint: "Positions and open BUYs as a multiple of equity", kind: "fraction" },
  maxOpenOrders: { label: "Max open orders", hint: "Working orders at once", kind: "integer" },
  dailyLossLimit: { label: "Daily loss limit", hint: "Quote amount lost since the day started", kind: "amount" },
  maxDrawdown: { label: "Max drawdown", hint: "Fraction of peak equity, in (0, 1]; halts when crossed", kind: "fraction" },
  minConfidence: { label: "Min confidence", hint: "Signals below it are rejected, in [0, 1]", kind: "unit" },
  maxDataAgeMs: { label: "Max data age (ms)", hint: "Older market data is stale", kind: "milliseconds" },
};

export const LIMIT_FIELDS: LimitField[] = (Object.keys(FIELDS) as Array<keyof RiskLimits>).map((key) => ({ key, ...FIELDS[key] }));

/** Fields the API takes as JSON numbers rather than decimal strings. */
const NUMERIC: ReadonlySet<LimitKind> = new Set(["integer", "unit", "milliseconds"]);
const NUMBER_RE = /^-?[0-9]+(\.[0-9]+)?$/;

export type LimitsDraft = Record<keyof RiskLimits, string>;
export type LimitsPatch = Partial<Record<keyof RiskLimits, string | number>>;

export function limitsDraft(limits: RiskLimits): LimitsDraft {
  return Object.fromEntries(LIMIT_FIELDS.map((f) => [f.key, String(limits[f.key])])) as LimitsDraft;
}

export function limitsPatch(current: RiskLimits, draft: LimitsDraft): LimitsPatch {
  const patch: LimitsPatch = {};
  for (const field of LIMIT_FIELDS) {
    const typed = draft[field.key].trim();
    if (typed === String(current[field.key])) continue;
    patch[field.key] = NUMERIC.has(field.kind) && NUMBER_RE.test(typed) ? Number(typed) : typed;
  }
  return patch;
}
