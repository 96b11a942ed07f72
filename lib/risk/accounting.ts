/**
 * Portfolio accounting as pure functions: spot, long-only, average-cost method.
 *
 * A position keeps its quantity and its cost basis: what the units held cost in the quote currency.
 * - BUY: cash -= qty × price; quantity += qty; costBasis += qty × price. Fees are never part of the
 *   cost: they are tracked in `fees` and reduce cash (quote fee) or the position (base fee).
 * - SELL: cash += qty × price; the units sold release costBasis × qty / held (all of it when the
 *   position closes); realizedPnl += qty × price − released; quantity -= qty.
 * - Fee in the quote currency: cash -= fee; fees += fee.
 * - Fee in the base currency: after the trade, the fee units are disposed of at the fill price:
 *   quantity -= fee; fees += fee × price; they release their share of the cost like a sale, and
 *   realizedPnl += fee × price − released.
 * - averageCost = costBasis / quantity (0 for a closed position): a derived figure.
 * - A non-zero fee in any other currency throws: the accounting has no price to value it with.
 * - Selling (quantity plus a base fee) more than is held throws: the accounting never invents a short.
 *   So does a fill with a price or quantity ≤ 0 or a negative fee.
 * - Portfolio-level realizedPnl and fees are the sums of the positions' ones.
 *
 * Precision: quantities are never rounded (they are sums of fill quantities and base fees, exact as
 * the venue reports them). Every quote-currency figure, start cash included, is rounded once, half to
 * even, to MONEY_SCALE places where it is computed (lib/decimal.ts `money`, `moneyProduct`) and is
 * kept and served as is; totals are sums of rounded figures, so they are exact. Hence the books
 * reconcile to the last digit:
 *   cash − startCash + Σ costBasis = realizedPnl − fees, and
 *   equity = cash + Σ marketValue = startCash + realizedPnl + unrealizedPnl − fees,
 * and replaying the fills reproduces every figure.
 */
import { Dec, dec, money, moneyProduct, str, sum } from "../decimal";
import type { DecimalString, Fill } from "../../schemas";

export interface Position {
  instrumentKey: string;
  quantity: DecimalString;
  /** Quote-currency cost of the units held; 0 when flat. */
  costBasis: DecimalString;
  /** costBasis / quantity at MONEY_SCALE places; 0 when flat. */
  averageCost: DecimalString;
  realizedPnl: DecimalString;
  fees: DecimalString;
}

export interface PortfolioBook {
  portfolioId: string;
  startCash: DecimalString;
  cash: DecimalString;
  realizedPnl: DecimalString;
  fees: DecimalString;
  positions: Record<string, Position>;
  fillCount: number;
  lastFillTime?: number;
}

export interface MarketCurrencies {
  base: string;
  quote: string;
}

export interface ValuedPosition extends Position {
  markPrice: DecimalString;
  marketValue: DecimalString;
  unrealizedPnl: DecimalString;
}

export interface Valuation {
  equity: DecimalString;
  cash: DecimalString;
  unrealizedPnl: DecimalString;
  realizedPnl: DecimalString;
  fees: DecimalString;
  /** Σ |marketValue|. */
  exposure: DecimalString;
  /** Sorted by instrumentKey. */
  positions: ValuedPosition[];
}

export function emptyBook(portfolioId: string, startCash: DecimalString): PortfolioBook {
  return {
    portfolioId,
    startCash: str(money(startCash)),
    cash: str(money(startCash)),
    realizedPnl: "0",
    fees: "0",
    positions: {},
    fillCount: 0,
  };
}

/** Applies one fill and returns a new book; `book` is left untouched. */
export function applyFill(book: PortfolioBook, fill: Fill, market: MarketCurrencies): PortfolioBook {
  const price = dec(fill.price);
  const qty = dec(fill.quantity);
  const fee = dec(fill.fee);
  if (!price.gt(0) || !qty.gt(0) || fee.isNegative()) {
    throw new Error(`fill ${fill.fillId}: price and quantity must be positive and the fee not negative`);
  }
  const feeInBase = !fee.isZero() && fill.feeCurrency === market.base;
  const feeInQuote = !fee.isZero() && fill.feeCurrency === market.quote;
  if (!fee.isZero() && !feeInBase && !feeInQuote) {
    throw new Error(`fill ${fill.fillId}: fee currency ${fill.feeCurrency} is neither ${market.base} nor ${market.quote}`);
  }

  const previous = book.positions[fill.instrumentKey];
  const held = dec(previous?.quantity ?? 0);
  const afterTrade = fill.side === "BUY" ? held.add(qty) : held.sub(qty);
  const quantity = feeInBase ? afterTrade.sub(fee) : afterTrade;
  if (quantity.isNegative()) {
    throw new Error(
      `fill ${fill.fillId}: ${fill.side} of ${str(qty)} (fee ${str(fee)} ${fill.feeCurrency}) exceeds the ${str(held)} held of ${fill.instrumentKey}`,
    );
  }

  const notional = moneyProduct(qty, price);
  let costBasis = dec(previous?.costBasis ?? 0);
  let realizedDelta = new Dec(0);
  let cashDelta: Dec;
  if (fill.side === "BUY") {
    costBasis = costBasis.add(notional);
    cashDelta = notional.neg();
  } else {
    const released = releasedCost(costBasis, qty, held);
    costBasis = costBasis.sub(released);
    realizedDelta = notional.sub(released);
    cashDelta = notional;
  }

  let feeValue = new Dec(0);
  if (feeInQuote) {
    feeValue = money(fee);
    cashDelta = cashDelta.sub(feeValue);
  } else if (feeInBase) {
    feeValue = moneyProduct(fee, price);
    const released = releasedCost(costBasis, fee, afterTrade);
    costBasis = costBasis.sub(released);
    realizedDelta = realizedDelta.add(feeValue.sub(released));
  }

  const position: Position = {
    instrumentKey: fill.instrumentKey,
    quantity: str(quantity),
    costBasis: str(costBasis),
    averageCost: quantity.isZero() ? "0" : str(moneyProduct(costBasis, 1, quantity)),
    realizedPnl: str(dec(previous?.realizedPnl ?? 0).add(realizedDelta)),
    fees: str(dec(previous?.fees ?? 0).add(feeValue)),
  };
  const positions = { ...book.positions, [fill.instrumentKey]: position };
  return {
    ...book,
    cash: str(dec(book.cash).add(cashDelta)),
    realizedPnl: str(sum(Object.values(positions).map((p) => p.realizedPnl))),
    fees: str(sum(Object.values(positions).map((p) => p.fees))),
    positions,
    fillCount: book.fillCount + 1,
    lastFillTime: Math.max(book.lastFillTime ?? fill.time, fill.time),
  };
}

/** The share of `costBasis` carried by `units` of the `held` units; all of it when they are all of them. */
function releasedCost(costBasis: Dec, units: Dec, held: Dec): Dec {
  return units.eq(held) ? costBasis : moneyProduct(costBasis, units, held);
}

/** Rebuilds a book from its fills, applied in (time, fillId) order whatever order they come in. */
export function replayFills(
  portfolioId: string,
  startCash: DecimalString,
  fills: Fill[],
  marketOf: (instrumentKey: string) => MarketCurrencies,
): PortfolioBook {
  // Plain code-unit comparison of fill ids: localeCompare would depend on the host's locale.
  const ordered = [...fills].sort((a, b) => a.time - b.time || (a.fillId < b.fillId ? -1 : a.fillId > b.fillId ? 1 : 0));
  return ordered.reduce((book, fill) => applyFill(book, fill, marketOf(fill.instrumentKey)), emptyBook(portfolioId, startCash));
}

/**
 * Values the book at `marks` (taken at MONEY_SCALE places). A position without a mark is valued at
 * its cost basis, so its unrealized P&L is 0 and its mark shows as its average cost.
 */
export function valueBook(book: PortfolioBook, marks: Record<string, DecimalString>): Valuation {
  const positions = Object.values(book.positions)
    .sort((a, b) => (a.instrumentKey < b.instrumentKey ? -1 : a.instrumentKey > b.instrumentKey ? 1 : 0))
    .map((position): ValuedPosition => {
      const mark = marks[position.instrumentKey];
      if (mark === undefined) {
        return { ...position, markPrice: position.averageCost, marketValue: position.costBasis, unrealizedPnl: "0" };
      }
      const markPrice = money(mark);
      const marketValue = moneyProduct(position.quantity, markPrice);
      return {
        ...position,
        markPrice: str(markPrice),
        marketValue: str(marketValue),
        unrealizedPnl: str(marketValue.sub(position.costBasis)),
      };
    });
  const marketValue = sum(positions.map((p) => p.marketValue));
  return {
    equity: str(dec(book.cash).add(marketValue)),
    cash: book.cash,
    unrealizedPnl: str(sum(positions.map((p) => p.unrealizedPnl))),
    realizedPnl: book.realizedPnl,
    fees: book.fees,
    exposure: str(sum(positions.map((p) => dec(p.marketValue).abs()))),
    positions,
  };
}
