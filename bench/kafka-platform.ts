/**
 * The distributed platform for the benchmark's kafka mode, run the way operators run it: the real
 * servers (Kafka, FerretDB for MongoDB, NATS) from `scripts/infra/all.sh start`, one OS process
 * per pipeline service (test/helpers/processes.ts: a fresh KAFKA_NAMESPACE / NAMESPACE / database
 * per run), and in the bench process a Moleculer client broker on NATS for the actions plus a
 * KafkaBus in the cluster's namespace, which publishes the synthetic market.raw.data events with
 * the services' envelope path (envelope + schema validation) and reads the consumer groups' lag.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { ServiceBroker } from "moleculer";
import { ALL_TOPICS, type MarketEvent, type ServiceName, TOPICS } from "../schemas";
import { sleep } from "../lib/clock";
import { KafkaBus } from "../lib/bus/kafka-bus";
import { createEnvelope, toRecord } from "../lib/bus/envelope";
import { parseInfraEnv, serversNotRunning, stopServers, type Infra } from "../test/helpers/infra";
import { createCluster, type Cluster } from "../test/helpers/processes";
import { lagProbes, type PipelineUnderTest } from "./platform";

const root = path.join(__dirname, "..");

export interface InfraAddresses extends Infra {
  /** The servers this start brought up (not running before): the bench stops them when done. */
  startedHere: string[];
}

/** The services on the tick-to-order path, one process each (the gateway is not on it). */
export const KAFKA_BENCH_SERVICES: ServiceName[] = ["exchange", "risk", "ingestion", "features", "prediction", "execution"];

/** Groups of the bench process itself: once closed they keep their committed offsets, and are not waited for. */
const BENCH_GROUP_PREFIX = "bench";

/**
 * `scripts/infra/all.sh start` (a no-op for servers already running; installs on first use) and
 * its KEY=VALUE stdout. Its progress log is kept and shown only when it fails.
 */
export function startInfra(): Promise<InfraAddresses> {
  const startedHere = serversNotRunning();
  return new Promise((resolve, reject) => {
    const child = spawn("bash", [path.join(root, "scripts", "infra", "all.sh"), "start"], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("exit", (code) => {
      if (code !== 0) return reject(new Error(`scripts/infra/all.sh start failed (exit code ${code}):\n${stderr.slice(-3000)}`));
      const { KAFKA_BROKERS, MONGO_URI, TRANSPORTER, QUESTDB_HTTP, QUESTDB_PG } = parseInfraEnv(stdout);
      if (!KAFKA_BROKERS || !MONGO_URI || !TRANSPORTER || !QUESTDB_HTTP || !QUESTDB_PG) return reject(new Error(`scripts/infra/all.sh start printed no addresses:\n${stdout}`));
      resolve({ kafkaBrokers: KAFKA_BROKERS.split(","), mongoUri: MONGO_URI, natsUrl: TRANSPORTER, questdbHttpUrl: QUESTDB_HTTP, questdbPgUrl: QUESTDB_PG, startedHere });
    });
  });
}

export interface KafkaBenchPlatform extends PipelineUnderTest {
  cluster: Cluster;
  infra: InfraAddresses;
  services: ServiceName[];
  partitions: number;
  /** From `all.sh start` until every service answers over NATS and the bench's bus is up. */
  startupSeconds: number;
  logDir: string;
  /** Peak RSS (VmHWM from /proc/<pid>/status) of each service process, in bytes; read while they run. */
  servicePeakRss(): Record<string, number>;
}

export interface KafkaPlatformOptions {
  partitions: number;
  /** Extra environment of the service processes. */
  env?: NodeJS.ProcessEnv;
  log(line: string): void;
}

function vmHwm(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    const match = /^VmHWM:\s+(\d+)\s+kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) * 1024 : NaN;
  } catch {
    return NaN;
  }
}

export async function startKafkaPlatform(options: KafkaPlatformOptions): Promise<KafkaBenchPlatform> {
  const started = performance.now();
  const infra = await startInfra();
  // test/helpers/infra.ts reads the addresses the jest global setup would have exported.
  process.env.TEST_KAFKA_BROKERS = infra.kafkaBrokers.join(",");
  process.env.TEST_MONGO_URI = infra.mongoUri;
  process.env.TEST_TRANSPORTER = infra.natsUrl;
  process.env.TEST_QUESTDB_HTTP = infra.questdbHttpUrl;
  process.env.TEST_QUESTDB_PG = infra.questdbPgUrl;
  const ownLogDir = !process.env.CLUSTER_LOG_DIR;
  const logDir = process.env.CLUSTER_LOG_DIR ?? fs.mkdtempSync(path.join(os.tmpdir(), "tbp-bench-kafka-"));
  process.env.CLUSTER_LOG_DIR = logDir;

  const cluster = createCluster({
    config: {
      // The simulator adds nothing: its clock barely moves, only the initial ticker and book per instrument.
      SIM_SPEED: "0.001",
      START_CASH: "100000000",
      TOPIC_PARTITIONS: String(options.partitions),
      ...options.env,
    },
  });
  const services = KAFKA_BENCH_SERVICES;
  let client: ServiceBroker | undefined;
  let bus: KafkaBus | undefined;
  const namespace = `${cluster.namespace}.`;

  const stop = async () => {
    await client?.stop().catch(() => undefined);
    await bus?.stop().catch(() => undefined);
    // Best effort: stopAll also deletes the run's topics (its database is left, like the integration tests').
    try {
      await cluster.stopAll();
    } catch (err) {
      options.log(`could not delete the run's topics (${(err as Error).message}); they stay under the prefix ${namespace}`);
    }
    if (cluster.env.DATA_DIR) fs.rmSync(cluster.env.DATA_DIR, { recursive: true, force: true });
    if (ownLogDir) fs.rmSync(logDir, { recursive: true, force: true });
    stopInfra();
  };
  /** Servers that ran before the bench keep running. */
  const stopInfra = () => {
    if (infra.startedHere.length === 0) return;
    options.log(`  stopping the servers the bench started: ${infra.startedHere.join(", ")}`);
    stopServers(infra.startedHere);
  };

  try {
    // Two waves, as the multi-process test does: the services the others wait for, then the rest.
    const first: ServiceName[] = ["exchange", "risk", "ingestion"];
    options.log(`  starting ${services.length} service processes (namespace ${cluster.namespace}, logs in ${logDir}) …`);
    await Promise.all(first.map((s) => cluster.start(s)));
    await Promise.all(services.filter((s) => !first.includes(s)).map((s) => cluster.start(s)));

    client = new ServiceBroker({
      namespace: cluster.namespace,
      transporter: infra.natsUrl as "NATS",
      nodeID: `bench-${process.pid}`,
      logger: false,
      serializer: "JSON",
      requestTimeout: 30_000,
    });
    await client.start();
    await client.waitForServices(services, 60_000);

    bus = new KafkaBus({
      brokers: infra.kafkaBrokers,
      clientId: `tbp-bench-${process.pid}`,
      namespace,
      sessionTimeoutMs: 6000,
      log: (level, message) => {
        if (level === "error") options.log(`kafka: ${message}`);
      },
    });
    await bus.start();
    await bus.ensureTopics(ALL_TOPICS, options.partitions);
  } catch (err) {
    options.log(`start failed; service logs kept in ${logDir}`);
    await client?.stop().catch(() => undefined);
    await bus?.stop().catch(() => undefined);
    await cluster.stopAll();
    stopInfra();
    throw err;
  }
  const startupSeconds = (performance.now() - started) / 1000;
  const theBus = bus;

  return {
    broker: client,
    bus: theBus,
    cluster,
    infra,
    services,
    partitions: options.partitions,
    startupSeconds,
    logDir,
    lagPollMs: 100,
    idle: () => sleep(10),
    publishMarket: (events: MarketEvent[]) =>
      theBus.publish(
        TOPICS.marketRawData,
        events.map((payload) => toRecord(createEnvelope(TOPICS.marketRawData, payload, "bench-feed"))),
      ),
    ...lagProbes(theBus, { pollMs: 20, ignore: (g) => g.group.startsWith(BENCH_GROUP_PREFIX) && g.members === 0 }),
    servicePeakRss() {
      return Object.fromEntries(cluster.processes.map((p) => [p.name, vmHwm(p.child.pid)]));
    },
    stop,
  };
}
