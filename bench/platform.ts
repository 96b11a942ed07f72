/**
 * The embedded platform for the benchmark: every service in one ServiceBroker (logger off) on a
 * temporary DATA_DIR, plus a tiny producer service using the topics mixin, so synthetic market
 * events take the same envelope path (build, validate, serialize, append) as the exchange facade's.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { ServiceBroker, type Service, type ServiceSchema } from "moleculer";
import { SERVICE_SCHEMAS } from "../services";
import { type MarketEvent, type ServiceName, TOPICS } from "../schemas";
import { sleep } from "../lib/clock";
import type { PlatformConfig } from "../lib/config";
import { acquireBus, releaseBus } from "../lib/bus";
import type { GroupLag, TopicBus } from "../lib/bus/types";
import { TopicsMixin, type TopicMethods } from "../mixins/topics.mixin";

/**
 * What the scenarios drive: the embedded platform below, or the distributed one of
 * bench/kafka-platform.ts (services in their own processes, reached through a client broker).
 */
export interface PipelineUnderTest {
  /** Calls the platform's actions (the platform's own broker, or a client broker on its transporter). */
  broker: ServiceBroker;
  /** The platform's topics, for the bench's own consumer group and the lag figures. */
  bus: TopicBus;
  /** Publishes market events in one ordered batch with the envelope path of the services (envelope + schema validation). */
  publishMarket(events: MarketEvent[]): Promise<void>;
  /** Summed lag of each consumer group on a topic. */
  lags(topic: string): Promise<Record<string, number>>;
  /** Resolves once every consumer group of every topic has lag 0. */
  drained(timeoutMs?: number): Promise<void>;
  /** Lag figures cost a few round trips on Kafka: the producer's flow control polls them at most this often (0: every batch). */
  lagPollMs: number;
  /** How a polling loop yields: the next turn of the event loop in-process, a short sleep over the network. */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

export interface BenchPlatform extends PipelineUnderTest {
  dataDir: string;
  config: Partial<PlatformConfig>;
}

export const ALL_SERVICES = Object.keys(SERVICE_SCHEMAS) as ServiceName[];

const BenchFeed: ServiceSchema = { name: "bench-feed", mixins: [TopicsMixin()] };

export const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

export async function startBenchPlatform(config: Partial<PlatformConfig> = {}): Promise<BenchPlatform> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "tbp-bench-"));
  const full: Partial<PlatformConfig> = {
    dataDir,
    apiToken: "bench-token",
    port: 0,
    marketData: "sim",
    simSpeed: 0.001,
    kafkaBrokers: [],
    strategy: "rule",
    ...config,
  };
  // A short dependency poll only shortens the start (services wait for each other's registration).
  const broker = new ServiceBroker({ logger: false, dependencyInterval: 50, metadata: { config: full } });
  for (const name of ALL_SERVICES) broker.createService(SERVICE_SCHEMAS[name]);
  broker.createService(BenchFeed);
  await broker.start();
  const bus = await acquireBus(broker);
  const feed = broker.getLocalService("bench-feed") as unknown as Service & TopicMethods;

  return {
    broker,
    bus,
    dataDir,
    config: full,
    publishMarket: (events) => feed.publishMany(TOPICS.marketRawData, events.map((payload) => ({ payload }))),
    lagPollMs: 0,
    idle: nextTurn,
    ...lagProbes(bus, { pollMs: 2 }),
    async stop() {
      await releaseBus(broker);
      await broker.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Lag of a topic's groups, and a wait until every group of every topic has caught up, for either
 * bus. `ignore` leaves out groups that never drain on purpose (e.g. a bench group with no member).
 */
export function lagProbes(bus: TopicBus, options: { pollMs: number; ignore?: (group: GroupLag) => boolean }) {
  return {
    async lags(topic: string): Promise<Record<string, number>> {
      const [stats] = await bus.stats([topic]);
      return Object.fromEntries((stats?.groups ?? []).map((g) => [g.group, g.lag]));
    },
    async drained(timeoutMs = 60_000): Promise<void> {
      const deadline = performance.now() + timeoutMs;
      for (;;) {
        const stats = await bus.stats(Object.values(TOPICS));
        const pending = stats.flatMap((s) => s.groups.filter((g) => g.lag > 0 && !options.ignore?.(g)).map((g) => `${s.topic}/${g.group}=${g.lag}`));
        if (pending.length === 0) return;
        if (performance.now() > deadline) throw new Error(`pipeline not drained after ${timeoutMs} ms: ${pending.join(", ")}`);
        await sleep(options.pollMs);
      }
    },
  };
}
