/** Platform configuration from the environment; every service reads it through `platformConfig`. */
import path from "node:path";
import type { ServiceBroker } from "moleculer";

export interface PlatformConfig {
  port: number;
  dataDir: string;
  /** Bearer token of the REST API; generated and kept in DATA_DIR when unset. */
  apiToken?: string;
  startCash: string;
  /** `sim` for the built-in market simulator, or a ccxt exchange id. */
  marketData: string;
  /** Simulated seconds per real second. */
  simSpeed: number;
  simSeed: number;
  /** Minutes of 1-minute candles backfilled when an instrument is registered. */
  backfillCandles: number;
  /** Topic bus: Kafka when brokers are given, else the embedded log. */
  kafkaBrokers: string[];
  /** System of record: MongoDB when given, else file-backed stores in DATA_DIR. */
  mongoUri?: string;
  partitions: number;
  strategy: "rule" | "lstm";
  modelVersion?: string;
  /** Stop the embedded market data store from growing without bound. */
  retentionCandles: number;
}

function positiveNumber(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got "${raw}"`);
  return value;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): PlatformConfig {
  const strategy = env.STRATEGY ?? "rule";
  if (strategy !== "rule" && strategy !== "lstm") throw new Error(`STRATEGY must be "rule" or "lstm", got "${strategy}"`);
  const startCash = env.START_CASH ?? "10000";
  if (!/^[0-9]+(\.[0-9]+)?$/.test(startCash)) throw new Error(`START_CASH must be a decimal amount, got "${startCash}"`);
  return {
    port: positiveNumber(env, "PORT", 3000),
    dataDir: path.resolve(env.DATA_DIR ?? "./data"),
    apiToken: env.API_TOKEN || undefined,
    startCash,
    marketData: (env.MARKET_DATA ?? "sim").toLowerCase(),
    simSpeed: positiveNumber(env, "SIM_SPEED", 1),
    simSeed: positiveNumber(env, "SIM_SEED", 42),
    backfillCandles: positiveNumber(env, "BACKFILL_CANDLES", 300),
    kafkaBrokers: (env.KAFKA_BROKERS ?? "").split(",").map((b) => b.trim()).filter(Boolean),
    mongoUri: env.MONGO_URI || undefined,
    partitions: positiveNumber(env, "TOPIC_PARTITIONS", 6),
    strategy,
    modelVersion: env.MODEL_VERSION || undefined,
    retentionCandles: positiveNumber(env, "RETENTION_CANDLES", 10_000),
  };
}

/**
 * The configuration a broker's services use: the environment's, overridden by
 * `metadata.config` of the broker (tests and embedded runs pass their own there).
 */
export function platformConfig(broker: ServiceBroker): PlatformConfig {
  const overrides = (broker.metadata as { config?: Partial<PlatformConfig> } | undefined)?.config ?? {};
  return { ...loadConfig(), ...overrides };
}
