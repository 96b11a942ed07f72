/**
 * The performance metrics of a backtest, from its equity series, its closed round-trip trades, the
 * time a position was open and the buy-and-hold prices. Pure: no clock, no broker.
 *
 * Definitions follow empyrical (the library Quantopian's pyfolio uses), so the reference values in
 * test/fixtures/backtest-metrics/ come from it (scripts/reference/make-backtest-metrics-fixtures.py):
 * - period returns r_i = equity_i / equity_{i-1} − 1 between consecutive samples; the samples are
 *   evenly spaced and the periods per year are 365 days / the sampling interval;
 * - annualised volatility = sample standard deviation (n − 1) of r × √periodsPerYear;
 * - Sharpe = mean(r) / std(r) × √periodsPerYear, risk-free rate 0;
 * - Sortino = mean(r) × periodsPerYear / downside deviation, the downside deviation being
 *   √(mean over all periods of min(r, 0)²) × √periodsPerYear (target return 0);
 * - CAGR = (final equity / start cash)^(1 / years) − 1, years = range length / 365 days;
 * - Calmar = CAGR / max drawdown.
 *
 * A ratio that would divide by zero (no volatility, no downside, no drawdown, no losing trade, no
 * trade) is null, never NaN or Infinity.
 */
import { Dec, dec, money, str, sum } from "../decimal";

const YEAR_MS = 365 * 24 * 60 * 60 * 1000;

export interface EquitySample {
  /** Epoch ms. */
  time: number;
  /** Equity in the quote currency, a decimal string. */
  equity: string;
}

export interface ClosedTrade {
  instrument: string;
  entryTime: number;
  exitTime: number;
  /** Realized P&L net of fees and slippage, decimal string. */
  pnl: string;
  /** Fees paid on entry and exit, decimal string. */
  fees: string;
  /** Slippage paid on entry and exit (against the reference price), decimal string. */
  slippage: string;
}

export interface TimeInterval {
  /** Epoch ms, inclusive. */
  start: number;
  /** Epoch ms, exclusive. */
  end: number;
}

export interface BuyAndHoldPrices {
  instrument: string;
  /** Close of the first candle of the range, decimal string. */
  firstClose: string;
  /** Close of the last candle of the range, decimal string. */
  lastClose: string;
}

export interface MetricsInput {
  /** Evenly spaced samples; the first at the start of the range (equity = start cash there). */
  equity: EquitySample[];
  trades: ClosedTrade[];
  /** Decimal string. */
  startCash: string;
  range: TimeInterval;
  /** The intervals with a position open (any instrument); they may overlap. */
  openIntervals: TimeInterval[];
  buyAndHold: BuyAndHoldPrices[];
}

/** Fractions are plain numbers (0.12 = 12 %); money is a quote-currency decimal string. */
export interface BacktestMetrics {
  /** Final equity / start cash − 1. */
  totalReturn: number;
  /** Compound annual growth rate over a 365-day year; −1 when the equity ends at or below zero. */
  cagr: number;
  /** Annualised; null with fewer than two period returns. */
  annualVolatility: number | null;
  sharpe: number | null;
  sortino: number | null;
  calmar: number | null;
  /** Largest fall from a running peak, as a positive fraction of that peak (0 with none). */
  maxDrawdown: number;
  /** Ms from the peak before the largest drawdown to the recovery of that peak, or to the end of the range. */
  maxDrawdownDurationMs: number;
  /** Gross profit / gross loss of the trades; null without a losing trade. */
  profitFactor: number | null;
  /** Share of trades with a positive P&L; null without trades. */
  winRate: number | null;
  /**
   * Expected P&L per unit of average loss: (1 + average win / average loss) × win rate − 1 (the
   * expectancy ratio Freqtrade reports; its money expectancy is the average trade); null without a
   * losing trade.
   */
  expectancy: number | null;
  /** Mean P&L per trade (money); null without trades. */
  averageTrade: string | null;
  bestTrade: string | null;
  worstTrade: string | null;
  /** Share of the range with at least one position open. */
  exposureTime: number;
  numberOfTrades: number;
  feesPaid: string;
  slippagePaid: string;
  /** Mean of the instruments' last close / first close − 1 (equal allocation at the start); null without instruments. */
  buyAndHoldReturn: number | null;
}

export function computeMetrics(input: MetricsInput): BacktestMetrics {
  const { equity, trades, range } = input;
  if (equity.length === 0) throw new RangeError("computeMetrics: the equity series is empty");
  if (!(range.end > range.start)) throw new RangeError("computeMetrics: the range must end after it starts");
  const startCash = dec(input.startCash);
  if (!startCash.gt(0)) throw new RangeError("computeMetrics: start cash must be positive");

  // A return from a zero or negative equity means nothing: only the last sample may be wiped out.
  const broke = equity.findIndex((s) => !dec(s.equity).gt(0));
  if (broke !== -1 && broke < equity.length - 1) {
    throw new RangeError(`computeMetrics: equity must stay positive before the last sample (sample ${broke})`);
  }
  const finalEquity = dec(equity[equity.length - 1].equity);
  const totalReturn = finalEquity.div(startCash).sub(1).toNumber();
  const years = (range.end - range.start) / YEAR_MS;
  const cagr = finalEquity.lte(0) ? -1 : Math.pow(finalEquity.div(startCash).toNumber(), 1 / years) - 1;

  const returns = periodReturns(equity);
  const periodsPerYear = equity.length > 1 ? YEAR_MS / samplingInterval(equity) : 0;
  const { annualVolatility, sharpe, sortino } = returnRatios(returns, periodsPerYear);
  const drawdown = maxDrawdown(equity, range.end);

  return {
    totalReturn,
    cagr,
    annualVolatility,
    sharpe,
    sortino,
    calmar: drawdown.depth > 0 ? cagr / drawdown.depth : null,
    maxDrawdown: drawdown.depth,
    maxDrawdownDurationMs: drawdown.durationMs,
    ...tradeStatistics(trades),
    exposureTime: coveredMs(input.openIntervals, range) / (range.end - range.start),
    numberOfTrades: trades.length,
    feesPaid: str(sum(trades.map((t) => t.fees))),
    slippagePaid: str(sum(trades.map((t) => t.slippage))),
    buyAndHoldReturn: buyAndHoldReturn(input.buyAndHold),
  };
}

function samplingInterval(equity: EquitySample[]): number {
  const interval = equity[1].time - equity[0].time;
  if (!(interval > 0)) throw new RangeError("computeMetrics: equity samples must be in increasing time order");
  equity.forEach((sample, i) => {
    if (i > 0 && sample.time - equity[i - 1].time !== interval) {
      throw new RangeError(`computeMetrics: equity samples must be evenly spaced (sample ${i})`);
    }
  });
  return interval;
}

function periodReturns(equity: EquitySample[]): number[] {
  const returns: number[] = [];
  for (let i = 1; i < equity.length; i++) {
    returns.push(dec(equity[i].equity).div(dec(equity[i - 1].equity)).sub(1).toNumber());
  }
  return returns;
}

function mean(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

function returnRatios(returns: number[], periodsPerYear: number) {
  if (returns.length < 2) return { annualVolatility: null, sharpe: null, sortino: null };
  const average = mean(returns);
  const std = Math.sqrt(returns.reduce((acc, r) => acc + (r - average) ** 2, 0) / (returns.length - 1));
  const downside = Math.sqrt(mean(returns.map((r) => Math.min(r, 0) ** 2))) * Math.sqrt(periodsPerYear);
  return {
    annualVolatility: std * Math.sqrt(periodsPerYear),
    sharpe: std > 0 ? (average / std) * Math.sqrt(periodsPerYear) : null,
    sortino: downside > 0 ? (average * periodsPerYear) / downside : null,
  };
}

/** The deepest fall from a running peak, and how long the equity stayed below that peak. */
function maxDrawdown(equity: EquitySample[], rangeEnd: number): { depth: number; durationMs: number } {
  let peak = dec(equity[0].equity);
  let peakTime = equity[0].time;
  let depth = new Dec(0);
  let deepestPeakTime = peakTime;
  for (const sample of equity) {
    const value = dec(sample.equity);
    if (value.gte(peak)) {
      peak = value;
      peakTime = sample.time;
    } else if (peak.sub(value).div(peak).gt(depth)) {
      depth = peak.sub(value).div(peak);
      deepestPeakTime = peakTime;
    }
  }
  if (depth.isZero()) return { depth: 0, durationMs: 0 };
  const deepestPeak = dec(equity.find((s) => s.time === deepestPeakTime)!.equity);
  const recovery = equity.find((s) => s.time > deepestPeakTime && dec(s.equity).gte(deepestPeak));
  return { depth: depth.toNumber(), durationMs: (recovery ? recovery.time : rangeEnd) - deepestPeakTime };
}

function tradeStatistics(trades: ClosedTrade[]) {
  if (trades.length === 0) {
    return { profitFactor: null, winRate: null, expectancy: null, averageTrade: null, bestTrade: null, worstTrade: null };
  }
  const pnls = trades.map((t) => dec(t.pnl));
  const wins = pnls.filter((p) => p.gt(0));
  const losses = pnls.filter((p) => p.lt(0));
  const grossProfit = sum(wins);
  const grossLoss = sum(losses).abs();
  const winRate = wins.length / trades.length;
  const averageWin = wins.length > 0 ? grossProfit.div(wins.length) : new Dec(0);
  const expectancy = losses.length > 0 ? (1 + averageWin.div(grossLoss.div(losses.length)).toNumber()) * winRate - 1 : null;
  return {
    profitFactor: losses.length > 0 ? grossProfit.div(grossLoss).toNumber() : null,
    winRate,
    expectancy,
    averageTrade: str(money(sum(pnls).div(trades.length))),
    bestTrade: str(Dec.max(...pnls)),
    worstTrade: str(Dec.min(...pnls)),
  };
}

/** Ms of `range` covered by the union of `intervals`. */
function coveredMs(intervals: TimeInterval[], range: TimeInterval): number {
  const clipped = intervals
    .map((i) => ({ start: Math.max(i.start, range.start), end: Math.min(i.end, range.end) }))
    .filter((i) => i.end > i.start)
    .sort((a, b) => a.start - b.start);
  let covered = 0;
  let reach = range.start;
  for (const interval of clipped) {
    if (interval.end <= reach) continue;
    covered += interval.end - Math.max(interval.start, reach);
    reach = interval.end;
  }
  return covered;
}

function buyAndHoldReturn(prices: BuyAndHoldPrices[]): number | null {
  if (prices.length === 0) return null;
  const returns = prices.map((p) => dec(p.lastClose).div(dec(p.firstClose)).sub(1));
  return sum(returns).div(prices.length).toNumber();
}
