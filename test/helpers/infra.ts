import { execFileSync } from "node:child_process";
import path from "node:path";

/** Addresses of the real servers started by test/global-setup.ts; a missing one is an error, never a skip. */
export interface Infra {
  kafkaBrokers: string[];
  mongoUri: string;
  natsUrl: string;
  /** QuestDB's REST endpoint (`/exec?query=`, line protocol over HTTP), e.g. http://127.0.0.1:9000. */
  questdbHttpUrl: string;
  /** QuestDB over the PostgreSQL wire protocol, a `pg` connection string. */
  questdbPgUrl: string;
}

/** The KEY=VALUE lines `scripts/infra/all.sh start` prints (jest's global setup imports this: nothing here may throw on import). */
export function parseInfraEnv(stdout: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const line of stdout.split("\n")) {
    const match = /^([A-Z_]+)=(.+)$/.exec(line.trim());
    if (match) vars[match[1]!] = match[2]!;
  }
  return vars;
}

export function infra(): Infra {
  const kafka = process.env.TEST_KAFKA_BROKERS;
  const mongo = process.env.TEST_MONGO_URI;
  const nats = process.env.TEST_TRANSPORTER;
  const questdbHttp = process.env.TEST_QUESTDB_HTTP;
  const questdbPg = process.env.TEST_QUESTDB_PG;
  if (!kafka || !mongo || !nats || !questdbHttp || !questdbPg) {
    throw new Error("Kafka, FerretDB, NATS and QuestDB addresses are missing: test/global-setup.ts (scripts/infra/all.sh start) did not provide them");
  }
  return { kafkaBrokers: kafka.split(","), mongoUri: mongo, natsUrl: nats, questdbHttpUrl: questdbHttp, questdbPgUrl: questdbPg };
}

/** A database name of its own per test file, so suites never see each other's documents. */
export function mongoUriFor(name: string, servers: Infra = infra()): string {
  const base = servers.mongoUri.replace(/\/[^/]*$/, "");
  return `${base}/${name}_${process.pid}_${Date.now()}`;
}

/** Deletes a test run's topics (its Kafka namespace), so repeated runs do not pile partitions up on the broker. */
export async function deleteKafkaNamespace(namespace: string, brokers: string[] = infra().kafkaBrokers): Promise<void> {
  const { Kafka, logLevel } = await import("kafkajs");
  const admin = new Kafka({ clientId: "test-cleanup", brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(namespace));
    if (topics.length > 0) await admin.deleteTopics({ topics, timeout: 30_000 });
  } finally {
    await admin.disconnect();
  }
}

/** Drops a test run's market data tables on QuestDB (those named with its prefix), as deleteKafkaNamespace does its topics. */
export async function dropQuestDbTables(prefix: string, pgUrl: string = infra().questdbPgUrl): Promise<void> {
  const { Client } = await import("pg");
  const client = new Client({ connectionString: pgUrl });
  await client.connect();
  try {
    // Filtered here: LIKE would read the prefix's underscores as wildcards.
    const { rows } = await client.query<{ table_name: string }>("SELECT table_name FROM tables()");
    for (const { table_name } of rows) if (table_name.startsWith(prefix)) await client.query(`DROP TABLE "${table_name}"`);
  } finally {
    await client.end();
  }
}

const INFRA_SERVERS = ["nats", "ferretdb", "kafka", "questdb"] as const;
/** scripts/infra/<server>.sh (`all` for every server). */
export const serverScript = (server: string) => path.join(__dirname, "..", "..", "scripts", "infra", `${server}.sh`);

/**
 * The servers of scripts/infra that do not run now. A test run or the benchmark notes them before
 * `all.sh start` and stops exactly those afterwards: servers that already ran (a developer's, or
 * another run's) are left running.
 */
export function serversNotRunning(): string[] {
  return INFRA_SERVERS.filter((server) => {
    try {
      execFileSync("bash", [serverScript(server), "status"], { stdio: "ignore" });
      return false;
    } catch {
      return true;
    }
  });
}

export function stopServers(servers: readonly string[]): void {
  for (const server of servers) execFileSync("bash", [serverScript(server), "stop"], { stdio: ["ignore", "ignore", "inherit"] });
}
