/**
 * API Gateway (moleculer-web): REST under /api, routes gathered from the actions' `rest`
 * declarations. Every route but /api/health needs `Authorization: Bearer <API_TOKEN>`; invalid input
 * answers 422 naming the field and the reason.
 *
 * It also serves the trader dashboard (the Vite build in dashboard/dist) at `/`, with every other
 * non-API page path answered by its index.html (client-side routes), and pushes live events to the
 * dashboard over Server-Sent Events at `GET /api/stream`, with the same bearer token as the REST
 * routes. It consumes the topics the dashboard shows, hands each event to every gateway instance
 * (so a scaled-out gateway pushes everything on every instance), and records each portfolio's
 * equity history from `portfolio.updated` (`GET /api/portfolios/:id/equity`). A trader's stream
 * carries their own portfolios' events only.
 */
import fs from "node:fs";
import path from "node:path";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Context, ServiceSchema, ServiceSettingSchema } from "moleculer";
import { Errors } from "moleculer";
import ApiGateway from "moleculer-web";
import { TopicsMixin, type TopicMethods, type TopicLocals } from "../mixins/topics.mixin";
import { StoreMixin, type Stores } from "../mixins/store.mixin";
import { ALL_TOPICS, SERVICE_NAMES, TOPICS, TOPIC_TABLE } from "../schemas";
import type { Envelope, FeaturesComputed, PortfolioSnapshot, TradeApproved, TradeRejected } from "../schemas/events";
import type { Candle, DecimalString, Fill, TradingSignal } from "../lib/types";
import { platformConfig, type ApiLimits } from "../lib/config";
import { ApiAuth, PORTFOLIO_ID, canSee, principalKey, resolveApiToken, type Principal } from "../lib/auth";
import { FailureThrottle, MAX_BODY, RateLimiter, checkRequestInput, tooManyRequests } from "../lib/http/guards";
import { errorResponse } from "../lib/http/error-response";
import { buildOpenApi, documented, methodsAt, routesOf, type AliasInfo, type RouteDoc } from "../lib/openapi";
import { EQUITY_POINT, HEALTH, HEALTH_NOT_READY, LIVENESS, OPENAPI_DOCUMENT, TOPIC_STATS, listOf } from "../schemas/api";
import type { ExchangeStatus } from "../lib/venue/adapters";
import { LagWatch, marketDataCauses, missingServiceCauses, verdictOf, answerWithin, type HealthCause, type HealthSettings, type MarketDataActivity } from "../lib/health";
import { wallClock } from "../lib/clock";

/** The dashboard's production build (`npm run build:dashboard`). */
export const DASHBOARD_DIST = path.resolve(__dirname, "../dashboard/dist");

/** One point of a portfolio's equity history, recorded from each `portfolio.updated`. */
export interface EquityPoint {
  portfolioId: string;
  time: number;
  equity: DecimalString;
  cash: DecimalString;
  realizedPnl: DecimalString;
  unrealizedPnl: DecimalString;
  cause: PortfolioSnapshot["cause"];
}

/** What `GET /api/stream` pushes: the SSE event name and its JSON data. */
export interface LiveEvents {
  /** First event of every connection: the dashboard resynchronises its views when it reconnects. */
  hello: { serverStartedAt: number; heartbeatMs: number };
  portfolio: PortfolioSnapshot;
  /** A closed 1-minute candle with its indicators; `candle` is null when the market data store has not stored it yet. */
  candle: { instrumentKey: string; candle: Candle | null; indicators: FeaturesComputed };
  signal: TradingSignal;
  decision: ({ outcome: "approved" } & TradeApproved) | ({ outcome: "rejected" } & TradeRejected);
  fill: Fill;
}
export type LiveEventName = keyof LiveEvents;

/** What one gateway instance hands the others (Moleculer event `gateway.live`). */
interface LiveEvent {
  event: LiveEventName;
  data: LiveEvents[LiveEventName];
  portfolioId?: string;
}

/** A comment line every so often keeps proxies from closing an idle stream and lets clients spot a dead one. */
const HEARTBEAT_MS = 15_000;
/** A client that stops reading is dropped once this much is queued for it; it reconnects and resynchronises. */
const MAX_BUFFERED_BYTES = 1 << 20;
/** Equity points kept per portfolio; older ones are pruned every tenth of that many inserts. */
const EQUITY_POINTS_KEPT = 20_000;

type StaticHandler = (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void;

interface GatewayLocals extends TopicLocals {
  /** moleculer-web's static file handler (serve-static over the dashboard build). */
  serve?: StaticHandler;
  auth: ApiAuth;
  startedAt: number;
  stores: Stores<{ equity: EquityPoint }>;
  /** Each open stream with who opened it: a trader's stream carries only their portfolios' events. */
  streams: Map<ServerResponse, Principal>;
  /** Owner of each portfolio seen (null: the operator's), to scope the pushed events; owners never change. */
  owners: Map<string, string | null>;
  /** Set once the gateway is stopping: no new streams from then on. */
  stopping: boolean;
  heartbeat?: NodeJS.Timeout;
  equityInsertsSincePrune: Map<string, number>;
  apiLimits: ApiLimits;
  /** Requests per token: a token bucket per principal. */
  requestLimiter: RateLimiter;
  /** Wrong tokens per remote address. */
  authFailures: FailureThrottle;
  /** True from a change of the services until moleculer-web has regenerated the routes (it waits 500 ms). */
  routesPending: boolean;
  lagWatch: LagWatch;
  healthSettings: HealthSettings;
  /** moleculer-web's: the routes (each naming its action), the debounced schedule of their regeneration, and one route's regeneration. */
  aliases: AliasInfo[];
  regenerateAllAutoAliases: () => void;
  regenerateAutoAliases: (route: unknown) => void;
}

type RequestWithAction = IncomingMessage & { $action?: { name: string; openapi?: RouteDoc } };

interface GatewayMethods extends TopicMethods {
  authorize(ctx: Context, route: unknown, req: RequestWithAction): Promise<void>;
  send404(req: IncomingMessage, res: ServerResponse): void;
  openStream(req: IncomingMessage, res: ServerResponse): void;
  /** Hands a live event to every gateway instance (the topic consumers' group shares the partitions among them). */
  fanOut<E extends LiveEventName>(event: E, data: LiveEvents[E], portfolioId?: string): Promise<void>;
  /** A live candle with its OHLCV bar from the market data store, when it is there. */
  withCandle(live: LiveEvents["candle"]): Promise<LiveEvents["candle"]>;
  /** Pushes a live event to this instance's streams that may see it. */
  broadcast<E extends LiveEventName>(event: E, data: LiveEvents[E], portfolioId?: string): Promise<void>;
  ownerOf(portfolioId: string): Promise<string | null | undefined>;
  recordEquity(snapshot: PortfolioSnapshot, envelope: Envelope<PortfolioSnapshot>): Promise<void>;
}

/**
 * Whether a request that matched neither an API route nor a file of the build is a page of the
 * dashboard (a client-side route such as /market): GET or HEAD, outside /api, and no file extension
 * (a missing /assets/app.js stays a 404 instead of becoming HTML).
 */
export function isDashboardPage(method: string | undefined, url: string | undefined): boolean {
  if (method !== "GET" && method !== "HEAD") return false;
  if (isApiPath(url)) return false;
  return !path.posix.basename(pathOf(url)).includes(".");
}

const pathOf = (url: string | undefined) => (url ?? "/").split("?")[0]!;
const isApiPath = (url: string | undefined) => pathOf(url) === "/api" || pathOf(url).startsWith("/api/");
/** moleculer-web strips a matched route's prefix from req.url ("/api/nope" → "/nope"); originalUrl keeps it. */
const requestPath = (req: IncomingMessage) => (req as { originalUrl?: string }).originalUrl ?? req.url;

/** What `GET /api/stream` answers, for the OpenAPI document. */
const STREAM_DOC: RouteDoc = {
  summary: "Server-Sent Events: hello, then portfolio, candle, signal, decision and fill events, and a heartbeat comment every 15 s",
  contentType: "text/event-stream",
  // Each event as an SSE client reads it: its name and its JSON text.
  response: { type: "object", required: ["event", "data"], properties: { event: { type: "string", enum: ["hello", "portfolio", "candle", "signal", "decision", "fill"] }, data: { type: "string" } } },
};

const sseFrame = (event: string, data: unknown) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;

/**
 * moleculer-web's `onError` hook, for the API route and for what fails before a route is chosen
 * (a malformed URL): JSON with `message` and, on validation, `data[].field`; no node ids; 5xx only
 * for the platform's own failures (moleculer-web has logged those already).
 */
function answerError(req: IncomingMessage, res: ServerResponse, err: unknown): void {
  const { status, body, retryAfterSeconds } = errorResponse(err);
  if (res.headersSent) {
    // A stream already answering: nothing can be said any more but the end.
    res.end();
    return;
  }
  res.writeHead(status, { "Content-Type": "application/json; charset=utf-8", ...(retryAfterSeconds ? { "Retry-After": String(retryAfterSeconds) } : {}) });
  res.end(req.method === "HEAD" ? undefined : JSON.stringify(body));
}

const GatewayService: ServiceSchema<ServiceSettingSchema & Record<string, unknown>, GatewayMethods, GatewayLocals> = {
  name: "gateway",
  mixins: [ApiGateway as unknown as Partial<ServiceSchema>, StoreMixin({ equity: [{ fields: ["portfolioId", "time"] }] }), TopicsMixin()],

  settings: {
    rest: "/",
    port: Number(process.env.PORT ?? 3000),
    ip: process.env.HOST ?? "0.0.0.0",
    routes: [
      {
        path: "/api",
        authorization: true,
        autoAliases: true,
        mappingPolicy: "restrict",
        // Compressed bodies are refused (415): nothing sends them, and a decompression error would be no 4xx.
        bodyParsers: { json: { strict: true, limit: MAX_BODY, inflate: false } },
        // After the body parser, before any validator: refuses what no action should see (lib/http/guards.ts).
        use: [checkRequestInput],
        onError: answerError,
        cors: false,
        mergeParams: true,
        aliases: {
          "GET /stream": documented(STREAM_DOC, function (this: GatewayMethods, req: IncomingMessage, res: ServerResponse) {
            this.openStream(req, res);
          }),
        },
      },
    ],
    assets: {
      folder: DASHBOARD_DIST,
      options: {
        index: "index.html",
        // Vite names the bundles by content hash, so they never change; index.html must be revalidated.
        setHeaders(res: ServerResponse, filePath: string) {
          const hashed = filePath.includes(`${path.sep}assets${path.sep}`);
          res.setHeader("Cache-Control", hashed ? "public, max-age=31536000, immutable" : "no-cache");
        },
      },
    },
    // The dashboard calls the API many times a minute: one info line per request would drown the log.
    logRequest: "debug",
    logResponse: "debug",
    log4XXResponses: false,
    onError: answerError,
  },

  topics: {
    [TOPICS.portfolioUpdated]: {
      async handler(snapshot: PortfolioSnapshot, envelope: Envelope<PortfolioSnapshot>) {
        await this.recordEquity(snapshot, envelope);
        await this.fanOut("portfolio", snapshot, snapshot.portfolioId);
      },
    },

    [TOPICS.featuresIndicators]: {
      async handler(indicators: FeaturesComputed) {
        // The OHLCV bar is added by each gateway that has streams open (withCandle).
        await this.fanOut("candle", { instrumentKey: indicators.instrumentKey, candle: null, indicators });
      },
    },

    [TOPICS.tradingSignals]: {
      async handler(signal: TradingSignal) {
        await this.fanOut("signal", signal);
      },
    },

    [TOPICS.tradesApproved]: {
      async handler(approved: TradeApproved) {
        await this.fanOut("decision", { outcome: "approved", ...approved }, approved.portfolioId);
      },
    },

    [TOPICS.tradesRejected]: {
      async handler(rejected: TradeRejected) {
        await this.fanOut("decision", { outcome: "rejected", ...rejected }, rejected.portfolioId);
      },
    },

    [TOPICS.ordersFills]: {
      async handler(fill: Fill) {
        await this.fanOut("fill", fill, fill.portfolioId);
      },
    },
  },

  events: {
    /** A live event consumed by any gateway instance, for this instance's streams. */
    "gateway.live": {
      async handler(ctx: Context<LiveEvent>) {
        const { event, data, portfolioId } = ctx.params;
        // Every instance learns owners from the snapshots, not just the one consuming portfolio.updated.
        if (event === "portfolio") this.owners.set((data as PortfolioSnapshot).portfolioId, (data as PortfolioSnapshot).owner ?? null);
        if (this.streams.size === 0) return;
        const pushed = event === "candle" ? await this.withCandle(data as LiveEvents["candle"]) : data;
        await this.broadcast(event, pushed as never, portfolioId);
      },
    },
  },

  actions: {
    /**
     * Readiness: 503 while a service of the platform is missing or its routes are not served yet,
     * else 200 with `ok`, or `degraded` and the causes (market data stopped, a consumer group
     * falling behind without bound, the store, the bus or the exchange unreachable).
     */
    health: {
      rest: "GET /health",
      openapi: { public: true, response: HEALTH, answers: { 503: { description: "Not ready: `causes` says why", schema: HEALTH_NOT_READY } } },
      async handler(ctx: Context<unknown, { $statusCode?: number }>) {
        const services = [...new Set(this.broker.registry.getServiceList({ onlyAvailable: true }).map((s: { name: string }) => s.name))].filter((n) => !n.startsWith("$"));
        // Distributed, the platform is every service; embedded, the ones this process was told to run.
        const required = this.broker.transit ? SERVICE_NAMES : this.broker.services.map((s) => s.name).filter((n) => (SERVICE_NAMES as readonly string[]).includes(n));
        const causes: HealthCause[] = missingServiceCauses(required, services);
        // Every REST action of a running service must have its route (moleculer-web adds them 500 ms after the service appears).
        const routed = new Set(this.aliases.map((alias) => alias.action));
        const unrouted = this.broker.registry
          .getActionList({ onlyAvailable: true, skipInternal: true, withEndpoints: false })
          .filter((a) => (a.action as { rest?: unknown } | undefined)?.rest && !routed.has(a.name))
          .map((a) => a.name);
        if (!this.broker.started || unrouted.length > 0) {
          causes.push({ kind: "routes_pending", message: `the gateway is adding the services' routes${unrouted.length > 0 ? ` (${unrouted.join(", ")})` : ""}` });
        }
        const running = new Set(services);
        const [exchange, enabled, store, stats] = await Promise.all([
          running.has("exchange") ? ctx.call<ExchangeStatus & { marketActivity?: MarketDataActivity }, Record<string, never>>("exchange.status", {}, { timeout: 1000 }).catch(() => undefined) : undefined,
          running.has("risk")
            ? ctx.call<Array<{ instrumentKey: string; enabled: boolean }>, Record<string, never>>("risk.listInstruments", {}, { timeout: 1000 }).then((list) => list.filter((i) => i.enabled).map((i) => i.instrumentKey), () => undefined)
            : undefined,
          answerWithin(this.stores.equity.get("health-probe"), 2000, "the store").then(() => undefined, (err: Error) => err.message),
          answerWithin(this.bus.stats(ALL_TOPICS), 2000, "the bus").catch((err: Error) => err),
        ]);
        if (store !== undefined) causes.push({ kind: "store_unreachable", message: `store unreachable: ${store}` });
        if (stats instanceof Error) causes.push({ kind: "bus_unreachable", message: `${this.bus.kind} bus unreachable: ${stats.message}` });
        else this.lagWatch.record(stats);
        causes.push(...this.lagWatch.causes());
        // The venue's circuit breaker: open while the exchange is down, shown here and on the dashboard.
        if (exchange && exchange.circuit.state !== "closed") {
          causes.push({ kind: "exchange_circuit_open", subject: exchange.exchange, message: `exchange ${exchange.exchange} circuit ${exchange.circuit.state}${exchange.circuit.lastError ? `: ${exchange.circuit.lastError}` : ""}` });
        }
        if (exchange?.marketActivity && enabled) causes.push(...marketDataCauses(enabled, exchange.marketActivity, this.healthSettings.marketDataStaleMs));
        const verdict = verdictOf(causes);
        if (!verdict.ready) ctx.meta.$statusCode = 503;
        return {
          status: verdict.status,
          ready: verdict.ready,
          causes: verdict.causes,
          uptimeSeconds: Math.round((wallClock.now() - this.startedAt) / 1000),
          bus: this.bus.kind,
          services: services.sort(),
          exchange: exchange && { exchange: exchange.exchange, tradingMode: exchange.tradingMode, sandbox: exchange.sandbox, circuit: exchange.circuit },
        };
      },
    },

    /** Liveness: 200 while the process runs and its event loop answers, whatever the rest of the platform does. */
    liveness: {
      rest: "GET /health/live",
      openapi: { public: true, response: LIVENESS },
      handler() {
        return { status: "alive", uptimeSeconds: Math.round((wallClock.now() - this.startedAt) / 1000) };
      },
    },

    // moleculer-web's own listing of every route: not part of the API (it answers 404).
    listAliases: false,

    /** Per topic: partition key, partitions, message count and each consumer group's lag. */
    topics: {
      rest: "GET /topics",
      openapi: { response: listOf(TOPIC_STATS) },
      async handler() {
        const stats = await this.bus.stats(ALL_TOPICS);
        return stats.map((s) => ({
          topic: s.topic,
          key: TOPIC_TABLE[s.topic as keyof typeof TOPIC_TABLE]?.key,
          producer: TOPIC_TABLE[s.topic as keyof typeof TOPIC_TABLE]?.producer,
          partitions: s.partitions,
          messages: s.messages,
          groups: s.groups,
        }));
      },
    },

    /** A portfolio's equity after each of its `portfolio.updated` events: the newest `limit`, oldest first. */
    equity: {
      rest: "GET /portfolios/:id/equity",
      openapi: { response: listOf(EQUITY_POINT) },
      params: {
        id: { type: "string", pattern: PORTFOLIO_ID, empty: false },
        limit: { type: "number", integer: true, positive: true, max: EQUITY_POINTS_KEPT, optional: true, convert: true },
      },
      async handler(ctx: Context<{ id: string; limit?: number }>) {
        // Answers 404 for a portfolio that does not exist or is another trader's.
        await ctx.call("risk.getPortfolio", { id: ctx.params.id });
        const newest = await this.stores.equity.find({ query: { portfolioId: ctx.params.id }, sort: ["-time"], limit: ctx.params.limit ?? 2000 });
        return newest.reverse();
      },
    },

    openapi: {
      rest: "GET /openapi.json",
      openapi: { response: OPENAPI_DOCUMENT },
      handler() {
        // moleculer-web's routing table (service base paths included) joined with the actions' params and docs.
        const actions = this.broker.registry.getActionList({ onlyAvailable: true, skipInternal: true, withEndpoints: false }) as Array<{
          name: string;
          action?: { params?: Record<string, unknown>; openapi?: RouteDoc };
        }>;
        return buildOpenApi(routesOf(this.aliases, actions, "/api"), { title: "Trading bot platform API", version: "1" });
      },
    },
  },

  methods: {
    async authorize(ctx, _route, req) {
      // Routes documented as public (health, liveness) need no token: one declaration for the auth and the document.
      if (req.$action?.openapi?.public) return;
      // An address that sent too many wrong tokens is refused before its token is even looked at:
      // answering a right one would let it go on guessing. Other addresses are not affected.
      const address = req.socket.remoteAddress ?? "unknown";
      const blockedMs = this.authFailures.retryAfterMs(address);
      if (blockedMs > 0) throw tooManyRequests("too many wrong bearer tokens from this address; retry later", "AUTH_THROTTLED", blockedMs);
      const header = req.headers.authorization;
      const principal = this.auth.authenticate(header);
      if (!principal) {
        if (header !== undefined) {
          const nowBlocked = this.authFailures.record(address);
          // Never the token itself, nor the query string (a client may have put the token there): the address and the route.
          this.logger.warn(`wrong bearer token from ${address} on ${req.method} ${pathOf(requestPath(req))}${nowBlocked ? `; ${this.apiLimits.authFailures} within ${this.apiLimits.authFailureWindowMs / 1000} s, the address is refused for now` : ""}`);
        }
        throw new Errors.MoleculerClientError("missing or wrong bearer token", 401, "UNAUTHORIZED");
      }
      const waitMs = this.requestLimiter.take(principalKey(principal));
      if (waitMs > 0) throw tooManyRequests(`more than ${this.apiLimits.requestsPerSecond} requests a second with this token (bursts of ${this.apiLimits.requestBurst}); slow down`, "RATE_LIMITED", waitMs);
      // Carried to every action the request calls (and theirs): they scope what the caller sees.
      (ctx.meta as { principal?: Principal }).principal = principal;
    },

    /** Not an API route and not a file of the build: a dashboard page gets index.html, anything else a 404. */
    send404(req, res) {
      if (isApiPath(requestPath(req)) && (!this.broker.started || this.routesPending)) {
        // Services add their routes as they start (risk waits for exchange, …): until the platform is
        // up, a route that is not there yet answers "not yet", not "no such route".
        res.writeHead(503, { "Content-Type": "application/json; charset=utf-8", "Retry-After": "1" });
        res.end(JSON.stringify({ name: "ServiceUnavailableError", message: "the platform is starting; retry shortly", code: 503, type: "STARTING" }));
        return;
      }
      // A route asked with a method it does not have: 405 with the ones it has, not 404.
      const allowed = isApiPath(requestPath(req)) ? methodsAt(this.aliases, pathOf(requestPath(req))) : [];
      if (allowed.length > 0) {
        res.writeHead(405, { "Content-Type": "application/json; charset=utf-8", Allow: allowed.join(", ") });
        res.end(JSON.stringify({ name: "MethodNotAllowedError", message: `${req.method} is not a method of this route; it has ${allowed.join(", ")}`, code: 405, type: "METHOD_NOT_ALLOWED" }));
        return;
      }
      if (!isDashboardPage(req.method, requestPath(req))) {
        (ApiGateway.methods!.send404 as (req: IncomingMessage, res: ServerResponse) => void).call(this, req, res);
        return;
      }
      fs.readFile(path.join(DASHBOARD_DIST, "index.html"), (err, html) => {
        if (err) {
          res.writeHead(503, { "Content-Type": "text/plain; charset=utf-8" });
          res.end("The dashboard is not built: run `npm run build:dashboard` (npm install does it too).\n");
          return;
        }
        res.writeHead(200, { "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-cache" });
        res.end(req.method === "HEAD" ? undefined : html);
      });
    },

    openStream(req, res) {
      // Set by authorize, which moleculer-web runs before this alias; without it nothing is streamed.
      const principal = ((req as { $ctx?: Context }).$ctx?.meta as { principal?: Principal } | undefined)?.principal;
      if (!principal) {
        res.writeHead(401, { "Content-Type": "text/plain; charset=utf-8" });
        res.end("missing or wrong bearer token\n");
        return;
      }
      if (this.stopping) {
        // A dashboard reconnecting over a kept-alive connection while the server closes: a stream
        // opened now would keep the server from closing. Refused, it retries after the restart.
        res.writeHead(503, { "Content-Type": "text/plain; charset=utf-8", Connection: "close", "Retry-After": "1" });
        res.end("the gateway is stopping\n");
        return;
      }
      const key = principalKey(principal);
      const open = [...this.streams.values()].filter((p) => principalKey(p) === key).length;
      if (open >= this.apiLimits.streamsPerToken) {
        throw tooManyRequests(`${open} live streams are open with this token, the most allowed (SSE_STREAMS_PER_TOKEN); close one first`, "TOO_MANY_STREAMS");
      }
      res.writeHead(200, {
        "Content-Type": "text/event-stream; charset=utf-8",
        "Cache-Control": "no-cache, no-transform",
        Connection: "keep-alive",
        "X-Accel-Buffering": "no",
      });
      res.write(sseFrame("hello", { serverStartedAt: this.startedAt, heartbeatMs: HEARTBEAT_MS }));
      this.streams.set(res, principal);
      // The response's close (not the request's, which fires once its body is read) means the client left.
      res.on("close", () => this.streams.delete(res));
      req.socket.setNoDelay(true);
    },

    async withCandle(live) {
      // Indicators follow each closed candle; the candle itself comes from the market data store,
      // which stores it from market.raw.data concurrently. If it is not there yet (or the store is
      // down) the push goes out without it: the dashboard sees the gap and reloads the history.
      try {
        const [latest] = await this.broker.call<Candle[], { instrument: string; before: number; limit: number }>("ingestion.candles", {
          instrument: live.instrumentKey,
          before: live.indicators.openTime + 1,
          limit: 1,
        });
        return latest?.openTime === live.indicators.openTime ? { ...live, candle: latest } : live;
      } catch (err) {
        this.logger.debug(`live candle of ${live.instrumentKey} pushed without OHLCV: ${(err as Error).message}`);
        return live;
      }
    },

    async fanOut(event, data, portfolioId) {
      // Every node's gateway (this one too, and in the embedded mode only this one): Moleculer's
      // broadcast to the gateway service, over the transporter in the distributed mode.
      await this.broker.broadcast("gateway.live", { event, data, portfolioId } satisfies LiveEvent, { groups: ["gateway"] });
    },

    async broadcast(event, data, portfolioId) {
      if (this.streams.size === 0) return;
      // A portfolio's events go to the operator's streams and to its owner's; market-wide ones to all.
      const needsOwner = portfolioId !== undefined && [...this.streams.values()].some((p) => p.role === "trader");
      const owner = needsOwner ? await this.ownerOf(portfolioId) : null;
      const frame = sseFrame(event, data);
      for (const [res, principal] of this.streams) {
        if (portfolioId !== undefined && principal.role === "trader" && (owner === undefined || !canSee(principal, owner ?? undefined))) continue;
        if (res.writableLength > MAX_BUFFERED_BYTES) {
          this.streams.delete(res);
          res.destroy();
          continue;
        }
        res.write(frame);
      }
    },

    /** The portfolio's owner (null: the operator's); undefined when risk cannot say, and then no trader gets the event. */
    async ownerOf(portfolioId) {
      if (this.owners.has(portfolioId)) return this.owners.get(portfolioId);
      try {
        const portfolio = await this.broker.call<{ owner?: string }, { id: string }>("risk.getPortfolio", { id: portfolioId });
        this.owners.set(portfolioId, portfolio.owner ?? null);
        return portfolio.owner ?? null;
      } catch (err) {
        this.logger.debug(`owner of portfolio ${portfolioId} unknown, its event goes to operator streams only: ${(err as Error).message}`);
        return undefined;
      }
    },

    async recordEquity(snapshot, envelope) {
      const { portfolioId, updatedAt: time, equity, cash, realizedPnl, unrealizedPnl, cause } = snapshot;
      // Keyed by the envelope id, so a redelivered event records nothing twice.
      if (!(await this.stores.equity.insertIfAbsent(envelope.id, { portfolioId, time, equity, cash, realizedPnl, unrealizedPnl, cause }))) return;
      const inserts = (this.equityInsertsSincePrune.get(portfolioId) ?? 0) + 1;
      this.equityInsertsSincePrune.set(portfolioId, inserts);
      if (inserts < EQUITY_POINTS_KEPT / 10) return;
      this.equityInsertsSincePrune.set(portfolioId, 0);
      const [oldestKept] = await this.stores.equity.find({ query: { portfolioId }, sort: ["-time"], offset: EQUITY_POINTS_KEPT - 1, limit: 1 });
      if (oldestKept) await this.stores.equity.remove({ portfolioId, time: { $lt: oldestKept.time } });
    },
  },

  created() {
    // Unrouted /api requests reach the static handler with the prefix stripped: without this,
    // /api/ would answer the dashboard's index.html instead of a 404.
    const serve = this.serve;
    if (serve) this.serve = (req, res, next) => (isApiPath(requestPath(req)) ? next() : serve(req, res, next));
    const config = platformConfig(this.broker);
    this.settings.port = config.port;
    const { token, generated } = resolveApiToken(config.dataDir, config.apiToken);
    this.auth = new ApiAuth(token, config.traderTokens);
    this.streams = new Map();
    this.owners = new Map();
    this.stopping = false;
    this.equityInsertsSincePrune = new Map();
    this.apiLimits = config.apiLimits;
    this.requestLimiter = new RateLimiter(config.apiLimits.requestsPerSecond, config.apiLimits.requestBurst, wallClock);
    this.authFailures = new FailureThrottle(config.apiLimits.authFailures, config.apiLimits.authFailureWindowMs, wallClock);
    this.healthSettings = config.health;
    this.lagWatch = new LagWatch(wallClock, config.health);
    // moleculer-web regenerates the routes 500 ms after each change of the services: in between, a
    // known route would answer 404. Pending from the change until the routes are there again.
    this.routesPending = true;
    const scheduleRoutes = this.regenerateAllAutoAliases;
    this.regenerateAllAutoAliases = () => {
      this.routesPending = true;
      scheduleRoutes();
    };
    const regenerateRoutes = this.regenerateAutoAliases;
    this.regenerateAutoAliases = (route) => {
      regenerateRoutes.call(this, route);
      this.routesPending = false;
    };
    // Printed once, when generated; never logged otherwise.
    if (generated) process.stdout.write(`\nAPI token (kept in ${config.dataDir}/api-token): ${token}\n\n`);
  },

  started() {
    this.startedAt = Date.now();
    this.heartbeat = setInterval(() => {
      for (const res of this.streams.keys()) res.write(": heartbeat\n\n");
    }, HEARTBEAT_MS);
    if (!fs.existsSync(path.join(DASHBOARD_DIST, "index.html"))) {
      this.logger.warn(`dashboard not built (${DASHBOARD_DIST} is missing): run \`npm run build:dashboard\``);
    }
  },

  stopped() {
    this.stopping = true;
    clearInterval(this.heartbeat);
    // Open streams would keep the HTTP server from closing; ended, they tell each dashboard to
    // reconnect. Their connections are closed too, so no reconnection can reuse them meanwhile.
    for (const res of this.streams.keys()) res.end(() => res.socket?.destroy());
    this.streams.clear();
  },
};

export default GatewayService;
