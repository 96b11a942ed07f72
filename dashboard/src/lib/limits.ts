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

export type TraderDraft = { allowance: string; ceilings: LimitsDraft };

/** The operator's form of one trader's budget: the allowance and a ceiling per limit, as typed. */
export function traderDraft(budget: { allowance: string; ceilings: RiskLimits }): TraderDraft {
  return { allowance: budget.allowance, ceilings: limitsDraft(budget.ceilings) };
}

/** Only what changed: the allowance as typed, the ceilings as the limits patch sends them. */
export function traderPatch(current: { allowance: string; ceilings: RiskLimits }, draft: TraderDraft): { allowance?: string; ceilings?: LimitsPatch } {
  const allowance = draft.allowance.trim();
  const ceilings = limitsPatch(current.ceilings, draft.ceilings);
  return { ...(allowance !== current.allowance && { allowance }), ...(Object.keys(ceilings).length > 0 && { ceilings }) };
}

/** The API names a ceiling's field `ceilings.<limit>`: the form's errors per input, allowance and each ceiling. */
export function traderFieldErrors(fields: Record<string, string>): { allowance?: string; ceilings: Record<string, string> } {
  const ceilings: Record<string, string> = {};
  for (const [field, message] of Object.entries(fields)) if (field.startsWith("ceilings.")) ceilings[field.slice("ceilings.".length)] = message;
  return { ...(fields.allowance !== undefined && { allowance: fields.allowance }), ceilings };
}
