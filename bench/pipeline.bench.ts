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
 * Options: --events N (per throughput run, default 200000), --instruments 1,10,50,
 * --latency-seconds S (default 15), --latency-instruments N (default 4), --candle-interval MS
 * (latency pacing, default 5), --skip-throughput, --skip-latency, --quick (small figures for a
 * smoke test). `--scenario throughput:N` or `--scenario latency` runs one scenario in this process
 * and prints its raw result as JSON (handy with `node --cpu-prof --import tsx`).
 */
import { fork } from "node:child_process";
import os from "node:os";
import { performance } from "node:perf_hooks";
import { TOPICS } from "../schemas";
import { loadConfig } from "../lib/config";
import type { TradeApproved, TradeRejected } from "../schemas/events";
import { readEnvelope } from "../lib/bus/envelope";
import type { BusMessage, Subscription } from "../lib/bus/types";
import { simMarketInfo, simStartPrice } from "../lib/market/catalog";
import { RuleStrategy } from "../lib/strategies/rule";
import { signalIdOf } from "../lib/strategies/types";
import { instrumentKeyOf, type MarketEvent, type VenueOrder } from "../lib/types";
import { SyntheticMarket, MINUTE_MS } from "./synthetic-market";
import { nextTurn, sleep, startBenchPlatform, ALL_SERVICES } from "./platform";

// The NeDB store promisifies async functions, which Node 22 flags once per call site (DEP0174);
// `npm start` hides it with --disable-warning, the bench filters that one warning itself.
const emitWarning = process.emitWarning.bind(process);
process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
  const code = typeof rest[0] === "object" ? (rest[0] as { code?: string } | null)?.code : rest[1];
  if (code === "DEP0174") return;
  (emitWarning as (...args: unknown[]) => void)(warning, ...rest);
}) as typeof process.emitWarning;

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

const TARGET_EVENTS_PER_S = 100_000;
const TARGET_P50_MS = 1;
const TARGET_P99_MS = 5;

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
  downstreamSeconds: number;
  /** Peak RSS during the measured phase, and over the whole scenario process. */
  peakRss: number;
  processPeakRss: number;
  deadLetters: number;
}

async function throughput(instruments: number, events: number): Promise<ThroughputResult> {
  const platform = await startBenchPlatform();
  try {
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

    // Warm-up (not measured): enough minutes per instrument for the indicators to be live, so the
    // measured part runs the full candle path (features → indicators → signals), and the JIT is warm.
    const warmupMinutes = 40;
    for (let m = 0; m < warmupMinutes; m++) {
      const receivedAt = Date.now();
      const batch = markets.flatMap((mk) => mk.minute(m % 4 === 0 ? TRADES_PER_MINUTE : 0, m % 4 === 0 ? TICKERS_PER_MINUTE : 0, receivedAt));
      await platform.publishMarket(batch);
      while ((await groupsBehind()) > MAX_IN_FLIGHT) await nextTurn();
    }
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
      while ((await groupsBehind()) > MAX_IN_FLIGHT) await nextTurn();
    }
    while ((await groupsBehind()) > 0) await nextTurn();
    const t1 = performance.now();
    await platform.drained(120_000);
    const t2 = performance.now();
    const [dead] = await platform.bus.stats([TOPICS.deadLetter]);
    const seconds = (t1 - t0) / 1000;
    return {
      instruments,
      events: published,
      candles,
      seconds,
      rate: published / seconds,
      downstreamSeconds: (t2 - t1) / 1000,
      peakRss: phasePeakRss,
      processPeakRss: peakRss,
      deadLetters: dead?.messages ?? 0,
    };
  } finally {
    await platform.stop();
  }
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

async function latency(instrumentCount: number, seconds: number): Promise<LatencyResult> {
  const platform = await startBenchPlatform({ startCash: "100000000", simSpeed: 0.001 });
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
      maxExposure: "1000",
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
    // One member of the "bench" consumer group reading every topic it watches.
    subscriptions.push(
      await bus.subscribe({
        topics: [...HOPS, TOPICS.tradesApproved, TOPICS.ordersPlaced, TOPICS.tradesRejected],
        group: "bench",
        handler: async (message) => {
          if (message.topic === TOPICS.tradesApproved) onApproved(message);
          else if (message.topic === TOPICS.ordersPlaced) onOrder(message);
          else if (message.topic === TOPICS.tradesRejected) onRejected(message);
          else sawHop(signalOf[message.topic]!(message), message.topic);
        },
      }),
    );

    // Registration: ingestion backfills the simulator's history and starts its stream (at SIM_SPEED
    // 0.001 it only yields the initial ticker and book, which give the paper venue a price).
    for (const symbol of symbols) await broker.call("risk.registerInstrument", { exchange, symbol, portfolioId: "default" });
    const keys = symbols.map((s) => instrumentKeyOf(exchange, s));
    const deadline = Date.now() + 30_000;
    for (const key of keys) {
      for (;;) {
        const { ticker } = await broker.call<{ ticker: unknown }, { instrument: string }>("ingestion.book", { instrument: key });
        if (ticker) break;
        if (Date.now() > deadline) throw new Error(`no market data from the simulator for ${key}`);
        await sleep(20);
      }
    }
    await platform.drained();

    const firstOpenTime = Math.floor(Date.now() / MINUTE_MS) * MINUTE_MS + MINUTE_MS;
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
      const due = t0 + k * CANDLE_INTERVAL_MS;
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
    await platform.stop();
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

type ScenarioResult = { kind: "throughput"; result: ThroughputResult } | { kind: "latency"; result: LatencyResult };

async function runScenario(spec: string): Promise<ScenarioResult> {
  if (spec === "latency") return { kind: "latency", result: await latency(LATENCY_INSTRUMENTS, LATENCY_SECONDS) };
  const match = /^throughput:(\d+)$/.exec(spec);
  if (!match) throw new Error(`unknown scenario "${spec}" (expected throughput:<instruments> or latency)`);
  return { kind: "throughput", result: await throughput(Number(match[1]), EVENTS) };
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
  log(`node ${process.version}, ${cpus.length} core(s) ${cpus[0]?.model ?? ""}`.trim());

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

  const partitions = loadConfig().partitions;
  const rows: Array<[string, string, string, string]> = [];
  for (const r of throughputs) {
    rows.push([
      `raw events/s consumed, ${r.instruments} instrument${r.instruments === 1 ? "" : "s"}`,
      fmtInt(r.rate),
      `≥ ${fmtInt(TARGET_EVENTS_PER_S)}`,
      r.rate >= TARGET_EVENTS_PER_S ? "ok" : "MISS",
    ]);
  }
  if (lat) {
    const p50 = percentile(lat.toOrderMs, 50);
    const p99 = percentile(lat.toOrderMs, 99);
    rows.push([`tick→order p50 (${lat.orders} orders)`, fmtMs(p50), `≤ ${TARGET_P50_MS} ms`, p50 <= TARGET_P50_MS ? "ok" : "MISS"]);
    rows.push([`tick→order p99 (${lat.orders} orders)`, fmtMs(p99), `≤ ${TARGET_P99_MS} ms`, p99 <= TARGET_P99_MS ? "ok" : "MISS"]);
  }
  rows.push(["peak RSS (largest scenario process)", mb(overallPeak), "—", ""]);

  const out: string[] = [];
  out.push("");
  out.push("Pipeline benchmark — embedded mode (all services in one ServiceBroker, logger off, embedded topic log, file-backed NeDB store)");
  out.push(
    `setup: ${cpus.length} core(s) (${cpus[0]?.model?.trim() ?? "unknown cpu"}), node ${process.version}, ${partitions} partitions per topic, ` +
      `services ${ALL_SERVICES.join(",")}; one child process per scenario`,
  );
  if (throughputs.length > 0) {
    out.push(
      `throughput: ${INSTRUMENT_COUNTS.join(" / ")} instruments (unregistered: their signals stop at risk stage 1), up to ${fmtInt(EVENTS)} events per run ` +
        `(publish phase capped at ${PUBLISH_CAP_MS / 1000} s), mix per instrument-minute ${TRADES_PER_MINUTE} trades + ${TICKERS_PER_MINUTE} tickers + ` +
        `1 closed 1m candle; published in batches of ${BATCH} through the topics mixin (envelope + schema validation), at most ` +
        `${fmtInt(MAX_IN_FLIGHT)} in flight; clock stops when groups ingestion and features have lag 0 on market.raw.data`,
    );
  }
  if (lat) {
    out.push(
      `latency: ${lat.instruments.length} registered instruments (${lat.instruments.join(", ")}), rule strategy, sine-wave closes (period 30 candles); ` +
        `MODERATE load, not saturation: ${(lat.candles / lat.seconds).toFixed(0)} candles/s + ${(lat.ticks / lat.seconds).toFixed(0)} ticks/s for ` +
        `${lat.seconds.toFixed(1)} s; tick = candle published with its receivedAt stamp, order = its orders.placed event seen by a bench consumer group`,
    );
  }
  out.push("");
  const widths = [44, 16, 14, 6];
  const line = (cells: string[]) => cells.map((c, i) => (i === 1 ? padStart(c, widths[i]!) : pad(c, widths[i]!))).join("  ").trimEnd();
  out.push(line(["metric", "measured", "target", ""]));
  out.push(widths.map((w) => "-".repeat(w)).join("  "));
  for (const row of rows) out.push(line(row));
  out.push("");
  out.push("details:");
  for (const r of throughputs) {
    out.push(
      `  ${padStart(String(r.instruments), 2)} instrument(s): ${fmtInt(r.events)} events (${fmtInt(r.candles)} candles) in ${r.seconds.toFixed(2)} s; ` +
        `downstream topics drained ${r.downstreamSeconds.toFixed(2)} s later; peak RSS ${mb(r.peakRss)} measuring, ${mb(r.processPeakRss)} process` +
        `${r.deadLetters ? `; DEAD LETTERS ${r.deadLetters}` : ""}`,
    );
  }
  if (lat) {
    out.push(
      `  latency: ${lat.orders} orders (${Object.entries(lat.orderStatuses).map(([s, n]) => `${s} ${n}`).join(", ") || "none"}), ` +
        `${Object.values(lat.rejections).reduce((a, b) => a + b, 0)} rejections (${Object.entries(lat.rejections).map(([s, n]) => `${s} ${n}`).join(", ") || "none"}); ` +
        `peak RSS ${mb(lat.peakRss)} measuring, ${mb(lat.processPeakRss)} process${lat.deadLetters ? `; DEAD LETTERS ${lat.deadLetters}` : ""}`,
    );
    out.push(
      `  tick→approval (trades.approved) p50 ${fmtMs(percentile(lat.toApprovalMs, 50))}, p99 ${fmtMs(percentile(lat.toApprovalMs, 99))}; ` +
        `tick→order p90 ${fmtMs(percentile(lat.toOrderMs, 90))}, max ${fmtMs(lat.toOrderMs[lat.toOrderMs.length - 1] ?? NaN)}`,
    );
    out.push(
      `  where the time goes (p50 from the tick, signals that became orders): ` +
        [...Object.entries(lat.hopMs), [TOPICS.ordersPlaced, lat.toOrderMs] as const].map(([topic, times]) => `${topic} ${fmtMs(percentile([...times], 50))}`).join(" → "),
    );
    out.push(
      `  cross-check from the ms-resolution receivedAt stamp carried by trades.approved: tick→order p50 ${fmtMs(percentile(lat.receivedAtMs, 50))}, ` +
        `p99 ${fmtMs(percentile(lat.receivedAtMs, 99))}`,
    );
  }
  out.push(`  total bench time ${((performance.now() - started) / 1000).toFixed(0)} s`);
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
