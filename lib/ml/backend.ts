/**
 * TensorFlow.js backend selection. The native tfjs-node addon is not installable offline, so the
 * choice is between the pure-JS `cpu` backend and the `wasm` one (faster to train, its .wasm
 * binaries ship inside its npm package).
 */
import { dirname, sep } from "node:path";
import * as tf from "@tensorflow/tfjs";

export const TF_BACKENDS = ["cpu", "wasm"] as const;
export type TfBackend = (typeof TF_BACKENDS)[number];

let wasmPathsSet = false;
let initialised: Promise<TfBackend> | undefined;

/** Activates a backend (`TF_BACKEND`, else `cpu`) and resolves to its name once it is ready. */
export function initTfBackend(name: string = process.env.TF_BACKEND || "cpu"): Promise<TfBackend> {
  initialised = activate(name);
  return initialised;
}

/** The backend chosen earlier, or the default one when nobody chose: model code calls this. */
export function ensureTfBackend(): Promise<TfBackend> {
  return initialised ?? initTfBackend();
}

async function activate(name: string): Promise<TfBackend> {
  if (!(TF_BACKENDS as readonly string[]).includes(name)) {
    throw new Error(`unsupported TensorFlow.js backend "${name}" (supported: ${TF_BACKENDS.join(", ")})`);
  }
  // Production mode silences tfjs's console warnings, among them the cpu backend's advice to
  // install tfjs-node on its first tensor, which is no option here.
  tf.enableProdMode();
  if (name === "wasm" && !wasmPathsSet) {
    const { setWasmPaths } = await import("@tensorflow/tfjs-backend-wasm");
    // Node has no URL to fetch the binaries from: point at the package's dist directory on disk.
    setWasmPaths(dirname(require.resolve("@tensorflow/tfjs-backend-wasm")) + sep);
    wasmPathsSet = true;
  }
  if (!(await tf.setBackend(name))) throw new Error(`TensorFlow.js backend "${name}" failed to initialise`);
  await tf.ready();
  return name as TfBackend;
}
