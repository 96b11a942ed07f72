/**
 * Portfolio accounting as pure functions: spot, long-only, average-cost method.
 *
 * - BUY: cash -= qty × price; quantity += qty; averageCost = weighted average of the held units and
 *   the bought units at the fill price. Fees are never folded into the average cost: they are
 *   tracked in `fees` and reduce cash (quote fee) or the position (base fee).
 * - SELL: cash += qty × price; realizedPnl += (price − averageCost) × qty; quantity -= qty. A position
 *   that reaches zero keeps its entry (realizedPnl, fees) and its averageCost resets to 0.
 * - Fee in the quote currency: cash -= fee; fees += fee.
 * - Fee in the base currency: quantity -= fee; fees += fee × price. The fee units are disposed of at
 *   the fill price, so realizedPnl += (price − averageCost) × fee. Without that the books would not
 *   reconcile: cash + Σ qty × averageCost − startCash == realizedPnl − fees holds for both fee kinds.
 * - A non-zero fee in any other currency throws: the accounting has no price to value it with.
 * - Selling (quantity plus a base fee) more than is held throws: the accounting never invents a short.
 *   So does a fill with a price or quantity ≤ 0 or a negative fee.
 * - Portfolio-level realizedPnl and fees are the sums of the positions' ones.
 *
 * Rounding: none. Values are not rounded to ticks, lots or cents; the only inexact operation is the
 * averageCost quotient, carried at the 40 significant digits of `Dec` (as are products that use it).
 */
import { Dec, dec, str, sum } from "../decimal";
import type { DecimalString, Fill } from "../types";

export interface Position {
  instrumentKey: string;
  quantity: DecimalString;
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
  /** Σ |quantity × mark|. */
  exposure: DecimalString;
  /** Sorted by instrumentKey. */
  positions: ValuedPosition[];
}

export function emptyBook(portfolioId: string, startCash: DecimalString): PortfolioBook {
  return {
    portfolioId,
    startCash: str(startCash),
    cash: str(startCash),
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
  let averageCost = dec(previous?.averageCost ?? 0);
  let quantity: Dec;
  let cashDelta: Dec;
  let realizedDelta = new Dec(0);

  if (fill.side === "BUY") {
    quantity = held.add(qty);
    averageCost = held.mul(averageCost).add(qty.mul(price)).div(quantity);
    cashDelta = qty.mul(price).neg();
  } else {
    quantity = held.sub(qty);
    realizedDelta = price.sub(averageCost).mul(qty);
    cashDelta = qty.mul(price);
  }

  let feeDelta = new Dec(0);
  if (feeInQuote) {
    cashDelta = cashDelta.sub(fee);
    feeDelta = fee;
  } else if (feeInBase) {
    quantity = quantity.sub(fee);
    feeDelta = fee.mul(price);
    realizedDelta = realizedDelta.add(price.sub(averageCost).mul(fee));
  }

  if (quantity.isNegative()) {
    throw new Error(
      `fill ${fill.fillId}: ${fill.side} of ${str(qty)} (fee ${str(fee)} ${fill.feeCurrency}) exceeds the ${str(held)} held of ${fill.instrumentKey}`,
    );
  }
  if (quantity.isZero()) averageCost = new Dec(0);

  const position: Position = {
    instrumentKey: fill.instrumentKey,
    quantity: str(quantity),
    averageCost: str(averageCost),
    realizedPnl: str(dec(previous?.realizedPnl ?? 0).add(realizedDelta)),
    fees: str(dec(previous?.fees ?? 0).add(feeDelta)),
  };
  const positions = { ...book.positions, [fill.instrumentKey]: position };
  // Summed rather than accumulated: with 40-digit averages, running totals could drift from the sums.
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

/** Values the book at `marks`; a position without a mark is valued at its average cost. */
export function valueBook(book: PortfolioBook, marks: Record<string, DecimalString>): Valuation {
  const positions = Object.values(book.positions)
    .sort((a, b) => (a.instrumentKey < b.instrumentKey ? -1 : a.instrumentKey > b.instrumentKey ? 1 : 0))
    .map((position): ValuedPosition => {
      const quantity = dec(position.quantity);
      const mark = dec(marks[position.instrumentKey] ?? position.averageCost);
      return {
        ...position,
        markPrice: str(mark),
        marketValue: str(quantity.mul(mark)),
        unrealizedPnl: str(mark.sub(position.averageCost).mul(quantity)),
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
