/**
 * The market data stores' figures (issue 10, item 6), for the embedded store (DuckDB) and QuestDB:
 * one instrument-year of 1-minute candles (525,600 rows) written in one batch, read back in time order,
 * resampled to 1 hour; the newest candles of a window over that year (what the dashboard and the
 * features service's catch-up ask); and sustained trade ingestion as ingestion writes trades: one
 * writer per partition of market.raw.data (TOPIC_PARTITIONS), each writing batches of the bus's
 * DEFAULT_MAX_BATCH trades one after another, the instruments (50) spread over the partitions.
 *
 * Each phase reports its wall time and this process's CPU time: the embedded store's work runs in this
 * process (DuckDB's threads included), QuestDB's in the server, so for QuestDB the gap between the two
 * is mostly the server's. Each store runs in a child process of its own (bench/market-store.ts), with
 * no other store's heap or threads around.
 */
import { fork } from "node:child_process";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { DEFAULT_MAX_BATCH } from "../../lib/bus/types";
import type { BenchContext } from "../context";
import { fmtInt } from "../report";
import { MINUTE_MS, type MarketDataStore, type MinuteCandle, type StoredTrade } from "../../lib/marketdata/types";

/** Issue 10's targets on this 2-core machine. */
export const MARKET_STORE_TARGETS = { importRowsPerS: 500_000, readRowsPerS: 2_000_000, resampleMs: 100, tradesPerS: 100_000 };

export const YEAR_OF_MINUTES = 525_600;
const INSTRUMENT = "binance:BTC/USDT";
const FROM = Date.UTC(2025, 0, 1);
const TRADE_INSTRUMENTS = 50;

export interface MarketStoreSizes {
  /** 1-minute candles written and read (one instrument). */
  candles: number;
  trades: number;
  /** Trade writers at once: market.raw.data's partitions. */
  writers: number;
}

export const marketStoreSizes = (quick: boolean, writers: number): MarketStoreSizes =>
  quick ? { candles: 52_560, trades: 20_000, writers } : { candles: YEAR_OF_MINUTES, trades: 200_000, writers };

/** A phase's rows (or calls), wall time and this process's CPU time. */
export interface Phase {
  rows: number;
  ms: number;
  cpuMs: number;
}

export interface MarketStoreFigures {
  store: string;
  write: Phase;
  read: Phase;
  resample: Phase;
  /** recentCandles over the candles written: the newest 1,000 1-minute candles, and the newest 500 1-hour ones. */
  recentMinutes: Phase;
  recentHours: Phase;
  trades: Phase;
  /** 1-minute load average when the store's run began. */
  load: number;
}

export type MarketStoreOutcome = MarketStoreFigures | { store: string; error: string };

/** Candles with 2-place prices and 5-place volumes, as exact strings, one a minute from 2025-01-01. */
export function minuteCandles(count: number): MinuteCandle[] {
  const candles: MinuteCandle[] = [];
  let cents = 9_350_000;
  const price = (c: number) => `${Math.floor(c / 100)}.${String(c % 100).padStart(2, "0")}`;
  for (let i = 0; i < count; i++) {
    const open = cents;
    cents += ((i * 7919) % 2001) - 1000;
    const close = cents;
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

/** Trades of TRADE_INSTRUMENTS instruments, a few per millisecond: per writer (an instrument's partition), batches of DEFAULT_MAX_BATCH. */
function tradeBatches(count: number, writers: number): StoredTrade[][][] {
  const byWriter: StoredTrade[][] = Array.from({ length: writers }, () => []);
  for (let i = 0; i < count; i++) {
    byWriter[(i % TRADE_INSTRUMENTS) % writers].push({
        instrumentKey: `binance:C${i % TRADE_INSTRUMENTS}/USDT`,
        time: FROM + Math.floor(i / 4),
        tradeId: String(i),
        price: `${100 + (i % 997)}.${String(i % 100).padStart(2, "0")}`,
        quantity: `0.${String((i * 7919) % 100000).padStart(5, "0")}`,
      takerSide: i % 3 === 0 ? "SELL" : "BUY",
    });
  }
  return byWriter.map((trades) => Array.from({ length: Math.ceil(trades.length / DEFAULT_MAX_BATCH) }, (_, b) => trades.slice(b * DEFAULT_MAX_BATCH, (b + 1) * DEFAULT_MAX_BATCH)));
}

async function timed(rows: number | (() => number), work: () => Promise<unknown>): Promise<Phase> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  await work();
  const ms = performance.now() - started;
  const used = process.cpuUsage(cpu);
  return { rows: typeof rows === "number" ? rows : rows(), ms, cpuMs: (used.user + used.system) / 1000 };
}

/** Runs every phase on an empty store. */
export async function measureMarketStore(name: string, store: MarketDataStore, sizes: MarketStoreSizes): Promise<MarketStoreFigures> {
  const load = os.loadavg()[0]!;
  const candles = minuteCandles(sizes.candles);
  const range = { from: FROM, to: FROM + sizes.candles * MINUTE_MS };
  const write = await timed(candles.length, () => store.writeCandles(candles));

  let read = 0;
  const readPhase = await timed(
    () => read,
    async () => {
      for await (const page of store.readCandles(INSTRUMENT, range, 50_000)) read += page.length;
    },
  );
  if (read !== candles.length) throw new Error(`${name}: read ${read} candles back, wrote ${candles.length}`);

  let hours = 0;
  const resample = await timed(
    () => hours,
    async () => (hours = (await store.resample(INSTRUMENT, "1h", range)).length),
  );
  const recentMinutes = await timed(1_000, () => store.recentCandles(INSTRUMENT, "1m", { limit: 1_000 }));
  const recentHours = await timed(500, () => store.recentCandles(INSTRUMENT, "1h", { limit: 500 }));

  const writers = tradeBatches(sizes.trades, sizes.writers);
  const trades = await timed(sizes.trades, () =>
    Promise.all(
      writers.map(async (batches) => {
        for (const batch of batches) await store.writeTrades(batch);
      }),
    ),
  );
  return { store: name, write, read: readPhase, resample, recentMinutes, recentHours, trades, load };
}

const rate = (p: Phase) => p.rows / (p.ms / 1000);
const verdict = (ok: boolean) => (ok ? "ok" : "MISS");

/** The figures against the targets, a store per column. */
export function marketStoreReport(outcomes: MarketStoreOutcome[], sizes: MarketStoreSizes): string[] {
  const t = MARKET_STORE_TARGETS;
  const measured = outcomes.filter((o): o is MarketStoreFigures => !("error" in o));
  const rows: Array<[string, string, (f: MarketStoreFigures) => string]> = [
    [`import ${fmtInt(sizes.candles)} 1m candles, rows/s`, `≥ ${fmtInt(t.importRowsPerS)}`, (f) => `${fmtInt(rate(f.write))} ${verdict(rate(f.write) >= t.importRowsPerS)}`],
    ["read them in time order, rows/s", `≥ ${fmtInt(t.readRowsPerS)}`, (f) => `${fmtInt(rate(f.read))} ${verdict(rate(f.read) >= t.readRowsPerS)}`],
    ["resample to 1h, ms", `≤ ${t.resampleMs}`, (f) => `${f.resample.ms.toFixed(0)} ${verdict(f.resample.ms <= t.resampleMs)}`],
    [`trades ingested (${sizes.writers} writers × batches of ${DEFAULT_MAX_BATCH}), rows/s`, `≥ ${fmtInt(t.tradesPerS)}`, (f) => `${fmtInt(rate(f.trades))} ${verdict(rate(f.trades) >= t.tradesPerS)}`],
    ["recentCandles: the newest 1,000 1m candles, ms", "", (f) => f.recentMinutes.ms.toFixed(1)],
    ["recentCandles: the newest 500 1h candles, ms", "", (f) => f.recentHours.ms.toFixed(1)],
  ];
  const width = 58;
  const column = 22;
  const cell = (text: string) => text.padStart(column);
  const lines = [
    "",
    "market data store (issue 10, item 6)",
    `${"metric".padEnd(width)}${cell("target")}${measured.map((f) => cell(f.store)).join("")}`,
    ...rows.map(([metric, target, value]) => `${metric.padEnd(width)}${cell(target)}${measured.map((f) => cell(value(f))).join("")}`),
    "",
    "where the time goes (wall ms / this process's CPU ms; QuestDB's own work is in the server, outside this process):",
    ...measured.map((f) =>
      [
        `  ${f.store} (load average ${f.load.toFixed(1)} at start):`,
        ...(["write", "read", "resample", "trades"] as const).map((phase) => `    ${phase.padEnd(9)} ${f[phase].ms.toFixed(0).padStart(7)} ms wall ${f[phase].cpuMs.toFixed(0).padStart(7)} ms CPU`),
      ].join("\n"),
    ),
    ...outcomes.filter((o): o is { store: string; error: string } => "error" in o).map((o) => `  ${o.store}: not measured: ${o.error}`),
  ];
  return lines;
}

/** `npm run bench`'s market data store part: the embedded store unless --mode kafka, QuestDB unless --mode embedded. */
export async function marketStoreBench({ options, log }: BenchContext): Promise<string[]> {
  const stores = [...(options.mode !== "kafka" ? ["embedded"] : []), ...(options.mode !== "embedded" ? ["questdb"] : [])];
  const sizes = marketStoreSizes(options.quick, options.partitions);
  const outcomes: MarketStoreOutcome[] = [];
  for (const store of stores) {
    log(`market data store: ${store}, ${fmtInt(sizes.candles)} candles and ${fmtInt(sizes.trades)} trades …`);
    outcomes.push(await runStoreChild(store, options.quick));
  }
  return marketStoreReport(outcomes, sizes);
}

/** bench/market-store.ts in a child process, handing back its outcome. */
function runStoreChild(store: string, quick: boolean): Promise<MarketStoreOutcome> {
  return new Promise((resolve) => {
    const child = fork(path.join(__dirname, "..", "market-store.ts"), ["--store", store, ...(quick ? ["--quick"] : [])], { stdio: ["ignore", "ignore", "inherit", "ipc"] });
    let outcome: MarketStoreOutcome | undefined;
    child.on("message", (message) => (outcome = message as MarketStoreOutcome));
    child.on("error", (err) => resolve({ store, error: err.message }));
    child.on("exit", (code) => resolve(outcome ?? { store, error: `the bench process exited with code ${code}` }));
  });
}
