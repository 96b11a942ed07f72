/**
 * What the market data store holds (`/api/market/coverage`), for the Market view's instrument picker
 * (history imported for instruments that are not registered) and the System view's table.
 */
import type { InstrumentRecord, MarketCoverage } from "./api";
import { formatDuration } from "./format";

/** The kinds of rows the store keeps, in the order the table lists them. */
export const COVERAGE_KINDS = ["candles", "indicators", "trades", "books"] as const;
export type CoverageKind = (typeof COVERAGE_KINDS)[number];

/** Instruments with stored candles that are not registered (imported or downloaded history), by key. */
export function storedOnlyInstruments(registered: readonly Pick<InstrumentRecord, "instrumentKey">[], coverage: readonly MarketCoverage[]): string[] {
  const known = new Set(registered.map((i) => i.instrumentKey));
  return coverage
    .filter((c) => c.candles && !known.has(c.instrumentKey))
    .map((c) => c.instrumentKey)
    .sort();
}

export interface CoverageRow {
  id: string;
  instrumentKey: string;
  kind: CoverageKind;
  first: number;
  last: number;
  rows: number;
  /** Gaps among the 1-minute candles (candles only) and the milliseconds they miss. */
  gaps?: { count: number; missingMs: number; largest?: { from: number; to: number } };
}

/** A row per instrument and kind held. */
export function coverageRows(coverage: readonly MarketCoverage[]): CoverageRow[] {
  return coverage.flatMap((c) =>
    COVERAGE_KINDS.flatMap((kind) => {
      const held = c[kind];
      if (!held) return [];
      const row: CoverageRow = { id: `${c.instrumentKey}|${kind}`, instrumentKey: c.instrumentKey, kind, first: held.first, last: held.last, rows: held.rows };
      if ("gaps" in held) {
        const largest = held.gaps.reduce<{ from: number; to: number } | undefined>((max, g) => (!max || g.to - g.from > max.to - max.from ? g : max), undefined);
        row.gaps = { count: held.gaps.length, missingMs: held.gaps.reduce((sum, g) => sum + g.to - g.from, 0), largest };
      }
      return [row];
    }),
  );
}

/** The gaps cell: "none", or how many and the time they miss ("2 · 1 h 30 min missing"); empty for kinds without gaps. */
export function gapsText(row: Pick<CoverageRow, "gaps">): string {
  if (!row.gaps) return "";
  if (row.gaps.count === 0) return "none";
  // Gaps are whole minutes: under an hour they read "30 min", not "30 min 0 s".
  const missing = row.gaps.missingMs < 3_600_000 ? `${row.gaps.missingMs / 60_000} min` : formatDuration(row.gaps.missingMs / 1000);
  return `${row.gaps.count} · ${missing} missing`;
}
