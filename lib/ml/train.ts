/** Training entry point behind `npm run train`: candles of any number of instruments → a new saved model version. */
import { wallClock, type Clock } from "../clock";
import { WARMUP_CANDLES } from "../features/streaming-features";
import type { Candle } from "../../schemas";
import { ensureTfBackend } from "./backend";
import { DEFAULT_WINDOW_SIZE, LABELS, MODEL_FEATURES, buildSamples, candlesNeeded, defaultThreshold, type Sample } from "./dataset";
import { trainModel, type TrainMetrics } from "./lstm-model";
import { saveModel } from "./model-store";

/** Fewer samples than this cannot train anything meaningful, nor leave a validation split. */
export const MIN_TRAINING_SAMPLES = 200;

export interface TrainFromCandlesOptions {
  modelDir: string;
  epochs?: number;
  windowSize?: number;
  batchSize?: number;
  log?: (line: string) => void;
  /** Gives the model its training time (and so its version name); the wall clock by default. */
  clock?: Clock;
}

export interface TrainResult {
  version: string;
  samples: number;
  metrics: TrainMetrics;
}

/** Samples `trainFromCandles` builds from these series: instruments with too few candles give none. */
export function expectedSamples(candlesByInstrument: Record<string, readonly Candle[]>, windowSize: number): number {
  const needed = candlesNeeded(windowSize);
  return Object.values(candlesByInstrument)
    .filter((candles) => candles.length >= needed)
    .reduce((n, candles) => n + candles.length - needed + 1, 0);
}

/** `candlesByInstrument`: each instrument's 1-minute candles sorted by openTime, keyed by instrument key. */
export async function trainFromCandles(
  candlesByInstrument: Record<string, readonly Candle[]>,
  options: TrainFromCandlesOptions,
): Promise<TrainResult> {
  const { modelDir, epochs = 10, windowSize = DEFAULT_WINDOW_SIZE, batchSize, log = () => {}, clock = wallClock } = options;
  const needed = candlesNeeded(windowSize);
  const series = Object.entries(candlesByInstrument);
  const usable = series.filter(([, candles]) => candles.length >= needed);
  const expected = expectedSamples(candlesByInstrument, windowSize);
  if (expected < MIN_TRAINING_SAMPLES) {
    const candleCount = series.reduce((n, [, candles]) => n + candles.length, 0);
    throw new Error(
      `not enough candles to train: ${candleCount} candles of ${series.length} instrument(s) give ${expected} samples, ` +
        `${MIN_TRAINING_SAMPLES} are needed, i.e. at least ${candlesNeeded(windowSize, MIN_TRAINING_SAMPLES)} consecutive ` +
        `1-minute candles of one instrument (${WARMUP_CANDLES} warm-up + ${windowSize - 1} to fill the window + 1 per sample)`,
    );
  }
  const threshold = defaultThreshold(usable.map(([, candles]) => candles));
  const samples: Sample[] = [];
  for (const [instrumentKey, candles] of series) {
    const own = candles.length >= needed ? buildSamples(candles, { windowSize, threshold }) : [];
    log(`${instrumentKey}: ${candles.length} candles → ${own.length} samples${own.length === 0 ? ` (fewer than ${needed} candles: skipped)` : ""}`);
    samples.push(...own);
  }
  // Time order across instruments, so the validation split is the most recent period of every instrument.
  samples.sort((a, b) => a.time - b.time);
  const counts = LABELS.map((label, i) => `${label} ${samples.filter((s) => s.label[i] === 1).length}`).join(", ");
  log(`training on ${samples.length} samples (${counts}; threshold ${threshold.toPrecision(3)}), backend ${await ensureTfBackend()}`);

  const { model, scaler, metrics } = await trainModel(samples, {
    epochs,
    batchSize,
    onEpochEnd: (epoch, logs) =>
      log(`epoch ${epoch + 1}/${epochs}: ${Object.entries(logs).map(([k, v]) => `${k} ${v.toFixed(4)}`).join(", ")}`),
  });
  try {
    const version = await saveModel(modelDir, model, {
      windowSize,
      features: MODEL_FEATURES,
      labels: [...LABELS],
      scaler,
      trainedAt: clock.now(),
      samples: samples.length,
      metrics,
      threshold,
    });
    log(`saved model ${version} to ${modelDir}`);
    return { version, samples: samples.length, metrics };
  } finally {
    model.dispose();
  }
}
