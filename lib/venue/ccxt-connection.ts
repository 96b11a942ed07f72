/**
 * One ccxt exchange (REST, and WebSocket through ccxt.pro) shared by the live feed and the live
 * venue: one rate limiter, one circuit breaker, one copy of the market metadata. Every REST call goes
 * through `rest`, which lets the breaker fail fast during an outage and turns ccxt's exceptions into
 * typed `VenueError`s with the key material scrubbed out.
 */
import http from "node:http";
import { pro, type Exchange, type MarketInterface, type Order, type Trade } from "ccxt";
import { wallClock, type Clock } from "../clock";
import type { ExchangeTuning } from "../config";
import { VenueError } from "../errors";
import type { MarketInfo } from "../../schemas";
import { CircuitBreaker, type CircuitStatus } from "./circuit-breaker";
import { closeMatches } from "./close-matches";
import { isOutage, venueErrorOf } from "./ccxt-errors";
import { marketInfoOf } from "./ccxt-convert";
import { redactSignatures, type Credentials } from "./credentials";

/** Markets are reloaded in the background when older than this (listings and filters change). */
const MARKETS_MAX_AGE_MS = 60 * 60 * 1000;

export const DEFAULT_TUNING: ExchangeTuning = {
  reconnectBaseMs: 1000,
  reconnectMaxMs: 30_000,
  breakerThreshold: 3,
  breakerCooldownMs: 5000,
  reconcileIntervalMs: 60_000,
  bookIntervalMs: 1000,
};

/**
 * What differs between exchanges, declared once per exchange (instead of `if (id === ...)` checks
 * spread through the adapter). Exchanges without a profile get market data only.
 */
export interface ExchangeProfile {
  /** ccxt options: keep the adapter on spot markets and off endpoints a spot trader does not need. */
  options: Record<string, unknown>;
  /** Live trading is verified against this exchange's protocol (the test suite's local server speaks Binance's). */
  liveTrading: boolean;
  /** The order the venue has under our client order id, or undefined. */
  findOrder(exchange: Exchange, symbol: string, clientOrderId: string): Promise<Order | undefined>;
  /** Every trade of one order. */
  tradesOfOrder(exchange: Exchange, symbol: string, venueOrderId: string, since: number): Promise<Trade[]>;
  /** The WebSocket URL of the account's order and trade updates, for its connection status. */
  userStreamUrl(exchange: Exchange): string | undefined;
}

const unifiedProfile: ExchangeProfile = {
  options: { defaultType: "spot" },
  liveTrading: false,
  async findOrder(exchange, symbol, clientOrderId) {
    try {
      return await exchange.fetchOrder("", symbol, { clientOrderId });
    } catch (err) {
      if (venueErrorOf(err, exchange.id, redactSignatures)?.code === "order_not_found") return undefined;
      throw err;
    }
  },
  async tradesOfOrder(exchange, symbol, venueOrderId, since) {
    const trades = await exchange.fetchMyTrades(symbol, since);
    return trades.filter((t) => String(t.order) === venueOrderId);
  },
  userStreamUrl: () => undefined,
};

const PROFILES: Record<string, ExchangeProfile> = {
  binance: {
    ...unifiedProfile,
    // Spot only: no futures (fapi/dapi) market lists, no sapi currency list that needs keys.
    options: {
      defaultType: "spot",
      fetchMarkets: { types: ["spot"] },
      fetchMargins: false,
      fetchCurrencies: false,
      watchOrderBookLimit: 100,
      // The full 24h ticker carries the best bid and ask; ccxt's default (miniTicker) does not.
      watchTickers: { name: "ticker" },
      // The trade stream's ids: a REST poll while the stream is down must not repeat its trades under aggregate ids.
      fetchTradesMethod: "publicGetTrades",
    },
    liveTrading: true,
    // Binance's myTrades takes the order id directly: no time window to page through.
    async tradesOfOrder(exchange, symbol, venueOrderId) {
      return exchange.fetchMyTrades(symbol, undefined, undefined, { orderId: venueOrderId });
    },
    // Spot account updates come over the WebSocket API (userDataStream.subscribe.signature).
    userStreamUrl: (exchange) => (exchange.urls.api as { ws?: { "ws-api"?: { spot?: string } } }).ws?.["ws-api"]?.spot,
  },
};

/**
 * ccxt leaves some WebSocket promises without a listener, and an unhandled rejection ends a Node
 * process (the whole platform, in the embedded mode):
 * - futures created ahead of time for callers that may never come (Binance's user-data
 *   subscription), which reject when the connection fails;
 * - the subscription message sent after the rate limiter's wait, whose send rejects "WebSocket is
 *   not open" when the socket closed meanwhile (the closed socket itself rejects the stream's
 *   watch, and the feed reconnects).
 * Each gets a no-op observer; callers that await them still receive the rejection.
 */
function observeFutures(exchange: Exchange): void {
  type Client = { future(hash: string): Promise<unknown>; send(message: unknown): Promise<unknown>; observed?: boolean };
  const observed = <A extends unknown[]>(fn: (...args: A) => Promise<unknown>) => (...args: A) => {
    const promise = fn(...args);
    promise.catch(() => undefined);
    return promise;
  };
  const ex = exchange as unknown as { client(url: string): Client };
  const client = ex.client.bind(exchange);
  ex.client = (url: string) => {
    const c = client(url);
    if (!c.observed) {
      c.future = observed(c.future.bind(c));
      c.send = observed(c.send.bind(c));
      c.observed = true;
    }
    return c;
  };
}

export interface CcxtConnectionOptions {
  exchangeId: string;
  /** Only for live trading; market data and paper trading never send keys. */
  credentials?: Credentials;
  sandbox: boolean;
  timeoutMs: number;
  urls?: Record<string, unknown>;
  tuning: ExchangeTuning;
  onCircuitChange?: (status: CircuitStatus) => void;
  /** The time of the connection, its breaker and the feed and venue on it; the wall clock by default. */
  clock?: Clock;
}

export class CcxtConnection {
  readonly id: string;
  readonly exchange: Exchange;
  readonly breaker: CircuitBreaker;
  readonly clock: Clock;
  readonly profile: ExchangeProfile;
  private readonly credentials?: Credentials;
  private markets = new Map<string, { info: MarketInfo; id: string }>();
  private marketsLoadedAt = 0;
  private loading?: Promise<void>;

  /** Exchange ids ccxt has a WebSocket (ccxt.pro) class for. */
  static exchangeIds(): string[] {
    return Object.keys(pro).filter((id) => typeof (pro as unknown as Record<string, unknown>)[id] === "function");
  }

  static profileOf(exchangeId: string): ExchangeProfile {
    return PROFILES[exchangeId] ?? unifiedProfile;
  }

  constructor(options: CcxtConnectionOptions) {
    const Class = (pro as unknown as Record<string, new (config: object) => Exchange>)[options.exchangeId];
    if (typeof Class !== "function") throw new Error(`MARKET_DATA=${options.exchangeId} is not an exchange ccxt streams (ccxt.pro)`);
    this.id = options.exchangeId;
    this.clock = options.clock ?? wallClock;
    this.profile = CcxtConnection.profileOf(options.exchangeId);
    this.credentials = options.credentials;
    const exchange = new Class({
      ...options.credentials?.forCcxt(),
      enableRateLimit: true,
      timeout: options.timeoutMs,
      verbose: false, // verbose mode prints request headers, API key included
    });
    if (options.sandbox) exchange.setSandboxMode(true);
    // Our own loops own the reconnect backoff (and report it); ccxt dials again at once.
    exchange.options = exchange.deepExtend(exchange.options, this.profile.options, { ws: { backoff: { base: 0 } } });
    exchange.streaming = { ...exchange.streaming, connectionTimeout: options.timeoutMs };
    if (options.urls) {
      exchange.urls = { ...exchange.urls, api: exchange.deepExtend(exchange.urls.api, options.urls) };
      // ccxt opens plain ws:// endpoints (a local server, a proxy) only with an http agent.
      if (JSON.stringify(options.urls).includes('"ws://')) exchange.httpAgent = new http.Agent();
    }
    observeFutures(exchange);
    this.exchange = exchange;
    this.breaker = new CircuitBreaker(
      `exchange ${this.id}`,
      {
        failureThreshold: options.tuning.breakerThreshold,
        cooldownMs: options.tuning.breakerCooldownMs,
        maxCooldownMs: 60_000,
        redact: (text) => this.redact(text),
      },
      this.clock,
      options.onCircuitChange,
    );
  }

  /** `text` without key material or request signatures. */
  redact(text: string): string {
    return this.credentials ? this.credentials.redact(text) : redactSignatures(text);
  }

  /** The typed refusal behind a ccxt exception (or the exception itself when it is not the venue's). */
  venueError(err: unknown): Error {
    return venueErrorOf(err, this.id, (text) => this.redact(text)) ?? (err as Error);
  }

  /** One REST call under the circuit breaker; failures come out as `VenueError`s. */
  async rest<T>(call: (exchange: Exchange) => Promise<T>): Promise<T> {
    try {
      return await this.breaker.run(() => call(this.exchange), isOutage);
    } catch (err) {
      throw this.venueError(err);
    }
  }

  /**
   * Loads the market list once, and again in the background when it is old. ccxt keeps a failed
   * `loadMarkets` promise and hands it back forever, so a retry after a failure forces a reload.
   */
  async loadMarkets(): Promise<void> {
    if (this.marketsLoadedAt === 0) return this.reloadMarkets();
    if (this.clock.now() - this.marketsLoadedAt > MARKETS_MAX_AGE_MS) void this.reloadMarkets().catch(() => undefined);
  }

  private reloadMarkets(): Promise<void> {
    this.loading ??= this.rest((exchange) => exchange.loadMarkets(true))
      .then((markets) => {
        const spot = Object.values(markets as Record<string, MarketInterface>).filter((m) => m.spot && m.active !== false);
        this.markets = new Map(spot.map((m) => [m.symbol, { info: marketInfoOf(this.id, m, this.exchange.precisionMode), id: String(m.id) }]));
        this.marketsLoadedAt = this.clock.now();
      })
      .finally(() => {
        this.loading = undefined;
      });
    return this.loading;
  }

  /** Trading rules of a spot market; `unknown_symbol` names the closest listed symbols. */
  async market(symbol: string): Promise<MarketInfo> {
    await this.loadMarkets();
    return this.cachedMarket(symbol);
  }

  /** The same from the loaded list, synchronously (the paper broker asks this way). */
  cachedMarket(symbol: string): MarketInfo {
    if (this.marketsLoadedAt === 0) throw new VenueError("venue_unavailable", `exchange ${this.id} unreachable`, { cause: "markets not loaded yet" });
    const market = this.markets.get(symbol);
    if (!market) {
      const matches = closeMatches(symbol, this.markets.keys());
      const hint = matches.length > 0 ? `; close matches: ${matches.join(", ")}` : "";
      throw new VenueError("unknown_symbol", `${symbol} is not a spot market of ${this.id}${hint}`, { closeMatches: matches });
    }
    return market.info;
  }

  /** The exchange's own id of a market (Binance: BTC/USDT → BTCUSDT). */
  marketId(symbol: string): string {
    return this.markets.get(symbol)?.id ?? symbol.replace("/", "");
  }

  marketsStatus(): { loaded: boolean; count: number; loadedAt?: number } {
    return { loaded: this.marketsLoadedAt > 0, count: this.markets.size, ...(this.marketsLoadedAt > 0 && { loadedAt: this.marketsLoadedAt }) };
  }

  async close(): Promise<void> {
    await this.exchange.close().catch(() => undefined);
  }
}
