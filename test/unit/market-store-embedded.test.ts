import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ManualClock } from "../../lib/clock";
import { openMarketStore } from "../../lib/marketdata/open";
import type { MarketDataStore, MinuteCandle } from "../../lib/marketdata/types";
import { marketStoreConformance } from "../conformance/market-store.conformance";

const dir = mkdtempSync(join(tmpdir(), "market-store-"));
let opened = 0;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

marketStoreConformance("embedded (DuckDB)", {
  open: (clock) => openMarketStore({ kind: "duckdb", path: join(dir, `market-${++opened}.duckdb`) }, clock),
});

const candle: MinuteCandle = { instrumentKey: "binance:BTC/USDT", openTime: 60_000, open: "1.5", high: "2", low: "1", close: "1.75", volume: "10.00000001", tradeCount: 3 };

async function readAll(store: MarketDataStore): Promise<MinuteCandle[]> {
  const rows: MinuteCandle[] = [];
  for await (const page of store.readCandles(candle.instrumentKey, { from: 0, to: 600_000 })) rows.push(...page);
  return rows;
}

describe("embedded market data store file", () => {
  it("keeps its rows across a close and a reopen", async () => {
    const path = join(dir, "nested", "market.duckdb");
    const first = await openMarketStore({ kind: "duckdb", path }, new ManualClock());
    await first.writeCandles([candle]);
    await first.close();
    const reopened = await openMarketStore({ kind: "duckdb", path }, new ManualClock());
    try {
      expect(await readAll(reopened)).toEqual([candle]);
    } finally {
      await reopened.close();
    }
  });

  it("is shared by the stores one process opens on it, and stays open until the last of them closes", async () => {
    const path = join(dir, "shared.duckdb");
    const [one, two] = await Promise.all([openMarketStore({ kind: "duckdb", path }, new ManualClock()), openMarketStore({ kind: "duckdb", path: join(dir, ".", "shared.duckdb") }, new ManualClock())]);
    await Promise.all([one.writeCandles([candle]), two.writeCandles([{ ...candle, openTime: 120_000 }])]);
    expect(await readAll(one)).toEqual([candle, { ...candle, openTime: 120_000 }]);
    await one.close();
    await two.writeCandles([{ ...candle, openTime: 180_000 }]);
    expect(await readAll(two)).toHaveLength(3);
    await two.close();
    const third = await openMarketStore({ kind: "duckdb", path }, new ManualClock());
    try {
      expect(await readAll(third)).toHaveLength(3);
    } finally {
      await third.close();
    }
  });

  it("keeps the row of the later of writes made at once with one key", async () => {
    const store = await openMarketStore({ kind: "duckdb", path: join(dir, "concurrent.duckdb") }, new ManualClock());
    try {
      // The first write takes the writer; the next three wait and go in together, in the order they came.
      await Promise.all([
        store.writeCandles([candle]),
        store.writeCandles([{ ...candle, close: "1.8" }]),
        store.writeCandles([{ ...candle, openTime: 120_000 }, { ...candle, close: "1.9" }]),
        store.writeCandles([{ ...candle, openTime: 120_000, volume: "3" }]),
      ]);
      expect(await readAll(store)).toEqual([
        { ...candle, close: "1.9" },
        { ...candle, openTime: 120_000, volume: "3" },
      ]);
    } finally {
      await store.close();
    }
  });

  it("refuses a file another process holds, saying so", async () => {
    const path = join(dir, "held.duckdb");
    // Another process (as a running platform would) opens the file and holds it until its stdin closes.
    const holder = spawn(
      process.execPath,
      ["-e", `require("@duckdb/node-api").DuckDBInstance.create(${JSON.stringify(path)}).then((db) => { globalThis.held = db; console.log("holding"); process.stdin.resume(); process.stdin.on("end", () => process.exit(0)); })`],
      { cwd: process.cwd(), stdio: ["pipe", "pipe", "inherit"] },
    );
    try {
      await new Promise<void>((resolve, reject) => {
        holder.stdout!.on("data", (data: Buffer) => data.toString().includes("holding") && resolve());
        holder.on("exit", (code) => reject(new Error(`the holding process exited with ${code}`)));
      });
      await expect(openMarketStore({ kind: "duckdb", path }, new ManualClock())).rejects.toThrow(/embedded market store .*held\.duckdb is in use by another process .*stop it first/);
    } finally {
      holder.stdin!.end();
      await new Promise((resolve) => (holder.exitCode === null ? holder.on("exit", resolve) : resolve(undefined)));
    }
    // Once that process has let go, the file opens.
    const store = await openMarketStore({ kind: "duckdb", path }, new ManualClock());
    await store.close();
  });
});
