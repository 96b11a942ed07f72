/**
 * The benchmark's report: the figures against their targets, the setup they were measured on, and
 * where the time goes hop by hop. Pure formatting of the scenarios' results.
 */
import os from "node:os";
import { TOPICS } from "../schemas";
import type { BenchOptions } from "./context";
import { ALL_SERVICES } from "./platform";
import type { KafkaResult } from "./scenarios/kafka";
import type { LatencyResult } from "./scenarios/latency";
import { THROUGHPUT_LOAD, type ThroughputResult } from "./scenarios/throughput";

interface Targets {
  eventsPerS: number;
  p50Ms: number;
  p99Ms: number;
}
const EMBEDDED_TARGETS: Targets = { eventsPerS: 100_000, p50Ms: 1, p99Ms: 5 };
/** Issue 3, item 9: services in separate processes over NATS + Kafka + MongoDB, on this 2-core machine. */
const KAFKA_TARGETS: Targets = { eventsPerS: 30_000, p50Ms: 10, p99Ms: 40 };

/** Nearest-rank percentile of an ascending series (NaN when empty). */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

function pad(text: string, width: number): string {
  return text.length >= width ? text : text + " ".repeat(width - text.length);
}
function padStart(text: string, width: number): string {
  return text.length >= width ? text : " ".repeat(width - text.length) + text;
}
export const fmtInt = (n: number) => Math.round(n).toLocaleString("en-US");
export const fmtMs = (n: number) => (Number.isFinite(n) ? `${n.toFixed(2)} ms` : "n/a");
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;

/** The one-line progress figures of a run, for the log. */
export const throughputSummary = (r: ThroughputResult) => `${fmtInt(r.events)} events in ${r.seconds.toFixed(2)} s = ${fmtInt(r.rate)} events/s`;
export const latencySummary = (lat: LatencyResult) =>
  `${lat.orders} orders, p50 ${fmtMs(percentile(lat.toOrderMs, 50))}, p99 ${fmtMs(percentile(lat.toOrderMs, 99))}`;

type Row = [string, string, string, string];

function table(rows: Row[]): string[] {
  const widths = [50, 16, 14, 6];
  const line = (cells: string[]) => cells.map((c, i) => (i === 1 ? padStart(c, widths[i]!) : pad(c, widths[i]!))).join("  ").trimEnd();
  return [line(["metric", "measured", "target", ""]), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)];
}

function throughputRow(r: ThroughputResult, targets: Targets): Row {
  return [
    `raw events/s consumed, ${r.instruments} instrument${r.instruments === 1 ? "" : "s"}`,
    fmtInt(r.rate),
    `≥ ${fmtInt(targets.eventsPerS)}`,
    r.rate >= targets.eventsPerS ? "ok" : "MISS",
  ];
}

function latencyRows(lat: LatencyResult, targets: Targets): Row[] {
  const p50 = percentile(lat.toOrderMs, 50);
  const p99 = percentile(lat.toOrderMs, 99);
  return [
    [`tick→order p50 (${lat.orders} orders)`, fmtMs(p50), `≤ ${targets.p50Ms} ms`, p50 <= targets.p50Ms ? "ok" : "MISS"],
    [`tick→order p99 (${lat.orders} orders)`, fmtMs(p99), `≤ ${targets.p99Ms} ms`, p99 <= targets.p99Ms ? "ok" : "MISS"],
  ];
}

function throughputSetup(instruments: number[], events: number): string {
  const load = THROUGHPUT_LOAD;
  return (
    `throughput: ${instruments.join(" / ")} instrument${instruments.length === 1 && instruments[0] === 1 ? "" : "s"} (unregistered: their signals stop at risk stage 1), ` +
    `up to ${fmtInt(events)} events per run (publish phase capped at ${load.publishCapMs / 1000} s), mix per instrument-minute ${load.tradesPerMinute} trades + ` +
    `${load.tickersPerMinute} tickers + 1 closed 1m candle; published in batches of ${load.batch} with the services' envelope path (envelope + schema validation), ` +
    `at most ${fmtInt(load.maxInFlight)} in flight; clock stops when groups ingestion and features have lag 0 on market.raw.data`
  );
}

function latencySetup(lat: LatencyResult): string {
  return (
    `latency: ${lat.instruments.length} registered instruments (${lat.instruments.join(", ")}), rule strategy, sine-wave closes (period 30 candles); ` +
    `MODERATE load, not saturation: ${(lat.candles / lat.seconds).toFixed(0)} candles/s + ${(lat.ticks / lat.seconds).toFixed(0)} ticks/s for ` +
    `${lat.seconds.toFixed(1)} s; tick = candle published with its receivedAt stamp, order = its orders.placed event seen by a bench consumer group`
  );
}

function throughputDetail(r: ThroughputResult, label: string, processLabel: string): string {
  return (
    `  ${label}: ${fmtInt(r.events)} events (${fmtInt(r.candles)} candles) in ${r.seconds.toFixed(2)} s (publish phase ${r.publishSeconds.toFixed(2)} s); ` +
    (r.downstreamDrained
      ? `downstream topics drained ${r.downstreamSeconds.toFixed(2)} s later; `
      : `downstream topics NOT drained ${r.downstreamSeconds.toFixed(0)} s later; `) +
    `peak RSS ${mb(r.peakRss)} measuring, ${mb(r.processPeakRss)} ${processLabel}` +
    `${r.deadLetters ? `; DEAD LETTERS ${r.deadLetters}` : ""}`
  );
}

const counts = (byName: Record<string, number>) => Object.entries(byName).map(([name, n]) => `${name} ${n}`).join(", ") || "none";

function latencyDetails(lat: LatencyResult, processLabel: string): string[] {
  return [
    `  latency: ${lat.orders} orders (${counts(lat.orderStatuses)}), ` +
      `${Object.values(lat.rejections).reduce((a, b) => a + b, 0)} rejections (${counts(lat.rejections)}); ` +
      `peak RSS ${mb(lat.peakRss)} measuring, ${mb(lat.processPeakRss)} ${processLabel}${lat.deadLetters ? `; DEAD LETTERS ${lat.deadLetters}` : ""}`,
    `  tick→approval (trades.approved) p50 ${fmtMs(percentile(lat.toApprovalMs, 50))}, p99 ${fmtMs(percentile(lat.toApprovalMs, 99))}; ` +
      `tick→order p90 ${fmtMs(percentile(lat.toOrderMs, 90))}, max ${fmtMs(lat.toOrderMs[lat.toOrderMs.length - 1] ?? NaN)}`,
    `  where the time goes (p50 from the tick, signals that became orders): ` +
      [...Object.entries(lat.hopMs), [TOPICS.ordersPlaced, lat.toOrderMs] as const].map(([topic, times]) => `${topic} ${fmtMs(percentile([...times], 50))}`).join(" → "),
    `  cross-check from the ms-resolution receivedAt stamp carried by trades.approved: tick→order p50 ${fmtMs(percentile(lat.receivedAtMs, 50))}, ` +
      `p99 ${fmtMs(percentile(lat.receivedAtMs, 99))}`,
  ];
}

export const cpuLine = () => {
  const cpus = os.cpus();
  return `${cpus.length} core(s) (${cpus[0]?.model?.trim() ?? "unknown cpu"}), node ${process.version}`;
};

export function embeddedReport(options: BenchOptions, throughputs: ThroughputResult[], lat: LatencyResult | undefined): string[] {
  const overallPeak = Math.max(0, ...throughputs.map((r) => r.processPeakRss), lat?.processPeakRss ?? 0);
  const rows: Row[] = throughputs.map((r) => throughputRow(r, EMBEDDED_TARGETS));
  if (lat) rows.push(...latencyRows(lat, EMBEDDED_TARGETS));
  rows.push(["peak RSS (largest scenario process)", mb(overallPeak), "—", ""]);

  const out: string[] = [];
  out.push("");
  out.push("Pipeline benchmark — embedded mode (all services in one ServiceBroker, logger off, embedded topic log, file-backed NeDB store)");
  out.push(`setup: ${cpuLine()}, ${options.partitions} partitions per topic, services ${ALL_SERVICES.join(",")}; one child process per scenario`);
  if (throughputs.length > 0) out.push(throughputSetup(options.instrumentCounts, options.events));
  if (lat) out.push(latencySetup(lat));
  out.push("");
  out.push(...table(rows));
  out.push("");
  out.push("details:");
  for (const r of throughputs) out.push(throughputDetail(r, `${padStart(String(r.instruments), 2)} instrument(s)`, "process"));
  if (lat) out.push(...latencyDetails(lat, "process"));
  return out;
}

export function kafkaReport(options: BenchOptions, k: KafkaResult): string[] {
  const serviceRss = Object.values(k.servicePeakRss).filter(Number.isFinite);
  const serviceSum = serviceRss.reduce((a, b) => a + b, 0);

  const rows: Row[] = [];
  if (k.throughput) rows.push(throughputRow(k.throughput, KAFKA_TARGETS));
  if (k.latency) rows.push(...latencyRows(k.latency, KAFKA_TARGETS));
  rows.push(["peak RSS, bench process", mb(k.benchPeakRss), "—", ""]);
  if (serviceRss.length > 0) rows.push([`peak RSS, ${serviceRss.length} service processes summed (VmHWM)`, mb(serviceSum), "—", ""]);

  const { setup } = k;
  const out: string[] = [];
  out.push("");
  out.push("Pipeline benchmark — kafka mode (one OS process per service over NATS + Kafka + MongoDB/FerretDB, services log at info to files)");
  out.push(
    `setup: ${cpuLine()}, load average ${setup.loadAverage.map((l) => l.toFixed(1)).join(" ")} at start; ` +
      `servers from scripts/infra/all.sh: Kafka ${setup.kafkaBrokers.join(",")} (one KRaft broker), FerretDB ${setup.mongoUri.replace(/\/[^/]*$/, "")}, NATS ${setup.natsUrl}; ` +
      `${setup.partitions} partitions per topic; processes ${setup.services.join(", ")} (one each, SIM_SPEED 0.001), namespace ${setup.namespace}; ` +
      `bench process: KafkaBus producer + bench consumer group, Moleculer client broker on NATS; cluster up in ${setup.startupSeconds.toFixed(1)} s; ` +
      `latency scenario first, then the throughput run, on the same cluster`,
  );
  if (k.throughput) out.push(throughputSetup([k.throughput.instruments], options.events));
  if (k.latency) out.push(latencySetup(k.latency));
  out.push("");
  out.push(...table(rows));
  out.push("");
  out.push("details:");
  if (k.throughput) out.push(throughputDetail(k.throughput, `${k.throughput.instruments} instrument(s)`, "bench process"));
  if (k.latency) out.push(...latencyDetails(k.latency, "bench process"));
  out.push(`  service peak RSS (VmHWM): ${Object.entries(k.servicePeakRss).map(([name, bytes]) => `${name} ${Number.isFinite(bytes) ? mb(bytes) : "n/a"}`).join(", ")}`);
  return out;
}
