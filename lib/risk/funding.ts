/**
 * Live trading's funding check: the money handed out (each trader's allowance and the operator's
 * portfolios' start cash) against what the exchange account holds. Paper trading checks nothing.
 */
import type { Clock } from "../clock";
import type { PlatformConfig } from "../config";
import { dec } from "../decimal";
import { invalidField } from "../errors";
import { fundingHeadroom } from "./traders";
import type { Funding } from "../../schemas";

/** The currency of START_CASH and of the allowances: what the exchange account must hold in live trading. */
const FUNDING_CURRENCY = "USDT";


export interface FundingDeps {
  clock: Clock;
  tradingMode: PlatformConfig["tradingMode"];
  /** The exchange account's total balance of a currency, asked of the exchange now. */
  balanceOf(currency: string): Promise<string>;
  log: { warn(message: string): void; error(message: string): void };
}

export class FundingCheck {
  /** The last check of what is handed out against the account's balance (live trading only). */
  last?: Funding;

  constructor(private readonly deps: FundingDeps) {}

  /** Checks again for what is handed out now; logs an error when the account holds less. */
  async refresh(allocated: string[]): Promise<void> {
    if (this.deps.tradingMode !== "live") return;
    try {
      this.last = await this.check(allocated);
    } catch (err) {
      this.deps.log.warn(`exchange account balance unknown, funding not checked: ${(err as Error).message}`);
      return;
    }
    if (dec(this.last.headroom).isNegative()) {
      this.deps.log.error(`${this.last.allocated} ${FUNDING_CURRENCY} handed out (allowances and the operator's portfolios) but the exchange account holds ${this.last.balance}: lower allowances or fund the account`);
    }
  }

  /** 422 on `field` when handing out `allocated` would be more than the account holds. */
  async require(field: string, value: string, allocated: string[]): Promise<void> {
    if (this.deps.tradingMode !== "live") return;
    const funding = await this.check(allocated);
    if (dec(funding.headroom).isNegative()) {
      throw invalidField(field, `would hand out ${funding.allocated} ${FUNDING_CURRENCY} in all, more than the exchange account's ${funding.balance} ${FUNDING_CURRENCY}`, value, { balance: funding.balance, allocated: funding.allocated });
    }
    this.last = funding;
  }

  private async check(allocated: string[]): Promise<Funding> {
    const total = await this.deps.balanceOf(FUNDING_CURRENCY);
    return { currency: FUNDING_CURRENCY, ...fundingHeadroom(total, allocated), checkedAt: this.deps.clock.now() };
  }
}
