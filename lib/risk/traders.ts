/**
 * Money belongs to the operator. Each trader has an allowance, the cash they may allocate as the
 * start cash of their portfolios, and ceilings, the loosest value of each risk limit they may set.
 * Both are the operator's to set; a trader's `startCash` and limits are checked against them.
 *
 * Ceilings default to the default limits, so a trader can tighten their limits but loosen none
 * until the operator raises a ceiling. "Looser" is a larger value for every limit except
 * `minConfidence`, where it is a smaller one (its ceiling is a floor).
 */
import { dec, str, sum, type Dec } from "../decimal";
import { DEFAULT_LIMITS, LIMIT_BOUNDS, boundedDecimal, validateLimits, type LimitError } from "./rules";
import type { DecimalString, RiskLimits, TraderBudget, TraderRecord } from "../../schemas";

/** Limits where the smaller value takes more risk. */
const FLOORS: ReadonlySet<keyof RiskLimits> = new Set<keyof RiskLimits>(["minConfidence"]);

/** A trader's ceilings: the operator's, else the default limits (a trader may tighten, not loosen). */
export function ceilingsOf(record: TraderRecord | undefined): RiskLimits {
  return { ...DEFAULT_LIMITS, ...record?.ceilings };
}

export function budgetOf(traderId: string, record: TraderRecord | undefined, defaultAllowance: DecimalString, portfolios: Array<{ portfolioId: string; startCash: DecimalString }>): TraderBudget {
  const allowance = record?.allowance ?? defaultAllowance;
  const used = sum(portfolios.map((p) => p.startCash));
  return { traderId, allowance, used: str(used), free: str(dec(allowance).sub(used)), ceilings: ceilingsOf(record), portfolioIds: portfolios.map((p) => p.portfolioId) };
}

function looser(field: keyof RiskLimits, value: DecimalString | number, ceiling: DecimalString | number): boolean {
  const v = dec(value);
  return FLOORS.has(field) ? v.lt(ceiling) : v.gt(ceiling);
}

/** Every limit of `limits` that is looser than the trader's ceiling, as a 422 field error (`prefix` + field). */
export function ceilingErrors(limits: Partial<RiskLimits>, ceilings: RiskLimits, prefix = ""): LimitError[] {
  const errors: LimitError[] = [];
  for (const [field, value] of Object.entries(limits) as Array<[keyof RiskLimits, DecimalString | number]>) {
    const ceiling = ceilings[field];
    if (!looser(field, value, ceiling)) continue;
    const message = FLOORS.has(field)
      ? `${value} is below ${ceiling}, the lowest the operator allows this trader`
      : `${value} is above ${ceiling}, the ceiling the operator set for this trader`;
    errors.push({ field: `${prefix}${field}`, message });
  }
  return errors;
}

/** The default limits, tightened to the trader's ceilings where the operator set them below the defaults. */
export function limitsWithin(ceilings: RiskLimits): RiskLimits {
  const limits: Record<string, DecimalString | number> = { ...DEFAULT_LIMITS };
  for (const field of Object.keys(DEFAULT_LIMITS) as Array<keyof RiskLimits>) {
    if (looser(field, DEFAULT_LIMITS[field], ceilings[field])) limits[field] = ceilings[field];
  }
  return limits as unknown as RiskLimits;
}

/** The reason a portfolio's start cash does not fit the trader's free allowance, if it does not. */
export function startCashRefusal(startCash: DecimalString, budget: TraderBudget): string | undefined {
  if (dec(startCash).lte(budget.free)) return undefined;
  return `${startCash} exceeds the remaining allowance ${budget.free} (allowance ${budget.allowance}, ${budget.used} already allocated to the trader's portfolios)`;
}

/** An amount of cash (start cash, an allowance): within the hard bounds of every amount. */
export function amountRefusal(value: unknown): string | undefined {
  return boundedDecimal(value, LIMIT_BOUNDS.maxAmount);
}

export type TraderPatch = { allowance?: DecimalString; ceilings: Partial<RiskLimits>; cleared: Array<keyof RiskLimits> };

/**
 * Validates the operator's change of a trader: an allowance (not below what the trader's
 * portfolios already hold) and ceilings (each within the hard bounds; null restores the default).
 * Every error is reported, with its field.
 */
export function validateTraderPatch(patch: { allowance?: unknown; ceilings?: unknown }, used: Dec | DecimalString): { ok: true; change: TraderPatch } | { ok: false; errors: LimitError[] } {
  const errors: LimitError[] = [];
  const change: TraderPatch = { ceilings: {}, cleared: [] };
  if (patch.allowance !== undefined) {
    const refusal = amountRefusal(patch.allowance);
    if (refusal) errors.push({ field: "allowance", message: refusal });
    else if (dec(patch.allowance as string).lt(used)) errors.push({ field: "allowance", message: `must be at least ${str(used)}, the start cash the trader's portfolios already hold` });
    else change.allowance = str(patch.allowance as string);
  }
  if (patch.ceilings !== undefined) {
    if (typeof patch.ceilings !== "object" || patch.ceilings === null || Array.isArray(patch.ceilings)) {
      errors.push({ field: "ceilings", message: "must be an object" });
    } else {
      const entries = Object.entries(patch.ceilings);
      change.cleared = entries.filter(([field, value]) => value === null && Object.hasOwn(DEFAULT_LIMITS, field)).map(([field]) => field as keyof RiskLimits);
      const checked = validateLimits(Object.fromEntries(entries.filter(([field]) => !(change.cleared as string[]).includes(field))));
      if (checked.ok) change.ceilings = checked.limits;
      else errors.push(...checked.errors.map((e) => ({ ...e, field: `ceilings.${e.field}` })));
    }
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, change };
}

/**
 * In live trading every portfolio spends from the one exchange account: the money handed out (the
 * traders' allowances and the operator's portfolios' start cash) must be there. Headroom = free
 * quote balance − handed out; negative means more was promised than the account holds.
 */
export function fundingHeadroom(balance: DecimalString, allocated: DecimalString[]): { allocated: DecimalString; balance: DecimalString; headroom: DecimalString } {
  const total = sum(allocated);
  return { allocated: str(total), balance: str(balance), headroom: str(dec(balance).sub(total)) };
}
