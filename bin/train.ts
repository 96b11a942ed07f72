/**
 * `npm run train`: trains the LSTM strategy's model on the closed 1-minute candles of the market data
 * store (DATA_DIR/market.duckdb, or QuestDB when QUESTDB_URL is set) and saves a new model version
 * under DATA_DIR/models/lstm, where the prediction engine looks (STRATEGY=lstm).
 *
 *   npm run train -- [--epochs N] [--window N] [--simulate N]
 *
 * --simulate N: when the store holds too few candles (a fresh clone), train on N simulated candles
 * per instrument (BTC/USDT and ETH/USDT from the market simulator) instead; the output says so.
 * TF_BACKEND picks the TensorFlow.js backend (cpu or wasm; training defaults to wasm, the faster).
 */
import path from "node:path";
import { loadConfig, type PlatformConfig } from "../lib/config";
import { openMarketStore } from "../lib/marketdata/open";
import { MINUTE_MS } from "../lib/marketdata/types";
import { initTfBackend } from "../lib/ml/backend";
import { DEFAULT_WINDOW_SIZE, candlesNeeded } from "../lib/ml/dataset";
import { expectedSamples, MIN_TRAINING_SAMPLES, trainFromCandles } from "../lib/ml/train";
import { wallClock } from "../lib/clock";
import { candleOf } from "../lib/market/candles";
import { MarketSimulator } from "../lib/market/simulator";
import { seedFrom } from "../lib/market/random";
import { type Candle, instrumentKeyOf } from "../schemas";

const SIMULATED_SYMBOLS = ["BTC/USDT", "ETH/USDT"];
const SIMULATED_EXCHANGE = "sim";

const USAGE = `usage: npm run train -- [--epochs N] [--window N] [--simulate N]

  --epochs N     training epochs (default 10)
  --window N     candles per model input window (default ${DEFAULT_WINDOW_SIZE})
  --simulate N   if the store has too few candles, train on N simulated 1-minute candles per
                 instrument (${SIMULATED_SYMBOLS.join(", ")}) instead

Reads the 1-minute candles of the market data store (DATA_DIR/market.duckdb, DATA_DIR defaults to
./data; QuestDB when QUESTDB_URL is set), writes the model to DATA_DIR/models/lstm/<version>. TF_BACKEND=cpu|wasm picks the TensorFlow.js backend (default wasm).`;

class UsageError extends Error {}

interface Options {
  epochs: number;
  window: number;
  simulate?: number;
}

function parseArgs(argv: string[]): Options {
  const options: Options = { epochs: 10, window: DEFAULT_WINDOW_SIZE };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--help" || arg === "-h") {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    }
    const [flag, inline] = arg.split("=", 2) as [string, string | undefined];
    if (flag !== "--epochs" && flag !== "--window" && flag !== "--simulate") throw new UsageError(`unknown option "${arg}"`);
    const raw = inline ?? argv[++i];
    const value = Number(raw);
    if (raw === undefined || !Number.isInteger(value) || value <= 0) throw new UsageError(`${flag} needs a positive integer, got "${raw ?? ""}"`);
    if (flag === "--epochs") options.epochs = value;
    else if (flag === "--window") options.window = value;
    else options.simulate = value;
  }
  return options;
}

/**
 * The stored 1-minute candles by instrument, oldest first. The embedded store is one process's at a
 * time: with the platform running on the same DATA_DIR, opening it fails and says so.
 */
async function storedCandles(config: PlatformConfig): Promise<{ source: string; byInstrument: Record<string, Candle[]> }> {
  const options = config.marketStore;
  const source = options.kind === "duckdb" ? options.path : `QuestDB at ${new URL(options.pgUrl).host}`;
  const store = await openMarketStore(options, wallClock);
  try {
    const byInstrument: Record<string, Candle[]> = {};
    for (const { instrumentKey, candles } of await store.coverage()) {
      if (!candles) continue;
      const list: Candle[] = (byInstrument[instrumentKey] = []);
      for await (const page of store.readCandles(instrumentKey, { from: candles.first, to: candles.last + 1 })) {
        for (const c of page) list.push({ ...c, timeframe: "1m", closeTime: c.openTime + MINUTE_MS - 1 });
      }
    }
    return { source, byInstrument };
  } finally {
    await store.close();
  }
}

function simulatedCandles(count: number, seed: number): Record<string, Candle[]> {
  const byInstrument: Record<string, Candle[]> = {};
  const endTime = wallClock.now();
  for (const symbol of SIMULATED_SYMBOLS) {
    const instrumentKey = instrumentKeyOf(SIMULATED_EXCHANGE, symbol);
    const simulator = new MarketSimulator({ exchange: SIMULATED_EXCHANGE, symbol, seed: seedFrom(seed, instrumentKey), startTime: endTime });
    byInstrument[instrumentKey] = simulator.history(count).map(candleOf);
  }
  return byInstrument;
}

function describe(byInstrument: Record<string, readonly Candle[]>): string {
  const entries = Object.entries(byInstrument);
  if (entries.length === 0) return "no candles";
  return entries.map(([key, candles]) => `${key} ${candles.length}`).join(", ");
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const config = loadConfig();
  const modelDir = path.join(config.dataDir, "models", "lstm");
  const neededForMinimum = candlesNeeded(options.window, MIN_TRAINING_SAMPLES);

  const stored = await storedCandles(config);
  const storedSamples = expectedSamples(stored.byInstrument, options.window);
  console.log(`store ${stored.source}: ${describe(stored.byInstrument)} → ${storedSamples} training samples (window ${options.window})`);

  let candles = stored.byInstrument;
  let simulated = false;
  if (storedSamples < MIN_TRAINING_SAMPLES) {
    if (options.simulate === undefined) {
      throw new Error(
        `too few stored candles to train: ${storedSamples} samples, ${MIN_TRAINING_SAMPLES} needed ` +
          `(at least ${neededForMinimum} consecutive 1-minute candles of one instrument with --window ${options.window}).\n` +
          `Run the platform first so ingestion stores candles (npm start with DATA_DIR=${config.dataDir}, register an instrument; ` +
          `a higher SIM_SPEED fills the store faster), import history (npm run data -- import <file|dir>), ` +
          `or pass --simulate N (e.g. --simulate 3000) to train on simulated data.`,
      );
    }
    candles = simulatedCandles(options.simulate, config.simSeed);
    simulated = true;
    console.log(
      `*** SIMULATED DATA: the store has too few candles, so the model is trained on ${options.simulate} simulated 1-minute candles ` +
        `per instrument (${Object.keys(candles).join(", ")}, market simulator, seed ${config.simSeed}), not on market data ***`,
    );
  } else if (options.simulate !== undefined) {
    console.log(`--simulate ignored: the store holds enough candles, training on stored data`);
  }

  const backend = await initTfBackend(process.env.TF_BACKEND || "wasm");
  console.log(`TensorFlow.js backend ${backend}; ${options.epochs} epoch(s); model directory ${modelDir}`);
  const started = performance.now();
  const result = await trainFromCandles(candles, {
    modelDir,
    epochs: options.epochs,
    windowSize: options.window,
    log: (line) => console.log(`  ${line}`),
  });

  const m = result.metrics;
  const metric = (v: number | undefined) => (v === undefined ? "n/a" : v.toFixed(4));
  console.log("");
  console.log(`model version   ${result.version}${simulated ? "   (trained on SIMULATED data)" : ""}`);
  console.log(`saved to        ${path.join(modelDir, result.version)}`);
  console.log(`samples         ${result.samples}`);
  console.log(`metrics         loss ${metric(m.loss)}, accuracy ${metric(m.accuracy)}, val loss ${metric(m.valLoss)}, val accuracy ${metric(m.valAccuracy)}`);
  console.log(`training time   ${((performance.now() - started) / 1000).toFixed(1)} s`);
  console.log(`use it with     STRATEGY=lstm (newest version) or STRATEGY=lstm MODEL_VERSION=${result.version}, or POST /api/models/reload`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    if (err instanceof UsageError) {
      console.error(`${err.message}\n\n${USAGE}`);
      process.exit(2);
    }
    console.error(`train: ${(err as Error)?.message ?? String(err)}`);
    if (process.env.DEBUG) console.error(err);
    process.exit(1);
  },
);
