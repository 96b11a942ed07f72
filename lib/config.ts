/**
 * Platform configuration from the environment, parsed and validated once where a broker is made
 * (bin/start.ts passes it as the broker's `metadata.config`) and handed to its services through `platformConfig`.
 */
import path from "node:path";
import type { ServiceBroker } from "moleculer";
import { parseTraderTokens } from "./auth";
import { DEFAULT_HEALTH_SETTINGS, type HealthSettings } from "./health";
import { MONEY_AMOUNT } from "./decimal";
import { ConfigError } from "./errors";
import type { MarketStoreOptions } from "./marketdata/open";
import { TIMEFRAME_MS, type MarketDataKind } from "./marketdata/types";

export interface PlatformConfig {
  port: number;
  dataDir: string;
  /** Bearer token of the REST API; generated and kept in DATA_DIR when unset. */
  apiToken?: string;
  /** TRADER_TOKENS: trader id → bearer token; each trader sees only the portfolios they own. */
  traderTokens: Record<string, string>;
  startCash: string;
  /** TRADER_ALLOWANCE: a trader's default allowance, the cash they may allocate across their portfolios (default START_CASH). */
  traderAllowance: string;
  /** Quotas, so no one token can exhaust the platform. */
  quotas: Quotas;
  /** `sim` for the built-in market simulator, or a ccxt exchange id. */
  marketData: string;
  /** Simulated seconds per real second. */
  simSpeed: number;
  simSeed: number;
  /** Minutes of 1-minute candles backfilled when an instrument is registered. */
  backfillCandles: number;
  /** Topic bus: Kafka when brokers are given, else the embedded log. */
  kafkaBrokers: string[];
  /** Prefix of topic and consumer-group names on the Kafka cluster. */
  kafkaNamespace: string;
  /** System of record: MongoDB when given, else file-backed stores in DATA_DIR. */
  mongoUri?: string;
  partitions: number;
  strategy: "rule" | "lstm";
  modelVersion?: string;
  /** The market data store: QuestDB when QUESTDB_URL is given, else DuckDB in DATA_DIR/market.duckdb. */
  marketStore: MarketStoreOptions;
  /** Max age in ms of each kind of market data (0 = kept forever); indicators follow candles. */
  retention: Record<MarketDataKind, number>;
  /** `paper`: the paper broker fills against the feed's prices; `live`: real orders on the exchange (needs the opt-in). */
  tradingMode: "paper" | "live";
  /** LIVE_TRADING_CONFIRM=yes: the explicit opt-in without which live trading refuses to start. */
  liveTradingConfirmed: boolean;
  /** Trade on the exchange's sandbox/testnet instead of the real market (ccxt's setSandboxMode). */
  exchangeSandbox: boolean;
  /** JSON file `{"apiKey", "secret", "password"?}` with the exchange keys; else EXCHANGE_API_KEY / EXCHANGE_API_SECRET. */
  exchangeSecretsFile?: string;
  /** Timeout of one REST request to the exchange, so an unreachable exchange answers 503 instead of hanging. */
  exchangeTimeoutMs: number;
  /** Endpoints merged over ccxt's `urls.api` of the exchange: a proxy, a regional endpoint, a local test server. */
  exchangeUrls?: Record<string, unknown>;
  /** When `/api/health` calls market data stale and a consumer group's lag runaway (HEALTH_MARKET_DATA_STALE_MS, HEALTH_LAG_THRESHOLD). */
  health: HealthSettings;
  /** The REST API's per-token request rate and streams, and its throttle on wrong tokens. */
  apiLimits: ApiLimits;
  /** Reconnect, circuit-breaker and reconciliation timings (not from the environment: tests shorten them). */
  exchangeTuning?: Partial<ExchangeTuning>;
}

export interface Quotas {
  /** INSTRUMENTS_PER_TRADER: instruments one trader's portfolios may trade. */
  instrumentsPerTrader: number;
  /** INSTRUMENTS_MAX: instruments registered on the platform, everyone's together (each one streams). */
  instrumentsTotal: number;
  /** PORTFOLIOS_PER_TRADER: portfolios one trader may own. */
  portfoliosPerTrader: number;
}

export interface ApiLimits {
  /** API_RATE_LIMIT: requests per second one token may make, sustained. */
  requestsPerSecond: number;
  /** API_RATE_BURST: requests one token may make at once (the token bucket's size). */
  requestBurst: number;
  /** SSE_STREAMS_PER_TOKEN: live streams (`GET /api/stream`) one token may hold open. */
  streamsPerToken: number;
  /** AUTH_FAILURE_LIMIT: wrong tokens one address may send within the window before it is refused. */
  authFailures: number;
  /** AUTH_FAILURE_WINDOW_S (in seconds there): the sliding window of that count. */
  authFailureWindowMs: number;
}

/** Timings of the live exchange adapter. */
export interface ExchangeTuning {
  /** First reconnect delay of a dropped stream; it doubles up to `reconnectMaxMs`. */
  reconnectBaseMs: number;
  reconnectMaxMs: number;
  /** Consecutive outage failures that open the circuit breaker. */
  breakerThreshold: number;
  /** How long an open breaker fails fast before letting one probe through; doubles up to 60 s while probes fail. */
  breakerCooldownMs: number;
  /** Interval of the safety-net reconciliation of working orders in live trading. */
  reconcileIntervalMs: number;
  /** At most one order-book event per instrument per interval on `market.raw.data`. */
  bookIntervalMs: number;
}

function positiveNumber(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new ConfigError(`${name} must be a positive number, got "${raw}"`);
  return value;
}

function positiveInteger(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const value = positiveNumber(env, name, fallback);
  if (!Number.isInteger(value)) throw new ConfigError(`${name} must be a positive integer, got "${env[name]}"`);
  return value;
}

function nonNegativeNumber(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new ConfigError(`${name} must be a number, 0 or more, got "${raw}"`);
  return value;
}

/** QUESTDB_URL (a PostgreSQL wire URL) selects QuestDB; without it the embedded DuckDB file in DATA_DIR. */
function marketStore(env: NodeJS.ProcessEnv, dataDir: string): MarketStoreOptions {
  const url = env.QUESTDB_URL;
  if (!url) return { kind: "duckdb", path: path.join(dataDir, "market.duckdb") };
  if (!/^postgres(ql)?:\/\/[^/\s]+/.test(url)) throw new ConfigError(`QUESTDB_URL must be a PostgreSQL wire URL (postgresql://user:password@host:8812/qdb), got "${url}"`);
  const tablePrefix = env.QUESTDB_TABLE_PREFIX ?? "";
  // The prefix goes into table names: letters, digits and underscores only.
  if (!/^[A-Za-z0-9_]*$/.test(tablePrefix)) throw new ConfigError(`QUESTDB_TABLE_PREFIX must hold only letters, digits and underscores, got "${tablePrefix}"`);
  return { kind: "questdb", pgUrl: url, tablePrefix };
}

/** RETENTION_<KIND>_DAYS as milliseconds; indicators are kept as long as their candles. */
function retention(env: NodeJS.ProcessEnv): Record<MarketDataKind, number> {
  // A count of candles no longer means anything: refused rather than silently keeping everything.
  if (env.RETENTION_CANDLES) throw new ConfigError("RETENTION_CANDLES is replaced by RETENTION_CANDLES_DAYS (days of candles kept, 0 = forever)");
  const day = TIMEFRAME_MS["1d"];
  const candles = nonNegativeNumber(env, "RETENTION_CANDLES_DAYS", 0) * day;
  return {
    candles,
    indicators: candles,
    trades: nonNegativeNumber(env, "RETENTION_TRADES_DAYS", 7) * day,
    books: nonNegativeNumber(env, "RETENTION_BOOKS_DAYS", 2) * day,
  };
}

function jsonObject(env: NodeJS.ProcessEnv, name: string): Record<string, unknown> | undefined {
  const raw = env[name];
  if (!raw) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (err) {
    throw new ConfigError(`${name} must be a JSON object: ${(err as Error).message}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new ConfigError(`${name} must be a JSON object`);
  return value as Record<string, unknown>;
}

function traderTokens(env: NodeJS.ProcessEnv): Record<string, string> {
  try {
    return parseTraderTokens(env.TRADER_TOKENS);
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
}

/** Configurations `loadConfig` produced: complete and validated, so a broker given one uses it as it is. */
const parsedConfigs = new WeakSet<PlatformConfig>();

/** Parses and validates the environment; a bad value throws an error that names its variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): PlatformConfig {
  const tradingMode = (env.TRADING_MODE ?? "paper").toLowerCase();
  if (tradingMode !== "paper" && tradingMode !== "live") throw new ConfigError(`TRADING_MODE must be "paper" or "live", got "${env.TRADING_MODE}"`);
  const strategy = env.STRATEGY ?? "rule";
  if (strategy !== "rule" && strategy !== "lstm") throw new ConfigError(`STRATEGY must be "rule" or "lstm", got "${strategy}"`);
  const startCash = env.START_CASH ?? "10000";
  if (!MONEY_AMOUNT.test(startCash)) throw new ConfigError(`START_CASH must be a decimal amount with at most 12 decimal places, got "${startCash}"`);
  const traderAllowance = env.TRADER_ALLOWANCE || startCash;
  if (!MONEY_AMOUNT.test(traderAllowance)) throw new ConfigError(`TRADER_ALLOWANCE must be a decimal amount with at most 12 decimal places, got "${traderAllowance}"`);
  const dataDir = path.resolve(env.DATA_DIR ?? "./data");
  const config: PlatformConfig = {
    port: positiveNumber(env, "PORT", 3000),
    dataDir,
    apiToken: env.API_TOKEN || undefined,
    traderTokens: traderTokens(env),
    startCash,
    traderAllowance,
    quotas: {
      instrumentsPerTrader: positiveInteger(env, "INSTRUMENTS_PER_TRADER", 10),
      instrumentsTotal: positiveInteger(env, "INSTRUMENTS_MAX", 50),
      portfoliosPerTrader: positiveInteger(env, "PORTFOLIOS_PER_TRADER", 5),
    },
    marketData: (env.MARKET_DATA ?? "sim").toLowerCase(),
    simSpeed: positiveNumber(env, "SIM_SPEED", 1),
    simSeed: positiveNumber(env, "SIM_SEED", 42),
    backfillCandles: positiveNumber(env, "BACKFILL_CANDLES", 300),
    kafkaBrokers: (env.KAFKA_BROKERS ?? "").split(",").map((b) => b.trim()).filter(Boolean),
    kafkaNamespace: env.KAFKA_NAMESPACE ?? "",
    mongoUri: env.MONGO_URI || undefined,
    partitions: positiveNumber(env, "TOPIC_PARTITIONS", 6),
    strategy,
    modelVersion: env.MODEL_VERSION || undefined,
    marketStore: marketStore(env, dataDir),
    retention: retention(env),
    tradingMode,
    liveTradingConfirmed: env.LIVE_TRADING_CONFIRM === "yes",
    exchangeSandbox: /^(1|true|yes)$/i.test(env.EXCHANGE_SANDBOX ?? ""),
    exchangeSecretsFile: env.EXCHANGE_SECRETS_FILE ? path.resolve(env.EXCHANGE_SECRETS_FILE) : undefined,
    exchangeTimeoutMs: positiveNumber(env, "EXCHANGE_TIMEOUT_MS", 5000),
    exchangeUrls: jsonObject(env, "EXCHANGE_URLS"),
    apiLimits: {
      requestsPerSecond: positiveNumber(env, "API_RATE_LIMIT", 50),
      requestBurst: positiveInteger(env, "API_RATE_BURST", 100),
      streamsPerToken: positiveInteger(env, "SSE_STREAMS_PER_TOKEN", 5),
      authFailures: positiveInteger(env, "AUTH_FAILURE_LIMIT", 10),
      authFailureWindowMs: positiveNumber(env, "AUTH_FAILURE_WINDOW_S", 60) * 1000,
    },
    health: {
      ...DEFAULT_HEALTH_SETTINGS,
      marketDataStaleMs: positiveNumber(env, "HEALTH_MARKET_DATA_STALE_MS", DEFAULT_HEALTH_SETTINGS.marketDataStaleMs),
      lagThreshold: positiveNumber(env, "HEALTH_LAG_THRESHOLD", DEFAULT_HEALTH_SETTINGS.lagThreshold),
    },
  };
  parsedConfigs.add(config);
  return config;
}

const brokerConfigs = new WeakMap<ServiceBroker, PlatformConfig>();

/**
 * The one configuration of a broker's services: `metadata.config` of the broker as parsed at start.
 * Tests and embedded runs may pass only some settings there: the environment completes them (with
 * the given `dataDir` as DATA_DIR), once per broker, so every call after the first returns the same object without parsing anything.
 */
export function platformConfig(broker: ServiceBroker): PlatformConfig {
  let config = brokerConfigs.get(broker);
  if (!config) {
    const given = (broker.metadata as { config?: Partial<PlatformConfig> } | undefined)?.config;
    // A given DATA_DIR is where the settings derived from it (the embedded market data store) go too.
    config = given && parsedConfigs.has(given as PlatformConfig) ? (given as PlatformConfig) : { ...loadConfig(given?.dataDir ? { ...process.env, DATA_DIR: given.dataDir } : process.env), ...given };
    brokerConfigs.set(broker, config);
  }
  return config;
}
