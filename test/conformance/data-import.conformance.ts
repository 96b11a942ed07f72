/**
 * `npm run data -- import` on a real market data store, the same tests for the embedded store (DuckDB)
 * and QuestDB: files imported whole or not at all, idempotent, resumable after Ctrl-C, and the
 * imported candles' indicators equal to values made by another implementation (TA-Lib).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ManualClock, type Clock } from "../../lib/clock";
import { WARMUP_CANDLES } from "../../lib/features/streaming-features";
import { candleFileOf, candleFilesIn, type CandleFile } from "../../lib/marketdata/import/candle-files";
import { ImportError, ImportInterrupted } from "../../lib/marketdata/import/candle-rows";
import { importCandleFile, type FileImport } from "../../lib/marketdata/import/importer";
import type { InstrumentCoverage, MarketDataStore, MinuteCandle } from "../../lib/marketdata/types";
import { Progress } from "../../lib/progress";
import type { FeaturesComputed, FeatureVector } from "../../schemas";
import reference from "../fixtures/indicators/btc-usdt-1m.json";

export interface ImportStoreFactory {
  open(clock: Clock): Promise<MarketDataStore>;
}

const FIXTURES = join(__dirname, "..", "fixtures", "market-data");
const MIN = 60_000;
const EVERYTHING = { from: 0, to: Date.UTC(2100, 0, 1) };

async function collect<T>(pages: AsyncIterable<T[]>): Promise<T[]> {
  const rows: T[] = [];
  for await (const page of pages) rows.push(...page);
  return rows;
}

/** A Binance kline CSV line (ms times) of a candle with open, high, low and close as given. */
function klineLine(c: { openTime: number; open: string; high: string; low: string; close: string }): string {
  return [c.openTime, c.open, c.high, c.low, c.close, "1.5", c.openTime + MIN - 1, "0", "7", "0", "0", "0"].join(",");
}

export function dataImportConformance(name: string, factory: ImportStoreFactory): void {
  describe(`npm run data -- import (${name})`, () => {
    let store: MarketDataStore;
    let dir: string;
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const binance = { exchange: "binance" };

    beforeEach(async () => {
      store = await factory.open(clock);
      dir = mkdtempSync(join(tmpdir(), "data-import-"));
    });
    afterEach(async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    });

    const importAll = async (files: CandleFile[], options: Partial<Parameters<typeof importCandleFile>[2]> = {}): Promise<FileImport[]> => {
      const done: FileImport[] = [];
      for (const file of files) done.push(await importCandleFile(store, file, { clock, ...options }));
      return done;
    };
    const fixtureFiles = () => candleFilesIn(FIXTURES, binance).files;

    it("imports a directory of Binance files (CSV and zip, ms and µs, header and not) with their indicators", async () => {
      const done = await importAll(fixtureFiles());
      expect(done.map((d) => [d.file.instrumentKey, d.candles, d.repeats])).toEqual([
        ["binance:BTC/USDT", 240, 0],
        ["binance:ETH/USDT", 180, 0],
        ["binance:ETH/USDT", 120, 0],
      ]);
      const coverage = await store.coverage();
      expect(coverage.map((c) => [c.instrumentKey, c.candles?.rows, c.candles?.first, c.candles?.last, c.candles?.gaps])).toEqual([
        ["binance:BTC/USDT", 240, Date.UTC(2024, 11, 31), Date.UTC(2024, 11, 31, 3, 59), []],
        // 2025-01-01 00:00-02:59 and 2025-01-02 00:00-01:59: the 21 hours between are a gap.
        ["binance:ETH/USDT", 300, Date.UTC(2025, 0, 1), Date.UTC(2025, 0, 2, 1, 59), [{ from: Date.UTC(2025, 0, 1, 3), to: Date.UTC(2025, 0, 2) }]],
      ]);
      // The first indicator row is the WARMUP_CANDLES-th candle's; ETH's second file continues on the first's candles.
      expect(coverage.map((c) => [c.indicators?.rows, c.indicators?.first])).toEqual([
        [240 - (WARMUP_CANDLES - 1), Date.UTC(2024, 11, 31) + (WARMUP_CANDLES - 1) * MIN],
        [300 - (WARMUP_CANDLES - 1), Date.UTC(2025, 0, 1) + (WARMUP_CANDLES - 1) * MIN],
      ]);
      const [first] = await collect(store.readCandles("binance:BTC/USDT", { from: Date.UTC(2024, 11, 31), to: Date.UTC(2024, 11, 31, 0, 1) }));
      // The fixture's first line: 1735603200000,93500.50000000,93579.74000000,93292.44000000,93363.75000000,21.39675000,…,130,…
      expect(first).toEqual({ instrumentKey: "binance:BTC/USDT", openTime: 1_735_603_200_000, open: "93500.5", high: "93579.74", low: "93292.44", close: "93363.75", volume: "21.39675", tradeCount: 130 });
      const [row] = await store.recentIndicators("binance:BTC/USDT", { limit: 1 });
      expect(row).toMatchObject({ instrumentKey: "binance:BTC/USDT", exchange: "binance", symbol: "BTC/USDT", timeframe: "1m", openTime: Date.UTC(2024, 11, 31, 3, 59) });
      // History was never received live: the row's receipt time is the candle's close.
      expect(row!.receivedAt).toBe(row!.closeTime);
      expect(row!.closeTime).toBe(Date.UTC(2024, 11, 31, 4) - 1);
    });

    it("changes nothing when the same files are imported again, or the same day from another format", async () => {
      await importAll(fixtureFiles());
      const snapshot = async (): Promise<[InstrumentCoverage[], MinuteCandle[], FeaturesComputed[]]> => [
        await store.coverage(),
        await collect(store.readCandles("binance:BTC/USDT", EVERYTHING)),
        await collect(store.readIndicators("binance:ETH/USDT", EVERYTHING)),
      ];
      const once = await snapshot();
      await importAll(fixtureFiles());
      expect(await snapshot()).toEqual(once);
      // The zip holds the same day as the CSV: nothing new.
      await importAll([candleFileOf(join(FIXTURES, "zipped", "BTCUSDT-1m-2024-12-31.zip"), binance)!]);
      expect(await snapshot()).toEqual(once);
    });

    it("imports Freqtrade JSON files (plain and gzipped)", async () => {
      const { files } = candleFilesIn(join(FIXTURES, "freqtrade"), { exchange: "kraken" });
      await importAll(files);
      const coverage = await store.coverage();
      expect(coverage.map((c) => [c.instrumentKey, c.candles?.rows, c.indicators?.rows])).toEqual([
        ["kraken:BTC/USDT", 240, 240 - (WARMUP_CANDLES - 1)],
        ["kraken:ETH/USDT", 180, 180 - (WARMUP_CANDLES - 1)],
      ]);
      const candles = await collect(store.readCandles("kraken:BTC/USDT", EVERYTHING));
      expect(candles[0]).toEqual({ instrumentKey: "kraken:BTC/USDT", openTime: 1_735_603_200_000, open: "93500.5", high: "93579.74", low: "93292.44", close: "93363.75", volume: "21.39675", tradeCount: 0 });
    });

    it("refuses a malformed file with file, line and reason and writes nothing of it", async () => {
      // Good lines first and the bad one last: a writer that wrote as it read would have written the rest.
      const lines = reference.candles.slice(0, 500).map(klineLine);
      lines.push(klineLine({ openTime: reference.candles[499]!.openTime + MIN, open: "100", high: "99", low: "98", close: "98.5" }));
      const path = join(dir, "BTCUSDT-1m-2026-01-01.csv");
      writeFileSync(path, lines.join("\n"));
      const file = candleFileOf(path, binance)!;
      const refusal = importCandleFile(store, file, { clock, batchSize: 100 });
      await expect(refusal).rejects.toThrow(ImportError);
      await expect(importCandleFile(store, file, { clock, batchSize: 100 })).rejects.toThrow(`${path}:501: high 99 is below the open 100 or the close 98.5`);
      expect(await store.coverage()).toEqual([]);
    });

    it("stops between batches on Ctrl-C, and a re-run completes it with the same result as one run", async () => {
      const lines = reference.candles.slice(0, 1000).map(klineLine);
      const path = join(dir, "BTCUSDT-1m-2026-01-01.csv");
      writeFileSync(path, lines.join("\n"));
      const file = candleFileOf(path, binance)!;
      const controller = new AbortController();
      // Ctrl-C while the first batch is written: its progress line is where the test presses it.
      const output = { write: () => controller.abort() };
      const progress = (label: string, total: number, unit: string) => new Progress({ label, total, unit, clock, output, lineMs: 0 });
      const interrupted = await importCandleFile(store, file, { clock, batchSize: 300, signal: controller.signal, progress }).catch((err: unknown) => err);
      expect(interrupted).toBeInstanceOf(ImportInterrupted);
      expect(interrupted).toMatchObject({ written: 300, total: 1000 });
      expect((await store.coverage())[0]?.candles?.rows).toBe(300);

      const resumed = await importCandleFile(store, file, { clock, batchSize: 300 });
      expect([resumed.candles, resumed.indicators]).toEqual([1000, 1000 - (WARMUP_CANDLES - 1)]);
      const afterResume = [await store.coverage(), await collect(store.readIndicators(file.instrumentKey, EVERYTHING))];
      const fresh = await factory.open(clock);
      try {
        await importCandleFile(fresh, file, { clock });
        expect([await fresh.coverage(), await collect(fresh.readIndicators(file.instrumentKey, EVERYTHING))]).toEqual(afterResume);
      } finally {
        await fresh.close();
      }
    });

    it("gives imported candles the indicators TA-Lib computes for them (test/fixtures/indicators)", async () => {
      // The reference series written as a Binance kline file; its candles are on a 0.01 tick, as stored.
      const path = join(dir, "BTCUSDT-1m-2026-01-01.csv");
      writeFileSync(path, reference.candles.map(klineLine).join("\n"));
      await importCandleFile(store, candleFileOf(path, binance)!, { clock });
      const rows = await collect(store.readIndicators("binance:BTC/USDT", EVERYTHING));
      expect(rows).toHaveLength(reference.candles.length - (WARMUP_CANDLES - 1));
      const expected = reference.expected as Record<keyof FeatureVector, Array<number | null>>;
      const features = Object.keys(expected) as Array<keyof FeatureVector>;
      let compared = 0;
      rows.forEach((row, n) => {
        const i = n + WARMUP_CANDLES - 1;
        expect(row.openTime).toBe(reference.candles[i]!.openTime);
        for (const feature of features) {
          const want = expected[feature][i]!;
          const close = Number(reference.candles[i]!.close);
          // The tolerance of test/unit/features-reference.test.ts: 1e-9 relative; MACD values (differences
          // of EMAs that cross zero) against 1e-6 of the price, the others against a floor of 1e-12.
          const allowed = 1e-9 * Math.max(Math.abs(want), feature.startsWith("macd") ? 1e-6 * close : 1e-12);
          if (!(Math.abs(row.features[feature] - want) <= allowed)) throw new Error(`${feature} at candle ${i}: ${row.features[feature]} vs reference ${want}`);
          compared++;
        }
      });
      expect(compared).toBe(rows.length * features.length);
    });
  });
}
