import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ManualClock } from "../../lib/clock";
import { DuckDbMarketStore } from "../../lib/marketdata/duckdb-store";
import { marketStoreConformance } from "../conformance/market-store.conformance";

const dir = mkdtempSync(join(tmpdir(), "market-store-"));
let opened = 0;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

marketStoreConformance("embedded (DuckDB)", {
  open: (clock) => DuckDbMarketStore.open(join(dir, `market-${++opened}.duckdb`), clock),
});

describe("embedded market data store file", () => {
  it("keeps its rows across a close and a reopen", async () => {
    const path = join(dir, "nested", "market.duckdb");
    const candle = { instrumentKey: "binance:BTC/USDT", openTime: 60_000, open: "1.5", high: "2", low: "1", close: "1.75", volume: "10.00000001", tradeCount: 3 };
    const first = await DuckDbMarketStore.open(path, new ManualClock());
    await first.writeCandles([candle]);
    await first.close();
    const reopened = await DuckDbMarketStore.open(path, new ManualClock());
    try {
      const pages = [];
      for await (const page of reopened.readCandles(candle.instrumentKey, { from: 0, to: 120_000 })) pages.push(page);
      expect(pages).toEqual([[candle]]);
    } finally {
      await reopened.close();
    }
  });
});
