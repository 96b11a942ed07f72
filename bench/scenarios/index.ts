/**
 * One scenario by its name on the command line (`--scenario …`): `throughput:<instruments>` and
 * `latency` on an embedded platform of their own, `kafka` on a cluster of its own.
 */
import type { BenchContext } from "../context";
import { startBenchPlatform } from "../platform";
import { kafkaScenario, type KafkaResult } from "./kafka";
import { latency, type LatencyResult } from "./latency";
import { throughput, type ThroughputResult } from "./throughput";

export type ScenarioResult =
  | { kind: "throughput"; result: ThroughputResult }
  | { kind: "latency"; result: LatencyResult }
  | { kind: "kafka"; result: KafkaResult };

export async function runScenario(ctx: BenchContext, spec: string): Promise<ScenarioResult> {
  if (spec === "kafka") return { kind: "kafka", result: await kafkaScenario(ctx) };
  const match = /^throughput:(\d+)$/.exec(spec);
  if (spec !== "latency" && !match) throw new Error(`unknown scenario "${spec}" (expected throughput:<instruments>, latency or kafka)`);
  const { options } = ctx;
  // The latency run trades: a large cash balance, and a simulator slow enough to add nothing.
  const platform = spec === "latency" ? await startBenchPlatform({ startCash: "100000000", simSpeed: 0.001 }) : await startBenchPlatform();
  try {
    if (spec === "latency") {
      return { kind: "latency", result: await latency(ctx, platform, options.latencyInstruments, options.latencySeconds, options.candleIntervalMs) };
    }
    return { kind: "throughput", result: await throughput(ctx, platform, Number(match![1]), options.events) };
  } finally {
    await platform.stop();
  }
}
