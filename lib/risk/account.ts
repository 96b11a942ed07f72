/**
 * The account-wide risk gate. Every portfolio trades on the one exchange account, so besides each
 * portfolio's own limits, stage 2 checks the account as a whole:
 *   0. account_halted            the account's kill switch is on (checked before the portfolio's
 *                                rules; blocks SELLs too)
 *   after the portfolio's rules approved and sized the order:
 *   1. account_max_open_orders   working orders over all portfolios ≥ maxOpenOrders
 *   2. account_max_exposure      BUY only: Σ over all portfolios of (positions' market value +
 *                                working BUYs' remaining × price) + the order's notional > maxExposure
 * The gate is on by default: a limit the operator has not set is derived from the portfolios (see
 * accountLimitsInForce). The risk service runs the gate under one account-wide lock, so two
 * portfolios deciding at once cannot both take the last room under a limit.
 */
import { dec, str, sum } from "../decimal";
import { DEFAULT_LIMITS, boundedDecimal, integerUpTo, workingBuysValue, type LimitError, type OpenOrder, type RuleOutcome } from "./rules";
import type { AccountLimits, AccountRecord, DecimalString, Side } from "../../schemas";



/** What one portfolio contributes to the account's totals. */
export interface PortfolioUsage {
  /** Market value of its positions. */
  exposure: DecimalString;
  openOrders: OpenOrder[];
}

export interface AccountUsage {
  exposure: DecimalString;
  openOrders: number;
}

/** Bounds of the account limits: the sum over many portfolios may pass one portfolio's bounds. */
export const MAX_ACCOUNT_EXPOSURE = "1000000000000";
export const MAX_ACCOUNT_OPEN_ORDERS = 100_000;

/**
 * The limits in force: the operator's where set, else derived from the portfolios, so the gate is
 * on from the first start. maxExposure = Σ start cash of every portfolio (the account never holds
 * more in positions than the money handed out); maxOpenOrders = the default per-portfolio
 * maxOpenOrders × the number of portfolios.
 */
export function accountLimitsInForce(set: AccountLimits, portfolios: Array<{ startCash: DecimalString }>): Required<AccountLimits> {
  return {
    maxExposure: set.maxExposure ?? str(sum(portfolios.map((p) => p.startCash))),
    maxOpenOrders: set.maxOpenOrders ?? DEFAULT_LIMITS.maxOpenOrders * portfolios.length,
  };
}

export function accountUsage(portfolios: PortfolioUsage[]): AccountUsage {
  return {
    exposure: str(sum(portfolios.flatMap((p) => [p.exposure, workingBuysValue(p.openOrders)]))),
    openOrders: portfolios.reduce((n, p) => n + p.openOrders.length, 0),
  };
}

export function accountHalt(account: AccountRecord): RuleOutcome {
  return account.halted ? { pass: false, reason: "account_halted", detail: `the account is halted${account.haltReason ? ` (${account.haltReason})` : ""}` } : { pass: true };
}

/** The gate on an order the portfolio's rules approved. */
export function accountRules(input: { limits: AccountLimits; usage: AccountUsage; order: { side: Side; notional: DecimalString } }): RuleOutcome {
  const { limits, usage, order } = input;
  if (limits.maxOpenOrders !== undefined && usage.openOrders >= limits.maxOpenOrders) {
    return { pass: false, reason: "account_max_open_orders", detail: `${usage.openOrders} open orders on the account, limit ${limits.maxOpenOrders}` };
  }
  if (order.side === "BUY" && limits.maxExposure !== undefined) {
    const exposure = dec(usage.exposure).add(order.notional);
    if (exposure.gt(limits.maxExposure)) {
      return { pass: false, reason: "account_max_exposure", detail: `account exposure would be ${str(exposure)} > ${limits.maxExposure}` };
    }
  }
  return { pass: true };
}

/**
 * Validates a partial update of the account limits; null returns a limit to its derived default.
 * Every error is reported. Accepted decimals come back canonical.
 */
export function validateAccountLimits(patch: unknown): { ok: true; set: AccountLimits; cleared: Array<keyof AccountLimits> } | { ok: false; errors: LimitError[] } {
  if (typeof patch !== "object" || patch === null || Array.isArray(patch)) return { ok: false, errors: [{ field: "limits", message: "must be an object" }] };
  const errors: LimitError[] = [];
  const set: AccountLimits = {};
  const cleared: Array<keyof AccountLimits> = [];
  for (const [field, value] of Object.entries(patch)) {
    if (field !== "maxExposure" && field !== "maxOpenOrders") {
      errors.push({ field, message: "is not an account limit" });
    } else if (value === null) {
      cleared.push(field);
    } else if (field === "maxExposure") {
      const refusal = boundedDecimal(value, MAX_ACCOUNT_EXPOSURE);
      if (refusal) errors.push({ field, message: `${refusal}, or null for the derived default` });
      else set.maxExposure = str(value as string);
    } else {
      const refusal = integerUpTo(0, MAX_ACCOUNT_OPEN_ORDERS)(value);
      if (refusal) errors.push({ field, message: `${refusal}, or null for the derived default` });
      else set.maxOpenOrders = value as number;
    }
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, set, cleared };
}
