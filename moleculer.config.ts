/**
 * Broker options, each overridable from the environment: TRANSPORTER (e.g. nats://127.0.0.1:4222)
 * for the distributed mode, NAMESPACE, NODE_ID, LOGLEVEL, LOG_FORMAT=json for structured logs,
 * METRICS_PORT to export Moleculer's metrics for Prometheus at http://<host>:<port>/metrics.
 */
import os from "node:os";
import type { BrokerOptions } from "moleculer";

const metricsPort = Number(process.env.METRICS_PORT ?? 0);

const brokerConfig: BrokerOptions = {
  namespace: process.env.NAMESPACE ?? "tbp",
  nodeID: process.env.NODE_ID ?? `${os.hostname()}-${process.pid}`,
  transporter: (process.env.TRANSPORTER || undefined) as BrokerOptions["transporter"],
  logger: {
    type: "Console",
    options: {
      level: (process.env.LOGLEVEL as "info") ?? "info",
      formatter: process.env.LOG_FORMAT === "json" ? "json" : "short",
      colors: process.stdout.isTTY && process.env.LOG_FORMAT !== "json",
    },
  },
  serializer: "JSON",
  requestTimeout: 10_000,
  retryPolicy: { enabled: false },
  registry: { strategy: "RoundRobin", preferLocal: true },
  // Callers handle an unavailable service themselves (consumers retry, ingestion waits).
  circuitBreaker: { enabled: false },
  validator: true,
  metrics: metricsPort > 0 ? { enabled: true, reporter: [{ type: "Prometheus", options: { port: metricsPort, path: "/metrics" } }] } : { enabled: false },
  tracing: { enabled: false },
};

export default brokerConfig;
