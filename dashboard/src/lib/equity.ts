/**
 * Equity curves: the gateway's recorded history of a portfolio (one point per portfolio.updated)
 * extended live by each pushed snapshot.
 */
import type { LineData, UTCTimestamp } from "lightweight-charts";
import type { EquityPoint, PortfolioSnapshot } from "./api";
import { toChartTime } from "./chart-data";

export type EquityLine = LineData<UTCTimestamp>[];

/**
 * The chart's line: ascending, one value per second (the chart's resolution; several events of one
 * second, such as an order and its fills, keep the last).
 */
export function equityLine(points: readonly Pick<EquityPoint, "time" | "equity">[]): EquityLine {
  const bySecond = new Map<number, number>();
  for (const p of [...points].sort((a, b) => a.time - b.time)) bySecond.set(toChartTime(p.time), Number(p.equity));
  return [...bySecond.entries()].map(([time, value]) => ({ time: time as UTCTimestamp, value }));
}

/** The line with a live snapshot added, or the same line when the snapshot is older than its end. */
export function withSnapshot(line: EquityLine, snapshot: Pick<PortfolioSnapshot, "updatedAt" | "equity">): EquityLine {
  const time = toChartTime(snapshot.updatedAt);
  const last = line[line.length - 1];
  if (last && time < last.time) return line;
  const point = { time, value: Number(snapshot.equity) };
  return last && last.time === time ? [...line.slice(0, -1), point] : [...line, point];
}

/**
 * Whether a pushed snapshot should replace the one shown: not when it is older (a redelivered
 * event after a gateway restart must not roll the view back).
 */
export function isNewerSnapshot(current: Pick<PortfolioSnapshot, "updatedAt"> | undefined, incoming: Pick<PortfolioSnapshot, "updatedAt">): boolean {
  return !current || incoming.updatedAt >= current.updatedAt;
}
