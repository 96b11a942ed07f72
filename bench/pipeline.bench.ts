/**
 * `npm run bench`: figures of the embedded mode (every service in one ServiceBroker, logger off,
 * file-backed stores in a temporary DATA_DIR, the embedded topic log).
 *
 *  1. Throughput: synthetic market.raw.data events (trades, tickers, closed 1-minute candles) for N
 *     instruments published through the topics mixin's envelope path as fast as the pipeline drains
 *     them; the clock stops when both consumer groups of market.raw.data (ingestion, features) have
 *     lag 0. Downstream topics (indicators, signals, …) run concurrently, as in production.
 *  2. Tick-to-order latency: the full service set trading registered instruments; candles shaped
 *     to make the rule strategy fire are published at a moderate rate (far from saturation); for
 *     each order the time from the candle's publication (its receivedAt stamp) to the moment the
 *     order shows up on orders.placed, joined through trades.approved by clientOrderId.
 *  3. Peak RSS, sampled every 50 ms.
 *
 * Each scenario runs in a child process of its own (same file, `--scenario …`), so no run inherits
 * another's heap, JIT state or timers, and each peak RSS is that scenario's alone.
 *
 * The kafka mode measures the same figures on the distributed platform (bench/kafka-platform.ts):
 * `scripts/infra/all.sh start`, one OS process per pipeline service over NATS + Kafka + MongoDB
 * (FerretDB), the bench process publishing market.raw.data with its own KafkaBus and calling the
 * services through a client broker on NATS. One child process runs, on one cluster: the latency
 * scenario, then one throughput run; it reports its own peak RSS and the services' (VmHWM), and
 * stops the cluster.
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
import { TOPICS } from "../schemas";
import { sleep } from "../lib/clock";
import { loadConfig } from "../lib/config";
import { LIMIT_BOUNDS } from "../lib/risk/rules";
import type { TradeApproved, TradeRejected } from "../schemas/events";
import { readEnvelope } from "../lib/bus/envelope";
import type { BusMessage, Subscription } from "../lib/bus/types";
import { MINUTE_MS, minuteOf } from "../lib/market/candles";
import { simMarketInfo, simStartPrice } from "../lib/market/catalog";
import { RuleStrategy } from "../lib/strategies/rule";
import { signalIdOf } from "../lib/strategies/types";
import { instrumentKeyOf, type MarketEvent, type VenueOrder } from "../lib/types";
import { SyntheticMarket } from "./synthetic-market";
import { startBenchPlatform, ALL_SERVICES, type PipelineUnderTest } from "./platform";
import { startKafkaPlatform, type KafkaBenchPlatform } from "./kafka-platform";


// ---------------------------------------------------------------------------------------------
// Options

function option(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const QUICK = process.argv.includes("--quick");
const EVENTS = Number(option("events") ?? (QUICK ? 30_000 : 200_000));
const INSTRUMENT_COUNTS = (option("instruments") ?? "1,10,50").split(",").map(Number).filter((n) => n > 0);
const LATENCY_SECONDS = Number(option("latency-seconds") ?? (QUICK ? 4 : 15));
const LATENCY_INSTRUMENTS = Number(option("latency-instruments") ?? 4);
/** Pacing of the latency run: one candle every this many ms (round-robin over the instruments). */
const CANDLE_INTERVAL_MS = Number(option("candle-interval") ?? 5);
const SKIP_THROUGHPUT = process.argv.includes("--skip-throughput");
const SKIP_LATENCY = process.argv.includes("--skip-latency");
const MODE = option("mode") ?? "both";
if (!["embedded", "kafka", "both"].includes(MODE)) throw new Error(`--mode must be embedded, kafka or both, got "${MODE}"`);
const KAFKA_INSTRUMENTS = Number(option("kafka-instruments") ?? 10);
const KAFKA_CANDLE_INTERVAL_MS = Number(option("kafka-candle-interval") ?? 20);
const KAFKA_PARTITIONS = Number(option("kafka-partitions") ?? loadConfig().partitions);
/** The kafka child gives up (stopping its cluster) after this long. */
const KAFKA_DEADLINE_MS = 5 * 60_000;

/** Event mix per instrument-minute in the throughput runs. */
const TRADES_PER_MINUTE = 30;
const TICKERS_PER_MINUTE = 9;
/** Events per publishMany call (a few instrument-minutes). */
const BATCH = 1000;
/** The producer waits while the slower market.raw.data group is this far behind. */
const MAX_IN_FLIGHT = 20_000;
/** The publish phase of one throughput run stops here even if EVENTS is not reached. */
const PUBLISH_CAP_MS = 20_000;

/** Latency run: a few ticks before each candle. */
const LATENCY_TRADES = 4;
const LATENCY_TICKERS = 1;
const LATENCY_WARMUP_CANDLES = 60;

interface Targets {
  eventsPerS: number;
  p50Ms: number;
  p99Ms: number;
}
const EMBEDDED_TARGETS: Targets = { eventsPerS: 100_000, p50Ms: 1, p99Ms: 5 };
/** Issue 3, item 9: services in separate processes over NATS + Kafka + MongoDB, on this 2-core machine. */
const KAFKA_TARGETS: Targets = { eventsPerS: 30_000, p50Ms: 10, p99Ms: 40 };

// ---------------------------------------------------------------------------------------------
// RSS sampling

/** Peak of this process, and of the current measured phase. */
let peakRss = 0;
let phasePeakRss = 0;
function sampleRss(): void {
  const rss = process.memoryUsage.rss();
  if (rss > peakRss) peakRss = rss;
  if (rss > phasePeakRss) phasePeakRss = rss;
}
const rssTimer = setInterval(sampleRss, 50);
rssTimer.unref();
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;

// ---------------------------------------------------------------------------------------------
// Helpers

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

function log(line: string): void {
  process.stderr.write(`[bench] ${line}\n`);
}

// ---------------------------------------------------------------------------------------------
// 1. Throughput

interface ThroughputResult {
  instruments: number;
  events: number;
  candles: number;
  seconds: number;
  rate: number;
  /** The publish phase alone (the producer waits while MAX_IN_FLIGHT events are not consumed yet). */
  publishSeconds: number;
  downstreamSeconds: number;
  /** False when the downstream topics were still behind after 120 s (downstreamSeconds is then that wait). */
  downstreamDrained: boolean;
  /** Peak RSS during the measured phase, and over the whole scenario process. */
  peakRss: number;
  processPeakRss: number;
  deadLetters: number;
}

async function throughput(platform: PipelineUnderTest, instruments: number, events: number): Promise<ThroughputResult> {
  // Unregistered instruments: no simulator stream; their signals stop at risk stage 1.
  const firstOpenTime = Date.UTC(2024, 0, 1);
  const markets = Array.from(
    { length: instruments },
    (_, i) => new SyntheticMarket({ exchange: "bench", symbol: `T${i}/USDT`, price: 100 + i, firstOpenTime, seed: i + 1 }),
  );
  const groupsBehind = async () => {
    const lags = await platform.lags(TOPICS.marketRawData);
    return Math.max(lags.ingestion ?? Infinity, lags.features ?? Infinity);
  };
  // Flow control: the producer waits while the slower group is more than MAX_IN_FLIGHT behind.
  // In-process the lag is read after every batch; on Kafka it costs round trips, so it is polled
  // in the background at most every lagPollMs and the producer never waits for the poll itself.
  let behind = 0;
  let polledAt = -Infinity;
  let polling: Promise<void> | undefined;
  const poll = () => {
    if (polling || performance.now() - polledAt < platform.lagPollMs) return;
    polledAt = performance.now();
    polling = groupsBehind()
      .then(
        (b) => void (behind = b),
        (err) => log(`  lag poll failed (${(err as Error).message}); keeping the last figure`),
      )
      .finally(() => (polling = undefined));
  };
  const throttle = async () => {
    if (platform.lagPollMs === 0) {
      while ((await groupsBehind()) > MAX_IN_FLIGHT) await platform.idle();
      return;
    }
    poll();
    while (behind > MAX_IN_FLIGHT) {
      await platform.idle();
      poll();
    }
  };

  // Warm-up (not measured): enough minutes per instrument for the indicators to be live, so the
  // measured part runs the full candle path (features → indicators → signals), and the JIT is warm.
  const warmupMinutes = 40;
  for (let m = 0; m < warmupMinutes; m++) {
    const receivedAt = Date.now();
    const batch = markets.flatMap((mk) => mk.minute(m % 4 === 0 ? TRADES_PER_MINUTE : 0, m % 4 === 0 ? TICKERS_PER_MINUTE : 0, receivedAt));
    await platform.publishMarket(batch);
    await throttle();
  }
  await polling;
  await platform.drained();

  phasePeakRss = 0;
  let published = 0;
  let candles = 0;
  let next = 0;
  const t0 = performance.now();
  while (published < events && performance.now() - t0 < PUBLISH_CAP_MS) {
    const batch: MarketEvent[] = [];
    const receivedAt = Date.now();
    while (batch.length < BATCH && published + batch.length < events) {
      for (const e of markets[next]!.minute(TRADES_PER_MINUTE, TICKERS_PER_MINUTE, receivedAt)) batch.push(e);
      candles++;
      next = (next + 1) % markets.length;
    }
    await platform.publishMarket(batch);
    published += batch.length;
    await throttle();
  }
  const tPublished = performance.now();
  await polling;
  while ((await groupsBehind()) > 0) await platform.idle();
  const t1 = performance.now();
  let downstreamDrained = true;
  try {
    await platform.drained(120_000);
  } catch (err) {
    downstreamDrained = false;
    log(`  ${(err as Error).message}`);
  }
  const t2 = performance.now();
  const [dead] = await platform.bus.stats([TOPICS.deadLetter]);
  const seconds = (t1 - t0) / 1000;
  return {
    instruments,
    events: published,
    candles,
    seconds,
    rate: published / seconds,
    publishSeconds: (tPublished - t0) / 1000,
    downstreamSeconds: (t2 - t1) / 1000,
    downstreamDrained,
    peakRss: phasePeakRss,
    processPeakRss: peakRss,
    deadLetters: dead?.messages ?? 0,
  };
}

// ---------------------------------------------------------------------------------------------
// 2. Tick-to-order latency

interface LatencyResult {
  instruments: string[];
  candles: number;
  ticks: number;
  seconds: number;
  approvals: number;
  orders: number;
  orderStatuses: Record<string, number>;
  rejections: Record<string, number>;
  toOrderMs: number[];
  toApprovalMs: number[];
  receivedAtMs: number[];
  /** Per intermediate topic, for the signals that became orders: time from the tick until the bench group saw it. */
  hopMs: Record<string, number[]>;
  peakRss: number;
  processPeakRss: number;
  deadLetters: number;
}

const LATENCY_SYMBOLS = ["BTC/USDT", "ETH/USDT", "SOL/USDT", "BNB/USDT", "XRP/USDT", "ADA/USDT", "DOGE/USDT"];

/** The platform must trade with a large cash balance (START_CASH 100000000) and a slow simulator (SIM_SPEED 0.001). */
async function latency(platform: PipelineUnderTest, instrumentCount: number, seconds: number, candleIntervalMs: number): Promise<LatencyResult> {
  const subscriptions: Subscription[] = [];
  try {
    const { broker, bus } = platform;
    const exchange = "binance";
    const symbols = LATENCY_SYMBOLS.slice(0, Math.min(instrumentCount, LATENCY_SYMBOLS.length));
    await broker.call("risk.setLimits", {
      id: "default",
      orderNotional: "20",
      maxOrderNotional: "1000000",
      maxPositionNotional: "1000000000",
      maxExposure: LIMIT_BOUNDS.maxExposureMultiple,
      maxOpenOrders: 1000,
      dailyLossLimit: "1000000000",
      maxDrawdown: "1",
      minConfidence: 0,
      maxDataAgeMs: 600_000,
    });

    // Per signal id: when its candle was published (high resolution).
    const publishedAt = new Map<string, number>();
    const approvals = new Map<string, { signalId: string; receivedAt: number }>();
    const orderStatuses: Record<string, number> = {};
    const rejections: Record<string, number> = {};
    const toOrderMs: number[] = [];
    const toApprovalMs: number[] = [];
    const receivedAtMs: number[] = [];
    const seenOrders = new Set<string>();
    let measuring = false;
    const strategy = new RuleStrategy().name;

    // Where the time goes: when each intermediate topic's event of a signal reached the bench group.
    const HOPS = [TOPICS.featuresIndicators, TOPICS.tradingSignals, TOPICS.tradingSignalsPortfolio] as const;
    const hopSeen = new Map<string, Partial<Record<string, number>>>();
    const hopMs: Record<string, number[]> = Object.fromEntries([...HOPS, TOPICS.tradesApproved].map((t) => [t, []]));
    const sawHop = (signalId: string, topic: string) => {
      if (!measuring || !publishedAt.has(signalId)) return;
      let seen = hopSeen.get(signalId);
      if (!seen) hopSeen.set(signalId, (seen = {}));
      seen[topic] ??= performance.now();
    };
    const signalOf: Record<string, (m: BusMessage) => string> = {
      [TOPICS.featuresIndicators]: (m) => {
        const f = readEnvelope(TOPICS.featuresIndicators, m).payload;
        return signalIdOf(strategy, f.instrumentKey, f.openTime);
      },
      [TOPICS.tradingSignals]: (m) => readEnvelope(TOPICS.tradingSignals, m).payload.signalId,
      [TOPICS.tradingSignalsPortfolio]: (m) => readEnvelope(TOPICS.tradingSignalsPortfolio, m).payload.signal.signalId,
    };

    const onApproved = (message: BusMessage) => {
      const at = performance.now();
      const a: TradeApproved = readEnvelope(TOPICS.tradesApproved, message).payload;
      approvals.set(a.clientOrderId, { signalId: a.signalId, receivedAt: a.receivedAt });
      sawHop(a.signalId, TOPICS.tradesApproved);
      const t0 = publishedAt.get(a.signalId);
      if (measuring && t0 !== undefined) toApprovalMs.push(at - t0);
    };
    const onOrder = (message: BusMessage) => {
      const at = performance.now();
      const now = Date.now();
      const order: VenueOrder = readEnvelope(TOPICS.ordersPlaced, message).payload;
      if (seenOrders.has(order.clientOrderId)) return; // later updates of the same order
      seenOrders.add(order.clientOrderId);
      const approval = approvals.get(order.clientOrderId);
      if (!approval) return;
      const t0 = publishedAt.get(approval.signalId);
      if (!measuring || t0 === undefined) return;
      orderStatuses[order.status] = (orderStatuses[order.status] ?? 0) + 1;
      toOrderMs.push(at - t0);
      receivedAtMs.push(now - approval.receivedAt);
      const seen = hopSeen.get(approval.signalId) ?? {};
      for (const [topic, times] of Object.entries(hopMs)) if (seen[topic] !== undefined) times.push(seen[topic]! - t0);
    };
    const onRejected = (message: BusMessage) => {
      const r: TradeRejected = readEnvelope(TOPICS.tradesRejected, message).payload;
      if (measuring) rejections[r.reason] = (rejections[r.reason] ?? 0) + 1;
    };
    // Two consumer groups of the bench: "bench" for the measured endpoints (approvals, orders,
    // rejections) and "bench-hops" for the intermediate topics, so on Kafka the orders.placed
    // events never wait behind the hop topics' messages in the bench's own consumer.
    subscriptions.push(
      await bus.subscribe({
        topics: [TOPICS.tradesApproved, TOPICS.ordersPlaced, TOPICS.tradesRejected],
        group: "bench",
        handler: async (message) => {
          if (message.topic === TOPICS.tradesApproved) onApproved(message);
          else if (message.topic === TOPICS.ordersPlaced) onOrder(message);
          else onRejected(message);
        },
      }),
      await bus.subscribe({
        topics: [...HOPS],
        group: "bench-hops",
        handler: async (message) => sawHop(signalOf[message.topic]!(message), message.topic),
      }),
    );

    // Registration: ingestion backfills the simulator's history and starts its stream (at SIM_SPEED
    // 0.001 it only yields the initial ticker and book, which give the paper venue a price).
    for (const symbol of symbols) await broker.call("risk.registerInstrument", { exchange, symbol, portfolioId: "default" });
    const keys = symbols.map((s) => instrumentKeyOf(exchange, s));
    const deadline = Date.now() + 60_000;
    for (const key of keys) {
      for (;;) {
        const { ticker } = await broker.call<{ ticker: unknown }, { instrument: string }>("ingestion.book", { instrument: key });
        if (ticker) break;
        if (Date.now() > deadline) throw new Error(`no market data from the simulator for ${key}`);
        await sleep(20);
      }
    }
    await platform.drained();

    const firstOpenTime = minuteOf(Date.now()) + MINUTE_MS;
    const markets = symbols.map((symbol, i) => {
      const tick = simMarketInfo(exchange, symbol).tickSize;
      const decimals = tick.includes(".") ? tick.split(".")[1]!.length : 0;
      return new SyntheticMarket({ exchange, symbol, price: Number(simStartPrice(symbol)), priceDecimals: decimals, firstOpenTime, seed: 100 + i });
    });

    let candles = 0;
    let ticks = 0;
    const publishCandle = async (market: SyntheticMarket) => {
      const receivedAt = Date.now();
      const events = market.minute(LATENCY_TRADES, LATENCY_TICKERS, receivedAt);
      const candle = events.pop()!;
      // The ticks go first, as their own batch; the candle is what the clock is started for.
      await platform.publishMarket(events);
      ticks += events.length;
      if (candle.kind !== "candle") throw new Error("the synthetic minute must end with its candle");
      const signalId = signalIdOf(strategy, market.instrumentKey, candle.openTime);
      const stamp = { ...candle, receivedAt: Date.now() };
      publishedAt.set(signalId, performance.now());
      await platform.publishMarket([stamp]);
      candles++;
    };

    // Warm-up: the indicators settle on the sine wave, the JIT warms.
    for (let i = 0; i < LATENCY_WARMUP_CANDLES * markets.length; i++) {
      await publishCandle(markets[i % markets.length]!);
      await sleep(1);
    }
    await platform.drained();

    phasePeakRss = 0;
    measuring = true;
    candles = 0;
    ticks = 0;
    const t0 = performance.now();
    const end = t0 + seconds * 1000;
    let k = 0;
    // Paced against the clock, so a slow iteration does not shift the schedule.
    while (performance.now() < end) {
      await publishCandle(markets[k % markets.length]!);
      k++;
      const due = t0 + k * candleIntervalMs;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
    }
    const elapsed = (performance.now() - t0) / 1000;
    await platform.drained();
    await sleep(50);
    measuring = false;
    const [dead] = await bus.stats([TOPICS.deadLetter]);
    return {
      instruments: keys,
      candles,
      ticks,
      seconds: elapsed,
      approvals: toApprovalMs.length,
      orders: toOrderMs.length,
      orderStatuses,
      rejections,
      toOrderMs: toOrderMs.sort((a, b) => a - b),
      toApprovalMs: toApprovalMs.sort((a, b) => a - b),
      receivedAtMs: receivedAtMs.sort((a, b) => a - b),
      hopMs: Object.fromEntries(Object.entries(hopMs).map(([t, v]) => [t, v.sort((a, b) => a - b)])),
      peakRss: phasePeakRss,
      processPeakRss: peakRss,
      deadLetters: dead?.messages ?? 0,
    };
  } finally {
    await Promise.all(subscriptions.map((s) => s.close()));
  }
}

// ---------------------------------------------------------------------------------------------
// Report

function pad(text: string, width: number): string {
  return text.length >= width ? text : text + " ".repeat(width - text.length);
}
function padStart(text: string, width: number): string {
  return text.length >= width ? text : " ".repeat(width - text.length) + text;
}
const fmtInt = (n: number) => Math.round(n).toLocaleString("en-US");
const fmtMs = (n: number) => (Number.isFinite(n) ? `${n.toFixed(2)} ms` : "n/a");

// ---------------------------------------------------------------------------------------------
// 3. The kafka mode: one cluster, the latency scenario then one throughput run

interface KafkaResult {
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

async function kafkaScenario(): Promise<KafkaResult> {
  const loadAverage = os.loadavg();
  let platform: KafkaBenchPlatform | undefined;
  // Whatever happens, the cluster stops and this process ends.
  const watchdog = setTimeout(() => {
    log(`kafka mode: still running after ${KAFKA_DEADLINE_MS / 1000} s, stopping the cluster`);
    void (platform?.stop() ?? Promise.resolve()).finally(() => process.exit(1));
  }, KAFKA_DEADLINE_MS);
  watchdog.unref();
  try {
    log(`kafka mode: scripts/infra/all.sh start, then ${KAFKA_PARTITIONS} partitions per topic …`);
    platform = await startKafkaPlatform({ partitions: KAFKA_PARTITIONS, log });
    log(`  cluster ${platform.cluster.namespace} up in ${platform.startupSeconds.toFixed(1)} s (${platform.services.join(", ")})`);
    let lat: LatencyResult | undefined;
    if (!SKIP_LATENCY) {
      log(`  latency: ${LATENCY_INSTRUMENTS} instrument(s), ${LATENCY_SECONDS} s at one candle every ${KAFKA_CANDLE_INTERVAL_MS} ms …`);
      lat = await latency(platform, LATENCY_INSTRUMENTS, LATENCY_SECONDS, KAFKA_CANDLE_INTERVAL_MS);
      log(`    ${lat.orders} orders, p50 ${fmtMs(percentile(lat.toOrderMs, 50))}, p99 ${fmtMs(percentile(lat.toOrderMs, 99))}`);
    }
    let tp: ThroughputResult | undefined;
    if (!SKIP_THROUGHPUT) {
      log(`  throughput: ${KAFKA_INSTRUMENTS} instrument(s), up to ${fmtInt(EVENTS)} events …`);
      tp = await throughput(platform, KAFKA_INSTRUMENTS, EVENTS);
      log(`    ${fmtInt(tp.events)} events in ${tp.seconds.toFixed(2)} s = ${fmtInt(tp.rate)} events/s`);
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
      benchPeakRss: peakRss,
      servicePeakRss,
    };
  } finally {
    log("  stopping the cluster …");
    await platform?.stop();
    clearTimeout(watchdog);
  }
}

// ---------------------------------------------------------------------------------------------
// Report

type ScenarioResult =
  | { kind: "throughput"; result: ThroughputResult }
  | { kind: "latency"; result: LatencyResult }
  | { kind: "kafka"; result: KafkaResult };

async function runScenario(spec: string): Promise<ScenarioResult> {
  if (spec === "kafka") return { kind: "kafka", result: await kafkaScenario() };
  const match = /^throughput:(\d+)$/.exec(spec);
  if (spec !== "latency" && !match) throw new Error(`unknown scenario "${spec}" (expected throughput:<instruments>, latency or kafka)`);
  const platform =
    spec === "latency" ? await startBenchPlatform({ startCash: "100000000", simSpeed: 0.001 }) : await startBenchPlatform();
  try {
    if (spec === "latency") return { kind: "latency", result: await latency(platform, LATENCY_INSTRUMENTS, LATENCY_SECONDS, CANDLE_INTERVAL_MS) };
    return { kind: "throughput", result: await throughput(platform, Number(match![1]), EVENTS) };
  } finally {
    await platform.stop();
  }
}

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

function throughputSetup(instruments: number[]): string {
  return (
    `throughput: ${instruments.join(" / ")} instrument${instruments.length === 1 && instruments[0] === 1 ? "" : "s"} (unregistered: their signals stop at risk stage 1), ` +
    `up to ${fmtInt(EVENTS)} events per run (publish phase capped at ${PUBLISH_CAP_MS / 1000} s), mix per instrument-minute ${TRADES_PER_MINUTE} trades + ` +
    `${TICKERS_PER_MINUTE} tickers + 1 closed 1m candle; published in batches of ${BATCH} with the services' envelope path (envelope + schema validation), ` +
    `at most ${fmtInt(MAX_IN_FLIGHT)} in flight; clock stops when groups ingestion and features have lag 0 on market.raw.data`
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

function latencyDetails(lat: LatencyResult, processLabel: string): string[] {
  return [
    `  latency: ${lat.orders} orders (${Object.entries(lat.orderStatuses).map(([s, n]) => `${s} ${n}`).join(", ") || "none"}), ` +
      `${Object.values(lat.rejections).reduce((a, b) => a + b, 0)} rejections (${Object.entries(lat.rejections).map(([s, n]) => `${s} ${n}`).join(", ") || "none"}); ` +
      `peak RSS ${mb(lat.peakRss)} measuring, ${mb(lat.processPeakRss)} ${processLabel}${lat.deadLetters ? `; DEAD LETTERS ${lat.deadLetters}` : ""}`,
    `  tick→approval (trades.approved) p50 ${fmtMs(percentile(lat.toApprovalMs, 50))}, p99 ${fmtMs(percentile(lat.toApprovalMs, 99))}; ` +
      `tick→order p90 ${fmtMs(percentile(lat.toOrderMs, 90))}, max ${fmtMs(lat.toOrderMs[lat.toOrderMs.length - 1] ?? NaN)}`,
    `  where the time goes (p50 from the tick, signals that became orders): ` +
      [...Object.entries(lat.hopMs), [TOPICS.ordersPlaced, lat.toOrderMs] as const].map(([topic, times]) => `${topic} ${fmtMs(percentile([...times], 50))}`).join(" → "),
    `  cross-check from the ms-resolution receivedAt stamp carried by trades.approved: tick→order p50 ${fmtMs(percentile(lat.receivedAtMs, 50))}, ` +
      `p99 ${fmtMs(percentile(lat.receivedAtMs, 99))}`,
  ];
}

const cpuLine = () => {
  const cpus = os.cpus();
  return `${cpus.length} core(s) (${cpus[0]?.model?.trim() ?? "unknown cpu"}), node ${process.version}`;
};

async function embeddedMode(): Promise<string[]> {
  const throughputs: ThroughputResult[] = [];
  if (!SKIP_THROUGHPUT) {
    for (const n of INSTRUMENT_COUNTS) {
      log(`throughput: ${n} instrument(s), ${fmtInt(EVENTS)} events …`);
      const { result: r } = (await runChild(`throughput:${n}`)) as { result: ThroughputResult };
      log(`  ${fmtInt(r.events)} events in ${r.seconds.toFixed(2)} s = ${fmtInt(r.rate)} events/s`);
      throughputs.push(r);
    }
  }
  let lat: LatencyResult | undefined;
  if (!SKIP_LATENCY) {
    log(`latency: ${LATENCY_INSTRUMENTS} instrument(s), ${LATENCY_SECONDS} s at one candle every ${CANDLE_INTERVAL_MS} ms …`);
    lat = ((await runChild("latency")) as { result: LatencyResult }).result;
    log(`  ${lat.orders} orders, p50 ${fmtMs(percentile(lat.toOrderMs, 50))}, p99 ${fmtMs(percentile(lat.toOrderMs, 99))}`);
  }
  const overallPeak = Math.max(0, ...throughputs.map((r) => r.processPeakRss), lat?.processPeakRss ?? 0);

  const rows: Row[] = throughputs.map((r) => throughputRow(r, EMBEDDED_TARGETS));
  if (lat) rows.push(...latencyRows(lat, EMBEDDED_TARGETS));
  rows.push(["peak RSS (largest scenario process)", mb(overallPeak), "—", ""]);

  const out: string[] = [];
  out.push("");
  out.push("Pipeline benchmark — embedded mode (all services in one ServiceBroker, logger off, embedded topic log, file-backed NeDB store)");
  out.push(
    `setup: ${cpuLine()}, ${loadConfig().partitions} partitions per topic, services ${ALL_SERVICES.join(",")}; one child process per scenario`,
  );
  if (throughputs.length > 0) out.push(throughputSetup(INSTRUMENT_COUNTS));
  if (lat) out.push(latencySetup(lat));
  out.push("");
  out.push(...table(rows));
  out.push("");
  out.push("details:");
  for (const r of throughputs) out.push(throughputDetail(r, `${padStart(String(r.instruments), 2)} instrument(s)`, "process"));
  if (lat) out.push(...latencyDetails(lat, "process"));
  return out;
}

async function kafkaMode(): Promise<string[]> {
  const { result: k } = (await runChild("kafka")) as { result: KafkaResult };
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
  if (k.throughput) out.push(throughputSetup([k.throughput.instruments]));
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

async function main(): Promise<void> {
  const scenario = option("scenario");
  if (scenario) {
    const result = await runScenario(scenario);
    if (process.send) await new Promise<void>((resolve) => process.send!(result, () => resolve()));
    else process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return;
  }

  const started = performance.now();
  const cpus = os.cpus();
  log(`node ${process.version}, ${cpus.length} core(s) ${cpus[0]?.model ?? ""}`.trim() + `; mode ${MODE}`);

  const out: string[] = [];
  if (MODE !== "kafka") out.push(...(await embeddedMode()));
  if (MODE !== "embedded") out.push(...(await kafkaMode()));
  out.push("");
  out.push(`total bench time ${((performance.now() - started) / 1000).toFixed(0)} s`);
  out.push("");
  process.stdout.write(out.join("\n"));
}

main()
  .then(() => {
    clearInterval(rssTimer);
    process.exit(0);
  })
  .catch((err) => {
    console.error(err);
    process.exit(1);
  });
