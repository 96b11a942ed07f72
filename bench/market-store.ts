/**
 * The market data stores' figures (bench/scenarios/market-store.ts): `npm run bench` runs this file once
 * per store, in a child process; by hand it prints the report itself.
 *
 *   npx tsx bench/market-store.ts [--store embedded|questdb|both] [--quick]
 *
 * The embedded store lives in a temporary directory. QuestDB is the server QUESTDB_URL names, else the
 * one `scripts/infra/questdb.sh` runs (started here when it is not running, and stopped again after),
 * in tables of this run that are dropped afterwards. When QuestDB cannot be had, the report says why.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { wallClock } from "../lib/clock";
import { loadConfig } from "../lib/config";
import { openMarketStore, type MarketStoreOptions } from "../lib/marketdata/open";
import { MARKET_DATA_KINDS } from "../lib/marketdata/types";
import { Client } from "pg";
import { marketStoreReport, marketStoreSizes, measureMarketStore, type MarketStoreOutcome, type MarketStoreSizes } from "./scenarios/market-store";

const QUESTDB_SCRIPT = path.join(__dirname, "..", "scripts", "infra", "questdb.sh");

/** The store's figures, in a store of its own that is removed afterwards. */
async function measure(name: string, options: MarketStoreOptions, sizes: MarketStoreSizes): Promise<MarketStoreOutcome> {
  const store = await openMarketStore(options, wallClock);
  try {
    return await measureMarketStore(name, store, sizes);
  } finally {
    await store.close();
  }
}

async function embedded(sizes: MarketStoreSizes): Promise<MarketStoreOutcome> {
  const dir = mkdtempSync(path.join(tmpdir(), "market-store-bench-"));
  try {
    return await measure("embedded (DuckDB)", { kind: "duckdb", path: path.join(dir, "market.duckdb") }, sizes);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs scripts/infra/questdb.sh with `command`; false when it fails (the script logs why on stderr). */
function questDbScript(command: string): boolean {
  try {
    execFileSync(QUESTDB_SCRIPT, [command], { stdio: ["ignore", "ignore", "inherit"] });
    return true;
  } catch {
    return false;
  }
}

async function dropTables(pgUrl: string, tablePrefix: string): Promise<void> {
  const client = new Client({ connectionString: pgUrl });
  await client.connect();
  try {
    for (const kind of MARKET_DATA_KINDS) await client.query(`DROP TABLE IF EXISTS ${tablePrefix}${kind}`);
  } finally {
    await client.end();
  }
}

async function questDb(sizes: MarketStoreSizes): Promise<MarketStoreOutcome> {
  const name = "QuestDB";
  const given = process.env.QUESTDB_URL;
  const startedHere = !given && !questDbScript("status");
  if (startedHere && !questDbScript("start")) return { store: name, error: "scripts/infra/questdb.sh could not start it (see its log above)" };
  const pgUrl = given ?? `postgresql://admin:quest@127.0.0.1:${process.env.QUESTDB_PG_PORT ?? 8812}/qdb`;
  const tablePrefix = `bench_${process.pid}_`;
  try {
    return await measure(name, { kind: "questdb", pgUrl, tablePrefix }, sizes);
  } catch (err) {
    return { store: name, error: (err as Error).message };
  } finally {
    await dropTables(pgUrl, tablePrefix).catch(() => undefined);
    if (startedHere) questDbScript("stop");
  }
}

async function main(): Promise<void> {
  const { values: args } = parseArgs({ options: { store: { type: "string", default: "both" }, quick: { type: "boolean", default: false } } });
  if (!["embedded", "questdb", "both"].includes(args.store!)) throw new Error(`--store must be embedded, questdb or both, got "${args.store}"`);
  const sizes = marketStoreSizes(args.quick!, loadConfig().partitions);
  const outcomes: MarketStoreOutcome[] = [];
  if (args.store !== "questdb") outcomes.push(await embedded(sizes));
  if (args.store !== "embedded") outcomes.push(await questDb(sizes));
  // Forked by `npm run bench`: the outcome goes back to it; by hand, the report is printed.
  if (process.send) await new Promise<void>((resolve) => process.send!(outcomes[0], () => resolve()));
  else process.stdout.write(`${marketStoreReport(outcomes, sizes).join("\n")}\n`);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
