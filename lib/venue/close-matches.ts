/** The listed symbols closest to one a venue does not list: what an "unknown symbol" answer suggests. */

/** Edit distance counting a swap of two neighbours as one edit ("USTD" is one typo from "USDT"). */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

const compact = (symbol: string) => symbol.toUpperCase().replace(/[^A-Z0-9]/g, "");
const baseOf = (symbol: string) => symbol.toUpperCase().split("/")[0] ?? "";

/**
 * Up to `max` symbols: the ones within a few typos of `wanted` (ignoring the separator, so "BTCUSDT"
 * finds "BTC/USDT"), closest first; failing those, the ones with the same base currency.
 */
export function closeMatches(wanted: string, listed: Iterable<string>, max = 5): string[] {
  const target = compact(wanted);
  const tolerance = Math.max(2, Math.floor(target.length / 3));
  const base = baseOf(wanted);
  const scored: Array<{ symbol: string; distance: number; sameBase: boolean }> = [];
  for (const symbol of listed) {
    scored.push({ symbol, distance: editDistance(target, compact(symbol)), sameBase: baseOf(symbol) === base });
  }
  const byCloseness = (a: (typeof scored)[number], b: (typeof scored)[number]) =>
    a.distance - b.distance || Number(b.sameBase) - Number(a.sameBase) || a.symbol.localeCompare(b.symbol);
  const near = scored.filter((s) => s.distance <= tolerance).sort(byCloseness);
  const pool = near.length > 0 ? near : scored.filter((s) => s.sameBase).sort(byCloseness);
  return pool.slice(0, max).map((s) => s.symbol);
}
