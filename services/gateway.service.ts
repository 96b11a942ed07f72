/**
 * API Gateway (moleculer-web), the platform's HTTP edge: REST under /api, routes gathered from the
 * actions' `rest` declarations. Every route but the health ones needs `Authorization: Bearer
 * <token>`; invalid input answers 422 naming the field and the reason. A trader is provisioned
 * (their default portfolio) the first time this gateway authenticates them.
 *
 * It also serves the trader dashboard (lib/http/dashboard.ts) at `/`, and pushes live events over
 * Server-Sent Events at `GET /api/stream` (the hub: lib/live/hub.ts). It consumes the topics the
 * dashboard shows and hands each event to every gateway instance (so a scaled-out gateway pushes
 * everything on every instance), and keeps each portfolio's equity history from `portfolio.updated`
 * (lib/risk/equity-history.ts, `GET /api/portfolios/:id/equity`).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Context, Service, ServiceSchema, ServiceSettingSchema } from "moleculer";
import ApiGateway from "moleculer-web";
import { TopicsMixin, type TopicMethods, type TopicLocals } from "../mixins/topics.mixin";
import { StoreMixin, type Stores } from "../mixins/store.mixin";
import { ALL_TOPICS, type Envelope, EquityPoint, Health, Liveness, type PortfolioSnapshot, SERVICE_NAMES, TOPICS, TopicStatsRow } from "../schemas";
import { GATEWAY_PARAMS } from "../schemas/requests/gateway";
import { platformConfig } from "../lib/config";
import { ApiAuth, TraderProvisioning, resolveApiToken, type Principal } from "../lib/auth";
import { BearerGate, MAX_BODY, checkRequestInput, tooManyRequests } from "../lib/http/guards";
import { answerError } from "../lib/http/error-response";
import { answerUnrouted, pathOf, requestPath, unroutedActions, type ListedAction } from "../lib/http/routing";
import { DASHBOARD_ASSETS, DASHBOARD_DIST, dashboardNotBuilt, dashboardPages } from "../lib/http/dashboard";
import { buildOpenApi, documented, routesOf, type AliasInfo, type RouteDoc } from "../lib/openapi";
import { HEALTH_NOT_READY, OPENAPI_DOCUMENT, listOf } from "../schemas/api";
import { LagWatch, assessHealth, topicReport, type ExchangeHealth, type HealthSettings } from "../lib/health";
import { LIVE_TOPICS, LiveHub, HEARTBEAT_MS, STREAM_DOC, type LiveEvent } from "../lib/live/hub";
import { platformLookups } from "../lib/live/lookups";
import { EquityHistory } from "../lib/risk/equity-history";
import { wallClock, type Clock } from "../lib/clock";

// Where the dashboard tests' build step looks for the build.
export { DASHBOARD_DIST };

interface GatewayLocals extends TopicLocals {
  clock: Clock;
  provisioning: TraderProvisioning;
  startedAt: number;
  stores: Stores<{ equity: EquityPoint }>;
  equityHistory: EquityHistory;
  hub: LiveHub;
  heartbeat?: NodeJS.Timeout;
  gate: BearerGate;
  lagWatch: LagWatch;
  healthSettings: HealthSettings;
  /** moleculer-web's routing table: the routes, each naming its action. */
  aliases: AliasInfo[];
}

type RequestWithAction = IncomingMessage & { $action?: { name: string; openapi?: RouteDoc } };

interface GatewayMethods extends TopicMethods {
  authorize(ctx: Context, route: unknown, req: RequestWithAction): Promise<void>;
  /** REST actions of running services without their route yet (moleculer-web adds them 500 ms after a service appears). */
  unrouted(): string[];
  /** The platform is starting, or moleculer-web is adding a service's routes: a missing route answers 503, not 404. */
  isStarting(): boolean;
  openStream(req: IncomingMessage, res: ServerResponse): void;
  /** Hands a live event to every gateway instance (the topic consumers' group shares the partitions among them). */
  fanOut(live: LiveEvent): Promise<void>;
}

type GatewayThis = Service & GatewayMethods & GatewayLocals;

const GatewayService: ServiceSchema<ServiceSettingSchema & Record<string, unknown>, GatewayMethods, GatewayLocals> = {
  name: "gateway",
  mixins: [ApiGateway as unknown as Partial<ServiceSchema>, StoreMixin({ equity: [{ fields: ["portfolioId", "time"] }] }), TopicsMixin()],

  settings: {
    rest: "/",
    // Every interface; the port comes from the platform's configuration (created).
    ip: "0.0.0.0",
    routes: [
      {
        path: "/api",
        authorization: true,
        autoAliases: true,
        mappingPolicy: "restrict",
        // Compressed bodies are refused (415): nothing sends them, and a decompression error would be no 4xx.
        bodyParsers: { json: { strict: true, limit: MAX_BODY, inflate: false } },
        // After the body parser, before any validator: refuses what no action should see (lib/http/guards.ts);
        // then a path no route serves is answered here (lib/http/routing.ts), never by the dashboard's files.
        use: [checkRequestInput, answerUnrouted],
        onError: answerError,
        cors: false,
        mergeParams: true,
        aliases: {
          "GET /stream": documented(STREAM_DOC, function (this: GatewayMethods, req: IncomingMessage, res: ServerResponse) {
            this.openStream(req, res);
          }),
        },
      },
      {
        // The dashboard: its pages get index.html; its files come from `assets` once this route passes them on.
        path: "/",
        mappingPolicy: "restrict",
        bodyParsers: false,
        use: [dashboardPages()],
        onError: answerError,
      },
    ],
    assets: DASHBOARD_ASSETS,
    // The dashboard calls the API many times a minute: one info line per request would drown the log.
    logRequest: "debug",
    logResponse: "debug",
    log4XXResponses: false,
    onError: answerError,
  },

  // The topics the dashboard shows, each pushed to every instance's streams; portfolio.updated also feeds the equity history.
  topics: Object.fromEntries(
    Object.entries(LIVE_TOPICS).map(([topic, toLive]) => [
      topic,
      {
        async handler(this: GatewayThis, payload: never, envelope: Envelope<unknown>) {
          if (topic === TOPICS.portfolioUpdated) await this.equityHistory.record(payload as PortfolioSnapshot, envelope.id);
          await this.fanOut((toLive as (payload: unknown) => LiveEvent)(payload));
        },
      },
    ]),
  ),

  events: {
    /** A live event consumed by any gateway instance, for this instance's streams. */
    "gateway.live": {
      async handler(ctx: Context<LiveEvent>) {
        await this.hub.deliver(ctx.params);
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
      openapi: { public: true, response: Health, answers: { 503: { description: "Not ready: `causes` says why", schema: HEALTH_NOT_READY } } },
      async handler(ctx: Context<unknown, { $statusCode?: number }>) {
        const running = [...new Set(this.broker.registry.getServiceList({ onlyAvailable: true }).map((s: { name: string }) => s.name))].filter((n) => !n.startsWith("$")).sort();
        // Distributed, the platform is every service; embedded, the ones this process was told to run.
        const required = this.broker.transit ? SERVICE_NAMES : this.broker.services.map((s) => s.name).filter((n) => (SERVICE_NAMES as readonly string[]).includes(n));
        const { status, ready, causes, exchange } = await assessHealth({ required, running, started: this.broker.started, unrouted: this.unrouted() }, {
          exchange: () => (running.includes("exchange") ? ctx.call<ExchangeHealth, Record<string, never>>("exchange.status", {}, { timeout: 1000 }).catch(() => undefined) : Promise.resolve(undefined)),
          enabledInstruments: () =>
            running.includes("risk")
              ? ctx.call<Array<{ instrumentKey: string; enabled: boolean }>, Record<string, never>>("risk.listInstruments", {}, { timeout: 1000 }).then((list) => list.filter((i) => i.enabled).map((i) => i.instrumentKey), () => undefined)
              : Promise.resolve(undefined),
          store: () => this.stores.equity.get("health-probe"),
          busStats: () => this.bus.stats(ALL_TOPICS),
          busKind: this.bus.kind,
        }, this.lagWatch, this.healthSettings.marketDataStaleMs);
        if (!ready) ctx.meta.$statusCode = 503;
        return {
          status,
          ready,
          causes,
          uptimeSeconds: Math.round((this.clock.now() - this.startedAt) / 1000),
          bus: this.bus.kind,
          services: running,
          exchange: exchange && { exchange: exchange.exchange, tradingMode: exchange.tradingMode, sandbox: exchange.sandbox, circuit: exchange.circuit },
        };
      },
    },

    /** Liveness: 200 while the process runs and its event loop answers, whatever the rest of the platform does. */
    liveness: {
      rest: "GET /health/live",
      openapi: { public: true, response: Liveness },
      handler() {
        return { status: "alive", uptimeSeconds: Math.round((this.clock.now() - this.startedAt) / 1000) };
      },
    },

    // moleculer-web's own listing of every route: not part of the API (it answers 404).
    listAliases: false,

    /** Per topic: partition key, partitions, message count and each consumer group's lag. */
    topics: {
      rest: "GET /topics",
      openapi: { response: listOf(TopicStatsRow) },
      async handler() {
        return topicReport(await this.bus.stats(ALL_TOPICS));
      },
    },

    /** A portfolio's equity after each of its `portfolio.updated` events: the newest `limit`, oldest first. */
    equity: {
      rest: "GET /portfolios/:id/equity",
      openapi: { response: listOf(EquityPoint) },
      params: GATEWAY_PARAMS.equity,
      async handler(ctx: Context<{ id: string; limit?: number }>) {
        // Answers 404 for a portfolio that does not exist or is another trader's.
        await ctx.call("risk.getPortfolio", { id: ctx.params.id });
        return this.equityHistory.newest(ctx.params.id, ctx.params.limit);
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
      const principal = this.gate.admit(req.headers.authorization, req.socket.remoteAddress ?? "unknown", `${req.method} ${pathOf(requestPath(req))}`);
      // A trader's own portfolio is made by the first request that shows or uses it (one naming it by id included).
      if (principal.role === "trader" && (req.$action?.usesOwnPortfolio || req.$params?.id === principal.traderId)) {
        // The request goes on if provisioning fails (risk down or starting): whatever it asks answers
        // for itself, and the trader's next request tries again.
        await this.provisioning.ensure(principal.traderId).catch((err: Error) => this.logger.warn(`trader ${principal.traderId} not provisioned yet: ${err.message}`));
      }
      // Carried to every action the request calls (and theirs): they scope what the caller sees.
      (ctx.meta as { principal?: Principal }).principal = principal;
    },

    unrouted() {
      return unroutedActions(this.aliases, this.broker.registry.getActionList({ onlyAvailable: true, skipInternal: true, withEndpoints: false }) as ListedAction[]);
    },

    isStarting() {
      return !this.broker.started || this.unrouted().length > 0;
    },

    openStream(req, res) {
      // Set by authorize, which moleculer-web runs before this alias; without it nothing is streamed.
      const principal = ((req as { $ctx?: Context }).$ctx?.meta as { principal?: Principal } | undefined)?.principal;
      if (!principal) {
        res.writeHead(401, { "Content-Type": "text/plain; charset=utf-8" });
        res.end("missing or wrong bearer token\n");
        return;
      }
      const refusal = this.hub.open(res, principal);
      if (refusal) throw tooManyRequests(`${refusal.open} live streams are open with this token, the most allowed (SSE_STREAMS_PER_TOKEN); close one first`, "TOO_MANY_STREAMS");
      req.socket.setNoDelay(true);
    },

    async fanOut(live) {
      // Every node's gateway (this one too, and in the embedded mode only this one): Moleculer's
      // broadcast to the gateway service, over the transporter in the distributed mode.
      await this.broker.broadcast("gateway.live", live, { groups: ["gateway"] });
    },
  },

  created() {
    const config = platformConfig(this.broker);
    this.settings.port = config.port;
    this.clock = wallClock;
    this.startedAt = this.clock.now();
    const { token, generated } = resolveApiToken(config.dataDir, config.apiToken);
    this.gate = new BearerGate(new ApiAuth(token, config.traderTokens), config.apiLimits, this.clock, (message) => this.logger.warn(message));
    this.provisioning = new TraderProvisioning((traderId) => this.broker.call("risk.provisionTrader", { traderId }));
    this.healthSettings = config.health;
    this.lagWatch = new LagWatch(this.clock, config.health);
    this.hub = new LiveHub(
      { serverStartedAt: this.startedAt, streamsPerToken: config.apiLimits.streamsPerToken },
      platformLookups((action, params) => this.broker.call(action, params), (message) => this.logger.debug(message)),
    );
    // Printed once, when generated; never logged otherwise.
    if (generated) process.stdout.write(`\nAPI token (kept in ${config.dataDir}/api-token): ${token}\n\n`);
  },

  started() {
    this.equityHistory = new EquityHistory(this.stores.equity);
    this.heartbeat = setInterval(() => this.hub.heartbeat(), HEARTBEAT_MS);
    const notBuilt = dashboardNotBuilt();
    if (notBuilt) this.logger.warn(notBuilt);
  },

  stopped() {
    clearInterval(this.heartbeat);
    this.hub.close();
  },
};

export default GatewayService;
