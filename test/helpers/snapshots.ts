/** Hand-made `portfolio.updated` snapshots for the tests of what consumes them. */
import type { PortfolioSnapshot } from "../../schemas";

/** A fresh portfolio of 10000 USDT, flat and not halted, unless overridden. */
export function portfolioSnapshot(portfolioId: string, overrides: Partial<PortfolioSnapshot> = {}): PortfolioSnapshot {
  return {
    portfolioId, cash: "10000", equity: "10000", realizedPnl: "0", unrealizedPnl: "0", fees: "0", exposure: "0", halted: false,
    openOrders: 0, positions: [], cause: "created", updatedAt: 1_700_000_000_000, ...overrides,
  };
}
