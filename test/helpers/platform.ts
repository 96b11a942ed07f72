/** Boots the platform's services in one in-process broker on a temporary DATA_DIR, as the tests need them. */
import type { AddressInfo } from "node:net";
import { ServiceBroker, type BrokerOptions } from "moleculer";
import { SERVICE_SCHEMAS } from "../../services";
import type { ServiceName } from "../../schemas";
import type { PlatformConfig } from "../../lib/config";
import { acquireBus, releaseBus } from "../../lib/bus";
import type { TopicBus } from "../../lib/bus/types";
import { tempDataDir, waitFor } from "./wait";

export { tempDataDir, waitFor } from "./wait";

export const TOKEN = "test-token";

export interface Platform {
  broker: ServiceBroker;
  bus: TopicBus;
  dataDir: string;
  baseUrl: string;
  api(method: string, url: string, body?: unknown, token?: string | null): Promise<{ status: number; body: any }>;
  stop(): Promise<void>;
}

export async function startPlatform(
  options: {
    dataDir?: string;
    services?: ServiceName[];
    config?: Partial<PlatformConfig>;
    logger?: BrokerOptions["logger"];
    /** Further broker options: a transporter, node id and namespace to join other brokers. */
    broker?: Partial<BrokerOptions>;
  } = {},
): Promise<Platform> {
  const dataDir = options.dataDir ?? tempDataDir();
  const config: Partial<PlatformConfig> = { dataDir, apiToken: TOKEN, port: 0, simSpeed: 3000, marketData: "sim", kafkaBrokers: [], ...options.config };
  const broker = new ServiceBroker({ ...options.broker, logger: options.logger ?? false, metadata: { config } });
  const names = options.services ?? (Object.keys(SERVICE_SCHEMAS) as ServiceName[]);
  for (const name of names) broker.createService(SERVICE_SCHEMAS[name]);
  await broker.start();
  const bus = await acquireBus(broker);
  let baseUrl = "";
  if (names.includes("gateway")) {
    const gateway = broker.getLocalService("gateway") as unknown as { server: { address(): AddressInfo } };
    baseUrl = `http://127.0.0.1:${gateway.server.address().port}`;
    // moleculer-web gathers the actions' routes asynchronously after start: wait for one route of each service.
    const routeOf: Partial<Record<ServiceName, string>> = {
      gateway: "/api/topics",
      risk: "/api/portfolios",
      ingestion: "/api/market/candles?instrument=x",
      prediction: "/api/signals?instrument=x",
    };
    const probes = names.flatMap((name) => (routeOf[name] ? [routeOf[name]!] : []));
    await waitFor(async () => {
      const statuses = await Promise.all(probes.map((url) => fetch(`${baseUrl}${url}`, { headers: { authorization: `Bearer ${TOKEN}` } }).then((r) => r.status)));
      // 503 STARTING: the gateway has not added the route yet.
      return statuses.every((status) => status !== 404 && status !== 503);
    }, "the gateway's routes", 30_000);
  }
  return {
    broker,
    bus,
    dataDir,
    baseUrl,
    async api(method, url, body, token = TOKEN) {
      const headers: Record<string, string> = { "content-type": "application/json" };
      if (token) headers.authorization = `Bearer ${token}`;
      const res = await fetch(`${baseUrl}${url}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : undefined };
    },
    async stop() {
      await releaseBus(broker);
      await broker.stop();
    },
  };
}
