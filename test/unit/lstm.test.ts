import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { FeatureCalculator } from "../../lib/features/streaming-features";
import { initTfBackend } from "../../lib/ml/backend";
import { LABELS, MODEL_FEATURES, buildSamples, candlesNeeded, defaultThreshold, featureRow, labelOf } from "../../lib/ml/dataset";
import { buildModel, trainModel, windowsToTensor } from "../../lib/ml/lstm-model";
import { listModels, loadModel, saveModel, type ModelMeta } from "../../lib/ml/model-store";
import { MIN_TRAINING_SAMPLES, trainFromCandles } from "../../lib/ml/train";
import { createStrategy } from "../../lib/strategies";
import { LstmStrategy } from "../../lib/strategies/lstm";
import type { StrategyDecision } from "../../lib/strategies/types";
import type { Candle, FeatureVector } from "../../schemas";

const WINDOW = 10;

/** Seeded random walk of 1-minute candles (Park–Miller generator: the same series on every run). */
function randomWalk(instrumentKey: string, n: number, seed: number): Candle[] {
  let state = seed;
  const rnd = () => (state = (state * 16807) % 2147483647) / 2147483647;
  const candles: Candle[] = [];
  let price = 100;
  for (let i = 0; i < n; i++) {
    const open = price;
    price *= 1 + (rnd() - 0.5) * 0.004;
    const openTime = 1_700_000_000_000 + i * 60_000;
    candles.push({
      instrumentKey,
      timeframe: "1m",
      openTime,
      closeTime: openTime + 59_999,
      open: open.toFixed(4),
      high: (Math.max(open, price) * (1 + rnd() * 0.001)).toFixed(4),
      low: (Math.min(open, price) * (1 - rnd() * 0.001)).toFixed(4),
      close: price.toFixed(4),
      volume: "1",
      tradeCount: 1,
    });
  }
  return candles;
}

function featureVectors(candles: Candle[]): FeatureVector[] {
  const calculator = new FeatureCalculator();
  return candles.map((c) => calculator.update(c)).filter((fv): fv is FeatureVector => fv !== undefined);
}

let dir: string;
beforeAll(async () => {
  await initTfBackend("cpu");
  dir = await mkdtemp(join(tmpdir(), "lstm-test-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("dataset", () => {
  const candles = randomWalk("sim:A", 200, 3);

  it("makes scale-free rows in MODEL_FEATURES order", () => {
    const fv = featureVectors(candles)[0];
    expect(MODEL_FEATURES).toHaveLength(8);
    expect(featureRow(fv)).toEqual([
      fv.return1,
      fv.rsi14 / 100,
      fv.macdHistogram / fv.close,
      fv.bbPercentB,
      fv.atr14 / fv.close,
      fv.realizedVolatility,
      fv.close / fv.ema12 - 1,
      fv.close / fv.sma20 - 1,
    ]);
  });

  it("labels each window with the next candle's return", () => {
    const threshold = defaultThreshold([candles]);
    const samples = buildSamples(candles, { windowSize: WINDOW, threshold });
    expect(samples).toHaveLength(200 - candlesNeeded(WINDOW) + 1);
    const rows = featureVectors(candles).map(featureRow);
    samples.forEach((s, k) => {
      const i = candlesNeeded(WINDOW) - 2 + k; // index of the window's last candle
      expect(s.time).toBe(candles[i].openTime);
      expect(s.window).toEqual(rows.slice(k, k + WINDOW));
      const action = labelOf(Number(candles[i + 1].close) / Number(candles[i].close) - 1, threshold);
      expect(s.label).toEqual(LABELS.map((l) => (l === action ? 1 : 0)));
    });
    const share = (action: string) => samples.filter((s) => s.label[LABELS.indexOf(action as never)] === 1).length / samples.length;
    for (const action of LABELS) expect(share(action)).toBeGreaterThan(0.15);
  });

  it("derives the threshold from the median absolute return", () => {
    const closes = ["100", "101", "100", "100", "102"].map((close, i) => ({ ...candles[i], close }));
    // |returns|: 0.01, 0.0099.., 0, 0.02 → median (0.0099.. + 0.01) / 2
    expect(defaultThreshold([closes])).toBeCloseTo(0.5 * ((1 / 101 + 0.01) / 2), 15);
    expect([labelOf(0.002, 0.001), labelOf(-0.002, 0.001), labelOf(0.001, 0.001)]).toEqual(["BUY", "SELL", "HOLD"]);
  });
});

describe("LSTM model, store and strategy", () => {
  it("trains, saves, lists and loads a model that predicts exactly as the trained one", async () => {
    const candles = randomWalk("sim:A", 600, 11);
    const samples = buildSamples(candles, { windowSize: WINDOW, threshold: defaultThreshold([candles]) });
    const { model, scaler, metrics } = await trainModel(samples, { epochs: 1 });
    expect(Number.isFinite(metrics.loss) && Number.isFinite(metrics.valLoss!)).toBe(true);

    const meta: ModelMeta = {
      windowSize: WINDOW,
      features: MODEL_FEATURES,
      labels: [...LABELS],
      scaler,
      trainedAt: Date.UTC(2025, 0, 2, 3, 4, 5),
      samples: samples.length,
      metrics,
      threshold: 0.001,
    };
    const store = join(dir, "store");
    const version = await saveModel(store, model, meta);
    expect(version).toBe("v20250102030405");
    // Same second again: a distinct, newer version.
    expect(await saveModel(store, model, meta)).toBe("v20250102030405-2");
    expect((await listModels(store)).map((m) => m.version)).toEqual(["v20250102030405-2", "v20250102030405"]);
    expect((await listModels(store))[1].meta).toEqual(meta);

    const loaded = await loadModel(store, version);
    expect(loaded.version).toBe(version);
    expect(loaded.meta).toEqual(meta);
    expect((await loadModel(store)).version).toBe("v20250102030405-2");

    const x = windowsToTensor(samples.slice(0, 50).map((s) => s.window), scaler);
    const expected = Array.from((model.predict(x) as tf.Tensor).dataSync());
    const actual = Array.from((loaded.model.predict(x) as tf.Tensor).dataSync());
    expect(actual).toEqual(expected);
    expect(expected.some((p, i) => p !== expected[i % 3])).toBe(true); // the inputs do matter

    const strategy = new LstmStrategy(loaded);
    const history = featureVectors(candles);
    const window = history.slice(-WINDOW);
    const probabilities = Array.from((model.predict(windowsToTensor([window.map(featureRow)], scaler)) as tf.Tensor).dataSync());
    const best = probabilities.indexOf(Math.max(...probabilities));
    const decision = strategy.evaluate({ instrumentKey: "sim:A", features: history[history.length - 1], history });
    expect(decision).toEqual({ action: LABELS[best], confidence: probabilities[best] });

    await expect(loadModel(store, "v20990101000000")).rejects.toThrow(/v20990101000000 not found/);
    await expect(loadModel(store, "../etc")).rejects.toThrow(/invalid model version/);
    tf.dispose(x);
    model.dispose();
    strategy.dispose();
  });

  it("trains from candles of several instruments and serves the newest model through createStrategy", async () => {
    const modelDir = join(dir, "train");
    await expect(createStrategy("lstm", { modelDir })).rejects.toThrow(/run `npm run train` first/);

    const lines: string[] = [];
    const result = await trainFromCandles(
      { "sim:A": randomWalk("sim:A", 400, 5), "sim:B": randomWalk("sim:B", 200, 6), "sim:C": randomWalk("sim:C", 20, 7) },
      { modelDir, epochs: 1, windowSize: WINDOW, log: (line) => lines.push(line) },
    );
    expect(result.version).toMatch(/^v\d{14}$/);
    expect(result.samples).toBe(400 + 200 - 2 * (candlesNeeded(WINDOW) - 1));
    expect(lines.join("\n")).toMatch(/sim:C: 20 candles → 0 samples \(fewer than 44 candles: skipped\)/);
    expect((await listModels(modelDir)).map((m) => [m.version, m.meta.samples])).toEqual([[result.version, result.samples]]);

    const strategy = await createStrategy("lstm", { modelDir });
    expect([strategy.name, strategy.version, strategy.warmup]).toEqual(["lstm", result.version, WINDOW]);
    const history = featureVectors(randomWalk("sim:D", 80, 8));
    for (let n = 1; n <= history.length; n++) {
      const d = (await strategy.evaluate({ instrumentKey: "sim:D", features: history[n - 1], history: history.slice(0, n) })) as StrategyDecision;
      if (n < WINDOW) expect(d).toEqual({ action: "HOLD", confidence: 0 });
      else {
        expect(LABELS).toContain(d.action);
        expect(d.confidence).toBeGreaterThanOrEqual(1 / 3);
        expect(d.confidence).toBeLessThanOrEqual(1);
      }
    }
    (strategy as LstmStrategy).dispose();
  });

  it("refuses to train on too few candles, saying how many are needed", async () => {
    const needed = candlesNeeded(WINDOW, MIN_TRAINING_SAMPLES);
    expect(needed).toBe(243);
    await expect(
      trainFromCandles({ "sim:A": randomWalk("sim:A", needed - 1, 1) }, { modelDir: join(dir, "few"), windowSize: WINDOW }),
    ).rejects.toThrow(/give 199 samples, 200 are needed, i\.e\. at least 243 consecutive/);
  });

  it("runs on the wasm backend too, predicting as on cpu", async () => {
    const store = join(dir, "wasm");
    const model = buildModel(WINDOW, MODEL_FEATURES.length);
    const scaler = { mean: MODEL_FEATURES.map(() => 0), std: MODEL_FEATURES.map(() => 1) };
    await saveModel(store, model, { windowSize: WINDOW, features: MODEL_FEATURES, labels: [...LABELS], scaler, trainedAt: 0, samples: 0, metrics: { loss: 0, accuracy: 0 }, threshold: 0 });
    const x = Array.from({ length: 4 }, (_, k) => Array.from({ length: WINDOW }, (_, t) => MODEL_FEATURES.map((_, f) => Math.sin(k + t * 0.3 + f))));
    const predict = async () => {
      const { model: loaded } = await loadModel(store);
      const input = windowsToTensor(x, scaler);
      const output = Array.from((loaded.predict(input) as tf.Tensor).dataSync());
      tf.dispose(input);
      loaded.dispose();
      return output;
    };
    const onCpu = await predict();
    try {
      expect(await initTfBackend("wasm")).toBe("wasm");
      expect(tf.getBackend()).toBe("wasm");
      (await predict()).forEach((p, i) => expect(p).toBeCloseTo(onCpu[i], 5));
      await expect(initTfBackend("gpu")).rejects.toThrow(/unsupported TensorFlow.js backend "gpu"/);
    } finally {
      await initTfBackend("cpu");
      model.dispose();
    }
  });
});
