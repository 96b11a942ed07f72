/**
 * Figures the views derive from a portfolio's decimal strings, with decimal.js: how far below its
 * peak it is, its return, shares of equity, open positions, a fill's value.
 */
import Decimal from "decimal.js";
import type { Fill, PortfolioSnapshot } from "./api";

type Amount = string | undefined;

/** (part / whole) as a decimal string; undefined when whole is not positive. */
export function shareOf(part: Amount, whole: Amount): string | undefined {
  if (part === undefined || whole === undefined || !new Decimal(whole).gt(0)) return undefined;
  return new Decimal(part).div(whole).toString();
}

/** How far equity is below its peak, as a fraction (0 at or above the peak). */
export function drawdownOf(peakEquity: Amount, equity: Amount): string | undefined {
  if (peakEquity === undefined || equity === undefined || !new Decimal(peakEquity).gt(0)) return undefined;
  return Decimal.max(0, new Decimal(peakEquity).sub(equity).div(peakEquity)).toString();
}

/** equity / startCash − 1. */
export function returnOf(startCash: Amount, equity: Amount): string | undefined {
  const ratio = shareOf(equity, startCash);
  return ratio === undefined ? undefined : new Decimal(ratio).sub(1).toString();
}

/** equity − dayStartEquity. */
export function dayPnlOf(dayStartEquity: Amount, equity: Amount): string | undefined {
  return dayStartEquity === undefined || equity === undefined ? undefined : new Decimal(equity).sub(dayStartEquity).toString();
}

/** Positions with a quantity (a closed position stays in the snapshot for its realized P&L). */
export function openPositions(positions: PortfolioSnapshot["positions"]): PortfolioSnapshot["positions"] {
  return positions.filter((p) => !new Decimal(p.quantity).isZero());
}

/** price × quantity of a fill. */
export function fillValue(fill: Pick<Fill, "price" | "quantity">): string {
  return new Decimal(fill.price).mul(fill.quantity).toString();
}
