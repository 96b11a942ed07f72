/** The LSTM classifier: architecture, input scaling and training. */
import * as tf from "@tensorflow/tfjs";
import { LABELS, type Sample } from "./dataset";

/** Per-feature standardisation fitted on the training split, stored with the model. */
export interface Scaler {
  mean: number[];
  std: number[];
}

export interface TrainMetrics {
  /** Final-epoch values; the validation ones are absent when there was no validation split. */
  loss: number;
  accuracy: number;
  valLoss?: number;
  valAccuracy?: number;
}

export interface TrainOptions {
  epochs?: number;
  batchSize?: number;
  /** Fraction of the samples, the most recent ones, held out for validation. */
  validationSplit?: number;
  onEpochEnd?: (epoch: number, logs: Record<string, number>) => void;
}

export function buildModel(windowSize: number, featureCount: number): tf.LayersModel {
  const model = tf.sequential();
  model.add(tf.layers.lstm({ units: 16, inputShape: [windowSize, featureCount] }));
  model.add(tf.layers.dense({ units: LABELS.length, activation: "softmax" }));
  model.compile({ optimizer: tf.train.adam(), loss: "categoricalCrossentropy", metrics: ["accuracy"] });
  return model;
}

/** Mean and standard deviation of each feature; a constant feature gets std 1 (it scales to 0, not NaN). */
export function fitScaler(rows: readonly (readonly number[])[]): Scaler {
  const featureCount = rows[0].length;
  const mean = new Array<number>(featureCount).fill(0);
  const sq = new Array<number>(featureCount).fill(0);
  for (const row of rows) for (let f = 0; f < featureCount; f++) mean[f] += row[f] / rows.length;
  for (const row of rows) for (let f = 0; f < featureCount; f++) sq[f] += (row[f] - mean[f]) ** 2 / rows.length;
  return { mean, std: sq.map((v) => (v > 0 ? Math.sqrt(v) : 1)) };
}

/** Scaled windows as a [windows, windowSize, features] tensor. */
export function windowsToTensor(windows: readonly (readonly (readonly number[])[])[], scaler: Scaler): tf.Tensor3D {
  const windowSize = windows[0].length;
  const featureCount = scaler.mean.length;
  const data = new Float32Array(windows.length * windowSize * featureCount);
  let k = 0;
  for (const window of windows) {
    for (const row of window) {
      for (let f = 0; f < featureCount; f++) data[k++] = (row[f] - scaler.mean[f]) / scaler.std[f];
    }
  }
  return tf.tensor3d(data, [windows.length, windowSize, featureCount]);
}

/**
 * Trains a fresh model on time-ordered samples. Validation is the most recent part, never shuffled
 * into training, so its figures say how the model does on data after what it learnt from.
 */
export async function trainModel(
  samples: readonly Sample[],
  options: TrainOptions = {},
): Promise<{ model: tf.LayersModel; scaler: Scaler; metrics: TrainMetrics }> {
  const { epochs = 10, batchSize = 64, validationSplit = 0.2, onEpochEnd } = options;
  const trainCount = Math.ceil(samples.length * (1 - validationSplit));
  if (samples.length === 0 || trainCount === 0) throw new Error(`no training samples (${samples.length} samples, validationSplit ${validationSplit})`);
  const train = samples.slice(0, trainCount);
  const validation = samples.slice(trainCount);
  // Windows overlap: fitting on each one's last row counts every row once (bar each series' first window head).
  const scaler = fitScaler(train.map((s) => s.window[s.window.length - 1]));
  const tensors = (part: readonly Sample[]): [tf.Tensor3D, tf.Tensor2D] => [
    windowsToTensor(part.map((s) => s.window), scaler),
    tf.tensor2d(part.map((s) => s.label), [part.length, LABELS.length]),
  ];
  const [x, y] = tensors(train);
  const validationData = validation.length > 0 ? tensors(validation) : undefined;
  const model = buildModel(samples[0].window.length, scaler.mean.length);
  try {
    const history = await model.fit(x, y, {
      epochs,
      batchSize,
      validationData,
      shuffle: true,
      verbose: 0,
      callbacks: onEpochEnd ? { onEpochEnd: (epoch, logs) => onEpochEnd(epoch, { ...logs }) } : undefined,
    });
    const last = (key: string): number => {
      const values = history.history[key];
      return Number(values[values.length - 1]);
    };
    const metrics: TrainMetrics = { loss: last("loss"), accuracy: last("acc") };
    if (validationData) {
      metrics.valLoss = last("val_loss");
      metrics.valAccuracy = last("val_acc");
    }
    return { model, scaler, metrics };
  } catch (err) {
    model.dispose();
    throw err;
  } finally {
    tf.dispose([x, y, ...(validationData ?? [])]);
  }
}
