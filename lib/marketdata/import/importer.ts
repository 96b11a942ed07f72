/**
 * Imports a candle file into the market data store, all or nothing: the whole file is parsed and
 * checked first (a refusal names the file, line and reason, and nothing of it is written), then
 * written in batches, then its indicators computed. The store's writes are upserts, so importing a
 * file again changes nothing, and an interrupted import is completed by running it again.
 */
import { basename } from "node:path";
import type { Clock } from "../../clock";
import type { ProgressFactory } from "../../progress";
import { MINUTE_MS, type MarketDataStore, type MinuteCandle } from "../types";
import { candleRows, readCandleText, type CandleFile } from "./candle-files";
import { CandleSequence, ImportInterrupted } from "./candle-rows";
import { IndicatorWriter } from "./indicators";

/** Candles per store write (memory stays at one batch; fewer, larger writes scan the stored keys fewer times). */
const IMPORT_BATCH = 100_000;

export interface ImportOptions {
  clock: Clock;
  progress?: ProgressFactory;
  /** Aborted: stop between batches (ImportInterrupted). */
  signal?: AbortSignal;
  batchSize?: number;
}

export interface FileImport {
  file: CandleFile;
  /** Candles in the file; repeats (a minute given twice with the same values) are counted apart. */
  candles: number;
  repeats: number;
  /** Open times of the first and last candle. */
  first?: number;
  last?: number;
  indicators: number;
  /** Where the time went, in ms: reading and parsing with the checks, writing the candles, the indicators. */
  timings: { validate: number; write: number; indicators: number };
}

export async function importCandleFile(store: MarketDataStore, file: CandleFile, options: ImportOptions): Promise<FileImport> {
  const { clock, signal } = options;
  const batchSize = options.batchSize ?? IMPORT_BATCH;
  const started = clock.now();
  const text = readCandleText(file);
  // First pass: every row checked before anything is written; the text is parsed again to write, so
  // only one batch of candles is in memory at a time.
  const sequence = new CandleSequence(file.path);
  for (const row of candleRows(file, text)) sequence.accept(row);
  const validated = clock.now();

  const progress = options.progress?.(`import ${file.symbol} ${basename(file.path)}`, sequence.accepted, "candles");
  let written = 0;
  let batch: MinuteCandle[] = [];
  const writeBatch = async () => {
    if (signal?.aborted) throw new ImportInterrupted(file.path, written, sequence.accepted);
    await store.writeCandles(batch);
    written += batch.length;
    progress?.advance(batch.length);
    batch = [];
  };
  let previous: number | undefined;
  for (const { candle } of candleRows(file, text)) {
    // Repeats were checked to be equal to the candle before them.
    if (candle.openTime === previous) continue;
    previous = candle.openTime;
    batch.push(candle);
    if (batch.length === batchSize) await writeBatch();
  }
  if (batch.length > 0) await writeBatch();
  progress?.finish();
  const wroteCandles = clock.now();

  let indicators = 0;
  if (sequence.first !== undefined && sequence.last !== undefined) {
    const writer = await IndicatorWriter.startingAt(store, file.instrumentKey, sequence.first);
    const indicatorProgress = options.progress?.(`indicators ${file.symbol} ${basename(file.path)}`, sequence.accepted, "candles");
    await writer.addStored(sequence.first, sequence.last + MINUTE_MS, (candles) => {
      indicatorProgress?.advance(candles);
      // The candles are all written: a re-run writes them again unchanged and computes the indicators.
      if (signal?.aborted) throw new ImportInterrupted(`${file.path} (indicators)`, written, sequence.accepted);
    });
    await writer.finish();
    indicatorProgress?.finish();
    indicators = writer.written;
  }
  const done = clock.now();
  return {
    file,
    candles: sequence.accepted,
    repeats: sequence.repeats,
    first: sequence.first,
    last: sequence.last,
    indicators,
    timings: { validate: validated - started, write: wroteCandles - validated, indicators: done - wroteCandles },
  };
}
