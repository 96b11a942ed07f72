/**
 * Broker options. Every option can be overridden from the environment: TRANSPORTER (e.g.
 * nats://127.0.0.1:4222) for the distributed mode, LOGLEVEL, NODE_ID.
 */
import os from "node:os";
import type { BrokerOptions } from "moleculer";

const brokerConfig: BrokerOptions = {
  namespace: process.env.NAMESPACE ?? "tbp",
  nodeID: process.env.NODE_ID ?? `${os.hostname()}-${process.pid}`,
  transporter: (process.env.TRANSPORTER || undefined) as BrokerOptions["transporter"],
  logger: {
    type: "Console",
    options: { level: (process.env.LOGLEVEL as "info") ?? "info", formatter: "short", colors: process.stdout.isTTY },
  },
  serializer: "JSON",
  requestTimeout: 10_000,
  retryPolicy: { enabled: false },
  registry: { strategy: "RoundRobin", preferLocal: true },
  // A service that is not up yet is retried by its callers' own logic (consumers retry, ingestion waits).
  circuitBreaker: { enabled: false },
  validator: true,
  metrics: { enabled: false },
  tracing: { enabled: false },
};

export default brokerConfig;
