/**
 * Broker options, each overridable from the environment: TRANSPORTER (e.g. nats://127.0.0.1:4222)
 * for the distributed mode, NAMESPACE, NODE_ID, LOGLEVEL, LOG_FORMAT=json for structured logs,
 * METRICS_PORT to export Moleculer's metrics for Prometheus at http://<host>:<port>/metrics.
 * Read once at start (bin/start.ts); a bad value stops the start naming its variable.
 */
import os from "node:os";
import type { BrokerOptions } from "moleculer";
import { ConfigError } from "./lib/errors";

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace"] as const;

export function brokerOptions(env: NodeJS.ProcessEnv = process.env): BrokerOptions {
  const metricsPort = Number(env.METRICS_PORT || 0);
  if (!Number.isInteger(metricsPort) || metricsPort < 0 || metricsPort > 65_535) {
    throw new ConfigError(`METRICS_PORT must be a port number (0 or unset: no metrics), got "${env.METRICS_PORT}"`);
  }
  const level = (env.LOGLEVEL || "info") as (typeof LOG_LEVELS)[number];
  if (!LOG_LEVELS.includes(level)) throw new ConfigError(`LOGLEVEL must be one of ${LOG_LEVELS.join(", ")}, got "${env.LOGLEVEL}"`);
  return {
    namespace: env.NAMESPACE ?? "tbp",
    nodeID: env.NODE_ID ?? `${os.hostname()}-${process.pid}`,
    transporter: (env.TRANSPORTER || undefined) as BrokerOptions["transporter"],
    logger: {
      type: "Console",
      options: {
        level,
        formatter: env.LOG_FORMAT === "json" ? "json" : "short",
        colors: process.stdout.isTTY && env.LOG_FORMAT !== "json",
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
}
