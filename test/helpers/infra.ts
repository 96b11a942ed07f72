/** Addresses of the real servers started by test/global-setup.ts; a missing one is an error, never a skip. */
export interface Infra {
  kafkaBrokers: string[];
  mongoUri: string;
  natsUrl: string;
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
  if (!kafka || !mongo || !nats) {
    throw new Error("Kafka, FerretDB and NATS addresses are missing: test/global-setup.ts (scripts/infra/all.sh start) did not provide them");
  }
  return { kafkaBrokers: kafka.split(","), mongoUri: mongo, natsUrl: nats };
}

/** A database name of its own per test file, so suites never see each other's documents. */
export function mongoUriFor(name: string): string {
  const base = infra().mongoUri.replace(/\/[^/]*$/, "");
  return `${base}/${name}_${process.pid}_${Date.now()}`;
}

/** Deletes a test run's topics (its Kafka namespace), so repeated runs do not pile partitions up on the broker. */
export async function deleteKafkaNamespace(namespace: string): Promise<void> {
  const { Kafka, logLevel } = await import("kafkajs");
  const admin = new Kafka({ clientId: "test-cleanup", brokers: infra().kafkaBrokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(namespace));
    if (topics.length > 0) await admin.deleteTopics({ topics, timeout: 30_000 });
  } finally {
    await admin.disconnect();
  }
}
