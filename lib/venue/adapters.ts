/**
 * The one place the facade's adapters are chosen, by configuration:
 *
 *   MARKET_DATA=sim                            simulator feed   + paper venue on the simulator's rules
 *   MARKET_DATA=<ccxt id>, TRADING_MODE=paper  exchange's feed  + paper venue on the exchange's rules and prices
 *   MARKET_DATA=<ccxt id>, TRADING_MODE=live   exchange's feed  + real orders on the exchange (after the opt-in checks)
 *
 * The exchange service talks to the result only through the MarketDataFeed and TradingVenue seams.
 */
import type { PlatformConfig } from "../config";
import { wallClock, type Clock } from "../clock";
import { simMarketInfo } from "../market/catalog";
import type { Execution } from "../../schemas";
import type { CircuitStatus } from "./circuit-breaker";
import { CcxtConnection, DEFAULT_TUNING } from "./ccxt-connection";
import { CcxtFeed, type FeedLogger, type StreamStatus } from "./ccxt-feed";
import { CcxtVenue, type LiveVenueStatus } from "./ccxt-venue";
import { decimalOf } from "./ccxt-convert";
import { Credentials } from "./credentials";
import { PaperVenue, type PaperJournal } from "./paper-venue";
import { SimulatedFeed } from "./sim-feed";
import type { MarketDataFeed, TradingVenue, VenueJournal } from "./types";

/** What `exchange.status` answers (and `/api/health` can show): never any key material. */
export interface ExchangeStatus {
  /** The exchange traded on, or "sim". */
  exchange: string;
  marketData: string;
  tradingMode: "paper" | "live";
  sandbox: boolean;
  /** The venue's circuit breaker: "open" while it is unreachable. */
  circuit: CircuitStatus;
  markets?: { loaded: boolean; count: number; loadedAt?: number };
  streams: StreamStatus[] | string[];
  live?: LiveVenueStatus;
}

export interface VenueAdapters {
  feed: MarketDataFeed;
  venue: TradingVenue;
  /** Starts what needs the venue (live: journal, reconciliation, user-data stream). */
  start(): Promise<void>;
  stop(): Promise<void>;
  status(): ExchangeStatus;
  /** Order updates and fills the venue reports on its own (resting orders, the live user-data stream). */
  onExecution(listener: (execution: Execution) => void): void;
  /** Live trading only: the exchange account's balance of a currency (free + in open orders), which the platform hands out. */
  accountBalance?(currency: string): Promise<string>;
}

export interface AdapterDependencies {
  logger: FeedLogger;
  paperJournal: PaperJournal;
  liveJournal: VenueJournal;
  /** Simulated time to continue from (the simulator's clock survives restarts). */
  simStartTime?: number;
  onCircuitChange?: (status: CircuitStatus) => void;
  /** Where EXCHANGE_API_KEY / EXCHANGE_API_SECRET are read (the process environment by default). */
  env?: NodeJS.ProcessEnv;
  /** The time of orders, fills and connection state; the wall clock by default. */
  clock?: Clock;
}

/**
 * Whose books DATA_DIR holds: paper trading (on any feed), or real trading on one exchange account.
 * The system of record never mixes them.
 */
export function tradingAccountOf(config: PlatformConfig): string {
  if (config.tradingMode !== "live") return "paper";
  return `${config.marketData} ${config.exchangeSandbox ? "sandbox" : "live"}`;
}

export function selectAdapters(config: PlatformConfig, deps: AdapterDependencies): VenueAdapters {
  if (config.marketData === "sim") {
    if (config.tradingMode === "live") throw new Error("TRADING_MODE=live needs a real exchange: set MARKET_DATA to a ccxt exchange id (e.g. binance)");
    return simulatorAdapters(config, deps);
  }
  if (!CcxtConnection.exchangeIds().includes(config.marketData)) {
    throw new Error(`MARKET_DATA=${config.marketData} is neither "sim" nor an exchange ccxt streams; e.g. binance, kraken, okx, bybit, coinbase`);
  }
  const tuning = { ...DEFAULT_TUNING, ...config.exchangeTuning };
  const live = config.tradingMode === "live";
  const credentials = live ? liveCredentials(config, deps.env) : undefined;
  const conn = new CcxtConnection({
    exchangeId: config.marketData,
    credentials,
    sandbox: config.exchangeSandbox,
    timeoutMs: config.exchangeTimeoutMs,
    urls: config.exchangeUrls,
    tuning,
    onCircuitChange: deps.onCircuitChange,
    clock: deps.clock,
  });
  const feed = new CcxtFeed(conn, tuning, deps.logger);
  let venue: TradingVenue;
  let liveVenue: CcxtVenue | undefined;
  if (live) {
    liveVenue = new CcxtVenue(conn, deps.liveJournal, tuning, deps.logger);
    venue = liveVenue;
    deps.logger.info(`LIVE TRADING on ${conn.id}${config.exchangeSandbox ? " (sandbox)" : ""}: real orders, keys from ${credentials!.source}`);
  } else {
    // Paper fills against the exchange's own prices, on the exchange's own trading rules.
    venue = new PaperVenue((_exchange, symbol) => conn.cachedMarket(symbol), conn.clock, deps.paperJournal);
  }
  return {
    feed,
    venue,
    ...(live && {
      async accountBalance(currency: string) {
        const balances = await conn.rest((exchange) => exchange.fetchBalance());
        return decimalOf(balances[currency]?.total) ?? "0";
      },
    }),
    async start() {
      await conn.loadMarkets().catch((err: Error) => deps.logger.warn(`${err.message}: markets load when the exchange answers`));
      if (venue instanceof PaperVenue) await venue.load();
      await liveVenue?.start();
    },
    async stop() {
      await feed.stop();
      await liveVenue?.stop();
      await conn.close();
    },
    status() {
      return {
        exchange: conn.id,
        marketData: config.marketData,
        tradingMode: config.tradingMode,
        sandbox: config.exchangeSandbox,
        circuit: conn.breaker.status(),
        markets: conn.marketsStatus(),
        streams: feed.status(),
        ...(liveVenue && { live: liveVenue.status() }),
      };
    },
    // Paper fills come back from `onMarket`; only the live venue reports on its own.
    onExecution(listener) {
      liveVenue?.onExecution(listener);
    },
  };
}

/** The keys, after the checks that make live trading a deliberate act. */
function liveCredentials(config: PlatformConfig, env?: NodeJS.ProcessEnv): Credentials {
  if (!CcxtConnection.profileOf(config.marketData).liveTrading) {
    throw new Error(`TRADING_MODE=live is supported on binance; ${config.marketData} gives market data and paper trading only`);
  }
  if (!config.liveTradingConfirmed) {
    throw new Error("TRADING_MODE=live places real orders with real money: set LIVE_TRADING_CONFIRM=yes to confirm");
  }
  const credentials = Credentials.load({ secretsFile: config.exchangeSecretsFile, env });
  if (!credentials) throw new Error("TRADING_MODE=live needs API keys: EXCHANGE_SECRETS_FILE, or EXCHANGE_API_KEY and EXCHANGE_API_SECRET");
  return credentials;
}

function simulatorAdapters(config: PlatformConfig, deps: AdapterDependencies): VenueAdapters {
  const clock = deps.clock ?? wallClock;
  const feed = new SimulatedFeed({ speed: config.simSpeed, seed: config.simSeed, startTime: deps.simStartTime, clock });
  const venue = new PaperVenue(simMarketInfo, clock, deps.paperJournal);
  const startedAt = clock.now();
  return {
    feed,
    venue,
    start: () => venue.load(),
    stop: () => feed.stop(),
    status: () => ({
      exchange: "sim",
      marketData: "sim",
      tradingMode: "paper",
      sandbox: false,
      // The simulator is in process: never unreachable.
      circuit: { state: "closed", since: startedAt, consecutiveFailures: 0, trips: 0 },
      streams: feed.subscriptions(),
    }),
    // The paper broker's resting-order fills come back from `onMarket`, not from here.
    onExecution: () => undefined,
  };
}
