/**
 * API Gateway (moleculer-web): REST under /api, routes gathered from the actions' `rest`
 * declarations. Every route but /api/health needs `Authorization: Bearer <API_TOKEN>`; invalid input
 * answers 422 naming the field and the reason.
 */
import type { IncomingMessage } from "node:http";
import type { Context, ServiceSchema, ServiceSettingSchema } from "moleculer";
import { Errors } from "moleculer";
import ApiGateway from "moleculer-web";
import { TopicsMixin, type TopicMethods, type TopicLocals } from "../mixins/topics.mixin";
import { ALL_TOPICS, TOPIC_TABLE } from "../schemas";
import { platformConfig } from "../lib/config";
import { resolveApiToken, tokenMatches } from "../lib/api-token";
import { buildOpenApi } from "../lib/openapi";

interface GatewayLocals extends TopicLocals {
  apiToken: string;
  startedAt: number;
}

interface GatewayMethods extends TopicMethods {
  authorize(ctx: Context, route: unknown, req: IncomingMessage & { $action?: { name: string } }): Promise<void>;
}

const GatewayService: ServiceSchema<ServiceSettingSchema & Record<string, unknown>, GatewayMethods, GatewayLocals> = {
  name: "gateway",
  mixins: [ApiGateway as unknown as Partial<ServiceSchema>, TopicsMixin()],

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
        bodyParsers: { json: { strict: true, limit: "100kb" } },
        cors: false,
        mergeParams: true,
      },
    ],
    log4XXResponses: false,
  },

  actions: {
    health: {
      rest: "GET /health",
      handler() {
        const services = [...new Set(this.broker.registry.getServiceList({ onlyAvailable: true }).map((s: { name: string }) => s.name))].filter((n) => !n.startsWith("$"));
        return { status: "ok", uptimeSeconds: Math.round((Date.now() - this.startedAt) / 1000), bus: this.bus.kind, services: services.sort() };
      },
    },

    /** Per topic: partition key, partitions, message count and each consumer group's lag. */
    topics: {
      rest: "GET /topics",
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

    openapi: {
      rest: "GET /openapi.json",
      handler() {
        const actions = this.broker.registry
          .getActionList({ onlyAvailable: true, skipInternal: true, withEndpoints: false })
          .map((a) => {
            const action = a.action as { rest?: string; params?: Record<string, unknown> } | undefined;
            return { name: a.name, rest: action?.rest, params: action?.params };
          });
        return buildOpenApi(actions, { title: "Trading bot platform API", version: "1" });
      },
    },
  },

  methods: {
    async authorize(ctx, _route, req) {
      if (req.$action?.name === "gateway.health") return;
      if (!tokenMatches(this.apiToken, req.headers.authorization)) {
        throw new Errors.MoleculerClientError("missing or wrong bearer token", 401, "UNAUTHORIZED");
      }
      void ctx;
    },
  },

  created() {
    const config = platformConfig(this.broker);
    this.settings.port = config.port;
    const { token, generated } = resolveApiToken(config.dataDir, config.apiToken);
    this.apiToken = token;
    // Printed once, when generated; never logged otherwise.
    if (generated) process.stdout.write(`\nAPI token (kept in ${config.dataDir}/api-token): ${token}\n\n`);
  },

  started() {
    this.startedAt = Date.now();
  },
};

export default GatewayService;
