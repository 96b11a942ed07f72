/**
 * The account-wide gate over all portfolios: the operator's kill switch and limits, and the check that
 * admits an approved order only if the account's exposure and open orders stay within them.
 */
import type { Clock } from "../clock";
import { invalidFields } from "../errors";
import type { KeyedMutex } from "../keyed-mutex";
import { accountLimitsInForce, accountRules, accountUsage, validateAccountLimits, type AccountUsage } from "./account";
import type { FundingCheck } from "./funding";
import type { Portfolios } from "./portfolios";
import type { RuleOutcome } from "./rules";
import type { RecordStore } from "./stores";
import type { AccountLimits, AccountRecord, AccountView, Side } from "../../schemas";

/** The lock of the account-wide gate; portfolio locks are taken before it, never after. */
const ACCOUNT_LOCK = "account:gate";
/** The one account record's id. */
const ACCOUNT_ID = "account";

/** The account as GET /api/account shows it: the operator's settings, the limits in force and the usage. */

export interface AccountGateDeps {
  store: RecordStore<AccountRecord>;
  clock: Clock;
  locks: KeyedMutex;
  portfolios: Portfolios;
  funding: FundingCheck;
}

export class AccountGate {
  private record: AccountRecord = { halted: false, limits: {}, updatedAt: 0 };

  constructor(private readonly deps: AccountGateDeps) {}

  async load(): Promise<void> {
    this.record = (await this.deps.store.get(ACCOUNT_ID)) ?? { halted: false, limits: {}, updatedAt: this.deps.clock.now() };
  }

  get current(): AccountRecord {
    return this.record;
  }

  /** The view, after asking the exchange again for its balance in live trading. */
  async refreshedView(): Promise<AccountView> {
    await this.deps.funding.refresh(this.deps.portfolios.allocations());
    return this.view();
  }

  view(): AccountView {
    const { funding } = this.deps;
    return { ...this.record, effectiveLimits: this.limits(), ...this.usageAt(this.deps.portfolios.marks), ...(funding.last && { funding: funding.last }) };
  }

  /** Sets or clears (null) the operator's limits; 422 naming the fields at fault. */
  setLimits(patch: unknown): Promise<AccountView> {
    const checked = validateAccountLimits(patch);
    if (!checked.ok) throw invalidFields("invalid account limits", checked.errors);
    const limits = { ...this.record.limits, ...checked.set };
    for (const field of checked.cleared) delete limits[field];
    return this.save({ limits });
  }

  setHalted(halted: boolean, reason?: string): Promise<AccountView> {
    return this.save(halted ? { halted, haltReason: reason ?? "manual" } : { halted });
  }

  /**
   * Under the account lock, admits the order if the account's limits allow it and records it in the
   * same step: the next decision, of any portfolio, already counts this order.
   */
  admit(order: { side: Side; notional: string }, marks: Record<string, string>, record: () => Promise<void>): Promise<RuleOutcome> {
    return this.deps.locks.run(ACCOUNT_LOCK, async () => {
      const verdict = accountRules({ limits: this.limits(), usage: this.usageAt(marks), order });
      if (verdict.pass) await record();
      return verdict;
    });
  }

  /** The account limits in force: the operator's, else derived from the portfolios' start cash and count. */
  private limits(): Required<AccountLimits> {
    return accountLimitsInForce(this.record.limits, this.deps.portfolios.all().map((p) => p.record));
  }

  /** The account's usage over all portfolios, valued at these marks. */
  private usageAt(marks: Record<string, string>): AccountUsage {
    return accountUsage(this.deps.portfolios.all().map((p) => ({ exposure: p.value(marks).exposure, openOrders: p.openOrders() })));
  }

  private save(change: Partial<AccountRecord>): Promise<AccountView> {
    return this.deps.locks.run(ACCOUNT_LOCK, async () => {
      const next: AccountRecord = { ...this.record, ...change, updatedAt: this.deps.clock.now() };
      if (!next.halted) delete next.haltReason;
      await this.deps.store.put(ACCOUNT_ID, next);
      this.record = next;
      return this.view();
    });
  }
}
