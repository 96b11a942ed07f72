/**
 * The kafka mode: the same figures on the distributed platform (bench/kafka-platform.ts), on one
 * cluster: the latency scenario, then one throughput run; the bench process's peak RSS and the
 * services' (VmHWM); the cluster stops whatever happens.
 */
import os from "node:os";
import type { BenchContext } from "../context";
import { startKafkaPlatform, type KafkaBenchPlatform } from "../kafka-platform";
import { fmtInt, latencySummary, throughputSummary } from "../report";
import { latency, type LatencyResult } from "./latency";
import { throughput, type ThroughputResult } from "./throughput";

/** The scenario gives up (stopping its cluster) after this long. */
const DEADLINE_MS = 5 * 60_000;

export interface KafkaResult {
  setup: {
    kafkaBrokers: string[];
    mongoUri: string;
    natsUrl: string;
    namespace: string;
    services: string[];
    partitions: number;
    startupSeconds: number;
    loadAverage: number[];
  };
  latency?: LatencyResult;
  throughput?: ThroughputResult;
  /** Peak RSS of the bench process (producer, watcher consumer group, client broker). */
  benchPeakRss: number;
  /** VmHWM of each service process, read just before the cluster stops. */
  servicePeakRss: Record<string, number>;
}

export async function kafkaScenario(ctx: BenchContext): Promise<KafkaResult> {
  const { options, log } = ctx;
  const loadAverage = os.loadavg();
  let platform: KafkaBenchPlatform | undefined;
  // Whatever happens, the cluster stops and this process ends.
  const watchdog = setTimeout(() => {
    log(`kafka mode: still running after ${DEADLINE_MS / 1000} s, stopping the cluster`);
    void (platform?.stop() ?? Promise.resolve()).finally(() => process.exit(1));
  }, DEADLINE_MS);
  watchdog.unref();
  try {
    log(`kafka mode: scripts/infra/all.sh start, then ${options.kafkaPartitions} partitions per topic …`);
    platform = await startKafkaPlatform({ partitions: options.kafkaPartitions, log });
    log(`  cluster ${platform.cluster.namespace} up in ${platform.startupSeconds.toFixed(1)} s (${platform.services.join(", ")})`);
    let lat: LatencyResult | undefined;
    if (!options.skipLatency) {
      log(`  latency: ${options.latencyInstruments} instrument(s), ${options.latencySeconds} s at one candle every ${options.kafkaCandleIntervalMs} ms …`);
      lat = await latency(ctx, platform, options.latencyInstruments, options.latencySeconds, options.kafkaCandleIntervalMs);
      log(`    ${latencySummary(lat)}`);
    }
    let tp: ThroughputResult | undefined;
    if (!options.skipThroughput) {
      log(`  throughput: ${options.kafkaInstruments} instrument(s), up to ${fmtInt(options.events)} events …`);
      tp = await throughput(ctx, platform, options.kafkaInstruments, options.events);
      log(`    ${throughputSummary(tp)}`);
    }
    const servicePeakRss = platform.servicePeakRss();
    return {
      setup: {
        kafkaBrokers: platform.infra.kafkaBrokers,
        mongoUri: platform.infra.mongoUri,
        natsUrl: platform.infra.natsUrl,
        namespace: platform.cluster.namespace,
        services: platform.services,
        partitions: platform.partitions,
        startupSeconds: platform.startupSeconds,
        loadAverage,
      },
      latency: lat,
      throughput: tp,
      benchPeakRss: ctx.rss.peak,
      servicePeakRss,
    };
  } finally {
    log("  stopping the cluster …");
    await platform?.stop();
    clearTimeout(watchdog);
  }
}
