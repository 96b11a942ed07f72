/**
 * `npm run data`: brings history into the market data store the platform reads (QUESTDB_URL, else the
 * embedded DuckDB file DATA_DIR/market.duckdb), and shows what it holds.
 *
 *   npm run data -- import <file|dir>... [--symbol BTC/USDT] [--exchange binance]
 *   npm run data -- download --exchange binance --symbols BTC/USDT[,ETH/USDT] --from 2025-01-01 [--to 2025-02-01]
 *   npm run data -- list [instrument]
 *
 * Imported and downloaded candles get their indicators with the live code. Ctrl-C stops between two
 * batches; running the same command again completes the work (writes are idempotent).
 */
import { statSync } from "node:fs";
import { loadConfig } from "../lib/config";
import { isoTime, wallClock } from "../lib/clock";
import { openMarketStore } from "../lib/marketdata/open";
import type { MarketDataStore } from "../lib/marketdata/types";
import { candleFileOf, candleFilesIn, type CandleFile, type CandleFileOptions } from "../lib/marketdata/import/candle-files";
import { ImportError, ImportInterrupted } from "../lib/marketdata/import/candle-rows";
import { importCandleFile } from "../lib/marketdata/import/importer";
import { ccxtMinuteBars, downloadCandles } from "../lib/marketdata/import/downloader";
import { Progress, type ProgressFactory } from "../lib/progress";
import { coverageTable } from "../lib/repl-commands";
import { CcxtConnection, DEFAULT_TUNING } from "../lib/venue/ccxt-connection";
import { instrumentKeyOf } from "../schemas";

const USAGE = `usage:
  npm run data -- import <file|dir>... [--symbol BASE/QUOTE] [--exchange ID]
      Binance public-data 1m kline files (data.binance.vision: SYMBOL-1m-YYYY-MM[-DD].csv or .zip,
      times in ms or µs) and Freqtrade JSON candle files (BASE_QUOTE-1m.json or .json.gz). A directory
      imports every such file in it. --symbol names the instrument when the file name does not;
      --exchange is the exchange of the instrument key (default binance).
  npm run data -- download --exchange ID --symbols BASE/QUOTE[,...] --from DATE [--to DATE]
      1-minute candles from the exchange (ccxt fetchOHLCV, no keys), resuming after the newest candle
      stored in [from, to). DATE: 2025-01-01 or 2025-01-01T12:00Z (UTC); --to defaults to now.
  npm run data -- list [instrument]
      What the store holds per instrument and kind: time range, rows, gaps.

The store: QUESTDB_URL when set, else DATA_DIR/market.duckdb. EXCHANGE_URLS overrides the exchange's
endpoints as for the platform.`;

class UsageError extends Error {}

interface Args {
  positional: string[];
  flags: Map<string, string>;
}

const FLAGS = new Set(["--symbol", "--exchange", "--symbols", "--from", "--to"]);

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { positional: [], flags: new Map() };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--help" || arg === "-h") {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    }
    if (!arg.startsWith("--")) {
      args.positional.push(arg);
      continue;
    }
    const [flag, inline] = arg.split("=", 2) as [string, string | undefined];
    if (!FLAGS.has(flag)) throw new UsageError(`unknown option "${arg}"`);
    const value = inline ?? argv[++i];
    if (value === undefined || value === "") throw new UsageError(`${flag} needs a value`);
    args.flags.set(flag, value);
  }
  return args;
}

/** A UTC date or date-time (2025-01-01, 2025-01-01T12:00Z) as epoch ms. */
function parseDate(flag: string, text: string): number {
  if (!/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2})?Z?)?$/.test(text)) throw new UsageError(`${flag} must be a UTC date like 2025-01-01 or 2025-01-01T12:00Z, got "${text}"`);
  const time = Date.parse(text.includes("T") && !text.endsWith("Z") ? `${text}Z` : text);
  if (!Number.isFinite(time)) throw new UsageError(`${flag} is not a valid date: "${text}"`);
  return time;
}

const progressOnStderr: ProgressFactory = (label, total, unit) => new Progress({ label, total, unit, clock: wallClock, output: process.stderr });
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const count = (n: number) => n.toLocaleString("en-US");

/** Ctrl-C asks the running command to stop between batches; a second one ends the process at once. */
function interruptible(): AbortSignal {
  const controller = new AbortController();
  process.on("SIGINT", () => {
    if (controller.signal.aborted) process.exit(130);
    process.stderr.write("\nstopping after the current batch (Ctrl-C again to quit at once)…\n");
    controller.abort();
  });
  return controller.signal;
}

async function runImport(store: MarketDataStore, args: Args, signal: AbortSignal): Promise<number> {
  const options: CandleFileOptions = { exchange: args.flags.get("--exchange") ?? "binance", symbol: args.flags.get("--symbol") };
  let refused = 0;
  const files: CandleFile[] = [];
  for (const path of args.positional) {
    try {
      const stats = statSync(path, { throwIfNoEntry: false });
      if (!stats) throw new ImportError(path, undefined, "no such file or directory");
      if (stats.isDirectory()) {
        const found = candleFilesIn(path, options);
        for (const skipped of found.skipped) console.log(`skipped ${skipped}: not a candle file this importer reads`);
        for (const err of found.refused) console.error(`refused ${err.message}`);
        refused += found.refused.length;
        files.push(...found.files);
      } else {
        const file = candleFileOf(path, options);
        if (!file) throw new ImportError(path, undefined, "not a Binance kline CSV/zip or a Freqtrade JSON candle file");
        files.push(file);
      }
    } catch (err) {
      if (!(err instanceof ImportError)) throw err;
      console.error(`refused ${err.message}`);
      refused++;
    }
  }
  const instruments = new Set<string>();
  for (const file of files) {
    try {
      const done = await importCandleFile(store, file, { clock: wallClock, progress: progressOnStderr, signal });
      instruments.add(file.instrumentKey);
      const range = done.first === undefined ? "" : ` ${isoTime(done.first)} … ${isoTime(done.last!)}`;
      const repeats = done.repeats > 0 ? ` (${count(done.repeats)} repeated minutes skipped)` : "";
      console.log(
        `imported ${file.path} → ${file.instrumentKey}: ${count(done.candles)} candles${range}${repeats}, ${count(done.indicators)} indicator rows ` +
          `(check ${seconds(done.timings.validate)}, write ${seconds(done.timings.write)}, indicators ${seconds(done.timings.indicators)})`,
      );
    } catch (err) {
      if (!(err instanceof ImportError)) throw err;
      refused++;
      console.error(`refused ${err.message} — nothing of this file was written`);
    }
  }
  if (instruments.size > 0) console.log(`\n${coverageTable((await store.coverage()).filter((c) => instruments.has(c.instrumentKey)))}`);
  if (refused > 0) console.error(`${refused} file(s) refused, named above; the others were imported`);
  return refused > 0 ? 1 : 0;
}

interface DownloadArgs {
  exchangeId: string;
  symbols: string[];
  from: number;
  to?: number;
}

function downloadArgs(args: Args): DownloadArgs {
  const exchangeId = args.flags.get("--exchange");
  const symbols = args.flags.get("--symbols")?.split(",").map((s) => s.trim()).filter(Boolean);
  const fromText = args.flags.get("--from");
  if (!exchangeId || !symbols?.length || !fromText) throw new UsageError("download needs --exchange, --symbols and --from");
  if (!CcxtConnection.exchangeIds().includes(exchangeId)) throw new UsageError(`--exchange "${exchangeId}" is not an exchange id of ccxt (binance, kraken, okx, …)`);
  const from = parseDate("--from", fromText);
  const toText = args.flags.get("--to");
  const to = toText === undefined ? undefined : parseDate("--to", toText);
  if (to !== undefined && to <= from) throw new UsageError("--to must be after --from");
  return { exchangeId, symbols, from, to };
}

async function runDownload(store: MarketDataStore, { exchangeId, symbols, from, to }: DownloadArgs, signal: AbortSignal): Promise<number> {
  const config = loadConfig();
  const connection = new CcxtConnection({ exchangeId, sandbox: config.exchangeSandbox, timeoutMs: config.exchangeTimeoutMs, urls: config.exchangeUrls, tuning: DEFAULT_TUNING });
  try {
    const source = ccxtMinuteBars(connection);
    // An unlisted symbol is refused before anything is fetched, with the exchange's close matches.
    for (const symbol of symbols) await connection.market(symbol);
    for (const symbol of symbols) {
      const done = await downloadCandles(store, source, { exchange: exchangeId, symbol, from, to }, { clock: wallClock, progress: progressOnStderr, signal });
      const resumed = done.resumedAt > from ? ` (resumed at ${isoTime(done.resumedAt)})` : "";
      console.log(
        `downloaded ${done.instrumentKey}${resumed}: ${count(done.candles)} candles in ${count(done.requests)} requests up to ${isoTime(done.to)}, ${count(done.indicators)} indicator rows`,
      );
    }
    console.log(`\n${coverageTable((await store.coverage()).filter((c) => symbols.some((s) => c.instrumentKey === instrumentKeyOf(exchangeId, s))))}`);
    return 0;
  } finally {
    await connection.close();
  }
}

async function main(): Promise<number> {
  const [command, ...rest] = process.argv.slice(2);
  if (command === undefined || command === "--help" || command === "-h") {
    process.stdout.write(`${USAGE}\n`);
    return command === undefined ? 2 : 0;
  }
  if (command !== "import" && command !== "download" && command !== "list") throw new UsageError(`unknown command "${command}"`);
  const args = parseArgs(rest);
  // The command line is checked before the store is opened.
  if (command === "import" && args.positional.length === 0) throw new UsageError("import needs a file or a directory");
  const download = command === "download" ? downloadArgs(args) : undefined;
  const signal = interruptible();
  const options = loadConfig().marketStore;
  const store = await openMarketStore(options, wallClock);
  // On stderr, so `list` prints only its table; the URL's host only, never its password.
  process.stderr.write(`store: ${options.kind === "duckdb" ? `DuckDB file ${options.path}` : `QuestDB at ${new URL(options.pgUrl).host}${options.tablePrefix ? `, tables ${options.tablePrefix}*` : ""}`}\n`);
  try {
    if (command === "import") return await runImport(store, args, signal);
    if (download) return await runDownload(store, download, signal);
    console.log(coverageTable(await store.coverage(args.positional[0])));
    return 0;
  } finally {
    await store.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof UsageError) {
      console.error(`${err.message}\n\n${USAGE}`);
      process.exit(2);
    }
    if (err instanceof ImportInterrupted) {
      console.error(`\n${err.message}. Run the same command again to complete it: writes are idempotent, nothing is doubled.`);
      process.exit(130);
    }
    console.error(`data: ${(err as Error)?.message ?? String(err)}`);
    if (process.env.DEBUG) console.error(err);
    process.exit(1);
  },
);
