/**
 * Versioned model artifacts on disk: `<dir>/<version>/{model.json, weights.bin, meta.json}`, in
 * tfjs's own layers-model format (so tfjs-node's `file://` loader reads them too). Without
 * tfjs-node there is no file IO handler, hence the in-memory save/load handlers and node:fs.
 */
import { chmod, mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { isoTime } from "../clock";
import type { FeatureVector, SignalAction } from "../../schemas";
import type { Scaler, TrainMetrics } from "./lstm-model";

export interface ModelMeta {
  windowSize: number;
  /** Feature vector fields behind the input rows, in order. */
  features: (keyof FeatureVector)[];
  /** Output classes, in order. */
  labels: SignalAction[];
  scaler: Scaler;
  /** Epoch ms. */
  trainedAt: number;
  samples: number;
  metrics: TrainMetrics;
  /** Next-candle return beyond which a sample was labelled BUY / SELL. */
  threshold: number;
}

export interface StoredModel {
  model: tf.LayersModel;
  meta: ModelMeta;
  version: string;
}

/** `v<YYYYMMDDHHmmss>` (UTC training time), `-<n>` appended when that second is already taken. */
const VERSION_RE = /^v\d{14}(-\d+)?$/;
const WEIGHTS_FILE = "weights.bin";

/** Newest first; the numeric collation orders `-10` after `-9`. */
function byNewest(a: string, b: string): number {
  return b.localeCompare(a, "en", { numeric: true });
}

/**
 * Writes the model and its meta as a new version and returns it. The files are written to a
 * temporary directory renamed into place, so a reader never sees a half-written version.
 */
export async function saveModel(dir: string, model: tf.LayersModel, meta: ModelMeta): Promise<string> {
  await mkdir(dir, { recursive: true });
  const staging = await mkdtemp(join(dir, ".saving-"));
  try {
    await model.save(
      tf.io.withSaveHandler(async (artifacts) => {
        const modelJson: tf.io.ModelJSON = {
          modelTopology: artifacts.modelTopology as {},
          trainingConfig: artifacts.trainingConfig,
          format: artifacts.format,
          generatedBy: artifacts.generatedBy,
          convertedBy: artifacts.convertedBy,
          weightsManifest: [{ paths: [WEIGHTS_FILE], weights: artifacts.weightSpecs ?? [] }],
        };
        await writeFile(join(staging, "model.json"), JSON.stringify(modelJson));
        await writeFile(join(staging, WEIGHTS_FILE), new Uint8Array(tf.io.CompositeArrayBuffer.join(artifacts.weightData)));
        return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
      }),
    );
    await writeFile(join(staging, "meta.json"), JSON.stringify(meta, null, 2));
    // mkdtemp makes it private (0700): the serving process may run as another user.
    await chmod(staging, 0o755);
    const base = `v${isoTime(meta.trainedAt).replace(/\D/g, "").slice(0, 14)}`;
    for (let n = 1; ; n++) {
      const version = n === 1 ? base : `${base}-${n}`;
      try {
        await rename(staging, join(dir, version));
        return version;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== "EEXIST" && code !== "ENOTEMPTY") throw err;
      }
    }
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    throw err;
  }
}

/** Saved versions with their meta, newest first; none when the directory does not exist. */
export async function listModels(dir: string): Promise<{ version: string; meta: ModelMeta }[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
  const versions = entries.filter((e) => e.isDirectory() && VERSION_RE.test(e.name)).map((e) => e.name);
  return Promise.all(versions.sort(byNewest).map(async (version) => ({ version, meta: await readMeta(dir, version) })));
}

/** Loads a version, the newest when none is given. */
export async function loadModel(dir: string, version?: string): Promise<StoredModel> {
  if (version === undefined) {
    const versions = await listModels(dir);
    if (versions.length === 0) throw new Error(`no trained model in ${dir}: run \`npm run train\` first`);
    version = versions[0].version;
  } else if (!VERSION_RE.test(version)) {
    throw new Error(`invalid model version "${version}" (expected v<YYYYMMDDHHmmss>)`);
  }
  const versionDir = join(dir, version);
  let modelJson: tf.io.ModelJSON;
  try {
    modelJson = JSON.parse(await readFile(join(versionDir, "model.json"), "utf8")) as tf.io.ModelJSON;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") throw new Error(`model version ${version} not found in ${dir}`);
    throw err;
  }
  const artifacts = await tf.io.getModelArtifactsForJSON(modelJson, async (manifest) => {
    const groups = await Promise.all(manifest.flatMap((group) => group.paths).map((path) => readFile(join(versionDir, path))));
    const weightData = tf.io.CompositeArrayBuffer.join(groups.map((b) => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer));
    return [manifest.flatMap((group) => group.weights), weightData];
  });
  const model = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
  return { model, meta: await readMeta(dir, version), version };
}

async function readMeta(dir: string, version: string): Promise<ModelMeta> {
  return JSON.parse(await readFile(join(dir, version, "meta.json"), "utf8")) as ModelMeta;
}
