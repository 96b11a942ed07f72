/**
 * `npm run bench`: figures of the embedded mode (every service in one ServiceBroker, logger off,
 * file-backed stores in a temporary DATA_DIR, the embedded topic log) and of the kafka mode.
 *
 *  1. Throughput (bench/scenarios/throughput.ts): raw market events per second with N instruments.
 *  2. Tick-to-order latency (bench/scenarios/latency.ts): from a candle's publication to its order
 *     on orders.placed, with where the time goes hop by hop.
 *  3. Peak RSS, sampled every 50 ms (bench/context.ts).
 *  4. The market data stores (bench/scenarios/market-store.ts): DuckDB in embedded mode, QuestDB in kafka mode.
 * The report (bench/report.ts) sets the figures against their targets.
 *
 * Each scenario runs in a child process of its own (same file, `--scenario …`), so no run inherits
 * another's heap, JIT state or timers, and each peak RSS is that scenario's alone.
 *
 * The kafka mode (bench/scenarios/kafka.ts) measures the same figures on the distributed platform
 * (bench/kafka-platform.ts): `scripts/infra/all.sh start`, one OS process per pipeline service over
 * NATS + Kafka + MongoDB (FerretDB), the bench process publishing market.raw.data with its own
 * KafkaBus and calling the services through a client broker on NATS. One child process runs, on one
 * cluster: the latency scenario, then one throughput run; it reports its own peak RSS and the
 * services' (VmHWM), and stops the cluster.
 *
 * Options: --mode embedded|kafka|both (default both), --events N (per throughput run, default
 * 200000), --instruments 1,10,50 (embedded), --kafka-instruments N (default 10),
 * --latency-seconds S (default 15), --latency-instruments N (default 4), --candle-interval MS
 * (latency pacing, default 5 embedded), --kafka-candle-interval MS (default 20),
 * --kafka-partitions N (default TOPIC_PARTITIONS or 6), --skip-throughput, --skip-latency,
 * --quick (small figures for a smoke test). `--scenario throughput:N`, `--scenario latency` or
 * `--scenario kafka` runs one scenario in this process and prints its raw result as JSON (handy
 * with `node --cpu-prof --import tsx`).
 */
import { fork } from "node:child_process";
import os from "node:os";
import { performance } from "node:perf_hooks";
import { createBenchContext, type BenchContext } from "./context";
import { embeddedReport, fmtInt, kafkaReport, latencySummary, throughputSummary } from "./report";
import { runScenario, type ScenarioResult } from "./scenarios";
import { marketStoreBench } from "./scenarios/market-store";
import type { KafkaResult } from "./scenarios/kafka";
import type { LatencyResult } from "./scenarios/latency";
import type { ThroughputResult } from "./scenarios/throughput";

/** Runs one scenario in a fresh child process (this file, same tsx loader and options). */
function runChild(spec: string): Promise<ScenarioResult> {
  return new Promise((resolve, reject) => {
    const passThrough = process.argv.slice(2).filter((a, i, all) => a !== "--scenario" && all[i - 1] !== "--scenario");
    const child = fork(process.argv[1]!, [...passThrough, "--scenario", spec], { stdio: ["ignore", "ignore", "inherit", "ipc"] });
    let result: ScenarioResult | undefined;
    child.on("message", (message) => (result = message as ScenarioResult));
    child.on("error", reject);
    child.on("exit", (code) => (result ? resolve(result) : reject(new Error(`scenario ${spec} failed (exit code ${code})`))));
  });
}

async function embeddedMode({ options, log }: BenchContext): Promise<string[]> {
  const throughputs: ThroughputResult[] = [];
  if (!options.skipThroughput) {
    for (const n of options.instrumentCounts) {
      log(`throughput: ${n} instrument(s), ${fmtInt(options.events)} events …`);
      const { result } = (await runChild(`throughput:${n}`)) as { result: ThroughputResult };
      log(`  ${throughputSummary(result)}`);
      throughputs.push(result);
    }
  }
  let lat: LatencyResult | undefined;
  if (!options.skipLatency) {
    log(`latency: ${options.latencyInstruments} instrument(s), ${options.latencySeconds} s at one candle every ${options.candleIntervalMs} ms …`);
    lat = ((await runChild("latency")) as { result: LatencyResult }).result;
    log(`  ${latencySummary(lat)}`);
  }
  return embeddedReport(options, throughputs, lat);
}

async function kafkaMode({ options }: BenchContext): Promise<string[]> {
  const { result } = (await runChild("kafka")) as { result: KafkaResult };
  return kafkaReport(options, result);
}

async function run(ctx: BenchContext): Promise<void> {
  const { options, log } = ctx;
  if (options.scenario) {
    const result = await runScenario(ctx, options.scenario);
    if (process.send) await new Promise<void>((resolve) => process.send!(result, () => resolve()));
    else process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return;
  }

  const started = performance.now();
  const cpus = os.cpus();
  log(`node ${process.version}, ${cpus.length} core(s) ${cpus[0]?.model ?? ""}`.trim() + `; mode ${options.mode}`);

  const out: string[] = [];
  if (options.mode !== "kafka") out.push(...(await embeddedMode(ctx)));
  if (options.mode !== "embedded") out.push(...(await kafkaMode(ctx)));
  out.push(...(await marketStoreBench(ctx)));
  out.push("");
  out.push(`total bench time ${((performance.now() - started) / 1000).toFixed(0)} s`);
  out.push("");
  process.stdout.write(out.join("\n"));
}

async function main(argv: string[]): Promise<void> {
  const ctx = createBenchContext(argv);
  try {
    await run(ctx);
  } finally {
    ctx.rss.stop();
  }
}

main(process.argv.slice(2))
  .then(() => process.exit(0))
  .catch((err) => {
    console.error(err);
    process.exit(1);
  });
