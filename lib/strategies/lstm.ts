/** LSTM strategy: a trained classifier over the last `windowSize` feature vectors. */
import * as tf from "@tensorflow/tfjs";
import { ensureTfBackend } from "../ml/backend";
import { LABELS, MODEL_FEATURES, featureRow } from "../ml/dataset";
import { windowsToTensor } from "../ml/lstm-model";
import { loadModel, type ModelMeta, type StoredModel } from "../ml/model-store";
import type { Strategy, StrategyDecision, StrategyInput } from "./types";

export class LstmStrategy implements Strategy {
  readonly name = "lstm";
  readonly version: string;
  readonly warmup: number;
  private readonly model: tf.LayersModel;
  private readonly meta: ModelMeta;

  constructor({ model, meta, version }: StoredModel) {
    // featureRow computes MODEL_FEATURES: a model trained on other inputs would read garbage.
    if (meta.features.join() !== MODEL_FEATURES.join() || meta.labels.join() !== LABELS.join()) {
      throw new Error(
        `model ${version} was trained on features [${meta.features}] → [${meta.labels}], this build computes [${MODEL_FEATURES}] → [${LABELS}]: retrain it with \`npm run train\``,
      );
    }
    const [, steps, width] = model.inputs[0].shape;
    if (steps !== meta.windowSize || width !== MODEL_FEATURES.length) {
      throw new Error(`model ${version} takes [${steps}, ${width}] inputs, its meta says [${meta.windowSize}, ${MODEL_FEATURES.length}]`);
    }
    this.model = model;
    this.meta = meta;
    this.version = version;
    this.warmup = meta.windowSize;
  }

  /** Loads a saved version (the newest when omitted) from the model directory. */
  static async load(dir: string, version?: string): Promise<LstmStrategy> {
    await ensureTfBackend();
    return new LstmStrategy(await loadModel(dir, version));
  }

  evaluate({ history }: StrategyInput): StrategyDecision {
    const { windowSize, scaler } = this.meta;
    if (history.length < windowSize) return { action: "HOLD", confidence: 0 };
    const window = history.slice(history.length - windowSize).map(featureRow);
    const probabilities = tf.tidy(() => (this.model.predict(windowsToTensor([window], scaler)) as tf.Tensor).dataSync());
    let best = 0;
    for (let i = 1; i < probabilities.length; i++) if (probabilities[i] > probabilities[best]) best = i;
    return { action: LABELS[best], confidence: probabilities[best] };
  }

  /** Frees the model's weights (tensors are not garbage-collected). */
  dispose(): void {
    this.model.dispose();
  }
}
