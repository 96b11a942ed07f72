/**
 * Quick figures of the market data stores: one instrument-year of 1-minute candles (525,600 rows)
 * written in one batch, read back in time order, resampled to 1 hour.
 *
 *   npx tsx bench/market-store.ts [--store embedded|questdb|both] [--rows N]
 *
 * The embedded store lives in a temporary directory; QuestDB is the server at QUESTDB_PG (default the
 * one `scripts/infra/questdb.sh start` runs), in tables of this run that are dropped afterwards.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { Client } from "pg";
import { wallClock } from "../lib/clock";
import { DuckDbMarketStore } from "../lib/marketdata/duckdb-store";
import { QuestDbMarketStore } from "../lib/marketdata/questdb-store";
import { MINUTE_MS, type MarketDataStore, type MinuteCandle } from "../lib/marketdata/types";

const { values: args } = parseArgs({ options: { store: { type: "string", default: "both" }, rows: { type: "string", default: "525600" } } });
const ROWS = Number(args.rows);
const INSTRUMENT = "binance:BTC/USDT";
const FROM = Date.UTC(2025, 0, 1);

/** A year of plausible candles with 2-place prices and 5-place volumes, as exact strings. */
function yearOfCandles(): MinuteCandle[] {
  const candles: MinuteCandle[] = [];
  let cents = 9_350_000;
  for (let i = 0; i < ROWS; i++) {
    const open = cents;
    cents += ((i * 7919) % 2001) - 1000;
    const close = cents;
    const price = (c: number) => `${Math.floor(c / 100)}.${String(c % 100).padStart(2, "0")}`;
    candles.push({
      instrumentKey: INSTRUMENT,
      openTime: FROM + i * MINUTE_MS,
      open: price(open),
      high: price(Math.max(open, close) + (i % 37)),
      low: price(Math.min(open, close) - (i % 41)),
      close: price(close),
      volume: `${i % 97}.${String((i * 31337) % 100000).padStart(5, "0")}`,
      tradeCount: i % 500,
    });
  }
  return candles;
}

async function measure(name: string, store: MarketDataStore, candles: MinuteCandle[]): Promise<void> {
  const range = { from: FROM, to: FROM + ROWS * MINUTE_MS };
  let started = performance.now();
  await store.writeCandles(candles);
  const writeMs = performance.now() - started;

  started = performance.now();
  let read = 0;
  for await (const page of store.readCandles(INSTRUMENT, range, 50_000)) read += page.length;
  const readMs = performance.now() - started;
  if (read !== ROWS) throw new Error(`${name}: read ${read} candles back, wrote ${ROWS}`);

  started = performance.now();
  const hours = await store.resample(INSTRUMENT, "1h", range);
  const resampleMs = performance.now() - started;

  const rate = (ms: number) => `${Math.round(ROWS / (ms / 1000)).toLocaleString("en")} rows/s`;
  console.log(`${name.padEnd(18)} write ${ROWS} candles ${writeMs.toFixed(0).padStart(6)} ms (${rate(writeMs)})`);
  console.log(`${"".padEnd(18)} read them in order ${readMs.toFixed(0).padStart(6)} ms (${rate(readMs)})`);
  console.log(`${"".padEnd(18)} resample to 1h     ${resampleMs.toFixed(0).padStart(6)} ms (${hours.length} candles)`);
}

async function main(): Promise<void> {
  const candles = yearOfCandles();
  if (args.store !== "questdb") {
    const dir = mkdtempSync(join(tmpdir(), "market-store-bench-"));
    const store = await DuckDbMarketStore.open(join(dir, "market.duckdb"), wallClock);
    try {
      await measure("embedded (DuckDB)", store, candles);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }
  if (args.store !== "embedded") {
    const pgUrl = process.env.QUESTDB_PG ?? "postgresql://admin:quest@127.0.0.1:8812/qdb";
    const tablePrefix = `bench_${process.pid}_`;
    const store = await QuestDbMarketStore.open({ pgUrl, clock: wallClock, tablePrefix });
    try {
      await measure("QuestDB", store, candles);
    } finally {
      await store.close();
      const client = new Client({ connectionString: pgUrl });
      await client.connect();
      for (const kind of ["candles", "trades", "books"]) await client.query(`DROP TABLE IF EXISTS ${tablePrefix}${kind}`);
      await client.end();
    }
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
