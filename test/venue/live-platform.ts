/**
 * The platform on MARKET_DATA=binance pointed at the local Binance-protocol server, in one
 * in-process broker, with every log line captured (the key-leak checks read them) and every topic
 * message recorded.
 */
import { inspect } from "node:util";
import { Loggers, ServiceBroker } from "moleculer";
import type { AddressInfo } from "node:net";
import { SERVICE_SCHEMAS } from "../../services";
import { ALL_TOPICS, type ServiceName } from "../../schemas";
import type { PlatformConfig } from "../../lib/config";
import { acquireBus, releaseBus } from "../../lib/bus";
import type { Subscription, TopicBus } from "../../lib/bus/types";
import { TOKEN, tempDataDir, type Platform } from "../helpers/platform";
import type { FakeBinance } from "../fakes/binance-server";

/** Every log line of the broker, at debug level, as text. */
class CapturingLogger extends Loggers.Base<{ level: "debug" }> {
  constructor(private readonly lines: string[]) {
    super({ level: "debug" });
  }

  override getLogHandler(bindings: { mod?: string }) {
    return (level: string, args: unknown[]) => {
      this.lines.push(`${level} ${bindings.mod ?? ""} ${args.map((a) => (typeof a === "string" ? a : inspect(a, { depth: 6 }))).join(" ")}`);
    };
  }
}

export interface LivePlatform extends Platform {
  logs: string[];
  /** Every message on every topic since start, as published. */
  messages: string[];
}

export const FAST_TUNING = { reconnectBaseMs: 100, reconnectMaxMs: 400, breakerCooldownMs: 300, reconcileIntervalMs: 1000, bookIntervalMs: 200 };

export async function startLivePlatform(options: {
  fake?: FakeBinance;
  /** Endpoints when not the fake's (an exchange that is down). */
  urls?: Record<string, unknown>;
  dataDir?: string;
  services?: ServiceName[];
  config?: Partial<PlatformConfig>;
}): Promise<LivePlatform> {
  const dataDir = options.dataDir ?? tempDataDir();
  const config: Partial<PlatformConfig> = {
    dataDir, apiToken: TOKEN, port: 0, kafkaBrokers: [], mongoUri: undefined,
    marketData: "binance", exchangeUrls: options.urls ?? options.fake!.ccxtUrls(), exchangeTimeoutMs: 2000, exchangeTuning: FAST_TUNING,
    ...options.config,
  };
  const logs: string[] = [];
  const broker = new ServiceBroker({ logger: new CapturingLogger(logs), metadata: { config } });
  const names = options.services ?? (Object.keys(SERVICE_SCHEMAS) as ServiceName[]);
  for (const name of names) broker.createService(SERVICE_SCHEMAS[name]);
  await broker.start();
  const bus: TopicBus = await acquireBus(broker);
  const messages: string[] = [];
  const tap: Subscription = await bus.subscribe({ topics: ALL_TOPICS, group: "test-tap", handler: async (m) => void messages.push(m.value) });
  let baseUrl = "";
  if (names.includes("gateway")) {
    const gateway = broker.getLocalService("gateway") as unknown as { server: { address(): AddressInfo } };
    baseUrl = `http://127.0.0.1:${gateway.server.address().port}`;
  }
  return {
    broker, bus, dataDir, baseUrl, logs, messages,
    async api(method, url, body, token = TOKEN) {
      const headers: Record<string, string> = { "content-type": "application/json" };
      if (token) headers.authorization = `Bearer ${token}`;
      const res = await fetch(`${baseUrl}${url}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : undefined };
    },
    async stop() {
      await tap.close();
      await releaseBus(broker);
      await broker.stop();
    },
  };
}
