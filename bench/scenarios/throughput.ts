/**
 * Throughput: synthetic market.raw.data events (trades, tickers, closed 1-minute candles) for N
 * instruments published through the services' envelope path as fast as the pipeline drains them;
 * the clock stops when both consumer groups of market.raw.data (ingestion, features) have lag 0.
 * Downstream topics (indicators, signals, …) run concurrently, as in production.
 */
import { performance } from "node:perf_hooks";
import { type MarketEvent, TOPICS } from "../../schemas";
import type { BenchContext } from "../context";
import type { PipelineUnderTest } from "../platform";
import { SyntheticMarket } from "../synthetic-market";

/** The load of a throughput run; the report states it next to the figures. */
export const THROUGHPUT_LOAD = {
  /** Event mix per instrument-minute. */
  tradesPerMinute: 30,
  tickersPerMinute: 9,
  /** Events per publishMany call (a few instrument-minutes). */
  batch: 1000,
  /** The producer waits while the slower market.raw.data group is this far behind. */
  maxInFlight: 20_000,
  /** The publish phase of one run stops here even if the event count is not reached. */
  publishCapMs: 20_000,
} as const;

/** Minutes per instrument published before the clock starts: the indicators go live, the JIT warms. */
const WARMUP_MINUTES = 40;

export interface ThroughputResult {
  instruments: number;
  events: number;
  candles: number;
  seconds: number;
  rate: number;
  /** The publish phase alone (the producer waits while maxInFlight events are not consumed yet). */
  publishSeconds: number;
  downstreamSeconds: number;
  /** False when the downstream topics were still behind after 120 s (downstreamSeconds is then that wait). */
  downstreamDrained: boolean;
  /** Peak RSS during the measured phase, and over the whole scenario process. */
  peakRss: number;
  processPeakRss: number;
  deadLetters: number;
}

/**
 * Flow control of the producer: it waits while the slower market.raw.data group is more than
 * maxInFlight behind. In-process the lag is read after every batch; on Kafka it costs round trips,
 * so it is polled in the background at most every lagPollMs and the producer never waits for the poll.
 */
function flowControl(ctx: BenchContext, platform: PipelineUnderTest) {
  const groupsBehind = async () => {
    const lags = await platform.lags(TOPICS.marketRawData);
    return Math.max(lags.ingestion ?? Infinity, lags.features ?? Infinity);
  };
  let behind = 0;
  let polledAt = -Infinity;
  let polling: Promise<void> | undefined;
  const poll = () => {
    if (polling || performance.now() - polledAt < platform.lagPollMs) return;
    polledAt = performance.now();
    polling = groupsBehind()
      .then(
        (b) => void (behind = b),
        (err) => ctx.log(`  lag poll failed (${(err as Error).message}); keeping the last figure`),
      )
      .finally(() => (polling = undefined));
  };
  return {
    groupsBehind,
    async throttle(): Promise<void> {
      if (platform.lagPollMs === 0) {
        while ((await groupsBehind()) > THROUGHPUT_LOAD.maxInFlight) await platform.idle();
        return;
      }
      poll();
      while (behind > THROUGHPUT_LOAD.maxInFlight) {
        await platform.idle();
        poll();
      }
    },
    /** Resolves once the background poll in flight, if any, has settled. */
    settled: () => polling ?? Promise.resolve(),
  };
}

export async function throughput(ctx: BenchContext, platform: PipelineUnderTest, instruments: number, events: number): Promise<ThroughputResult> {
  const { tradesPerMinute, tickersPerMinute, batch: batchSize, publishCapMs } = THROUGHPUT_LOAD;
  // Unregistered instruments: no simulator stream; their signals stop at risk stage 1.
  const firstOpenTime = Date.UTC(2024, 0, 1);
  const markets = Array.from(
    { length: instruments },
    (_, i) => new SyntheticMarket({ exchange: "bench", symbol: `T${i}/USDT`, price: 100 + i, firstOpenTime, seed: i + 1 }),
  );
  const flow = flowControl(ctx, platform);

  // Warm-up (not measured): enough minutes per instrument for the indicators to be live, so the
  // measured part runs the full candle path (features → indicators → signals), and the JIT is warm.
  for (let m = 0; m < WARMUP_MINUTES; m++) {
    // receivedAt is a wall-clock stamp carried on the wire.
    const receivedAt = Date.now();
    const batch = markets.flatMap((mk) => mk.minute(m % 4 === 0 ? tradesPerMinute : 0, m % 4 === 0 ? tickersPerMinute : 0, receivedAt));
    await platform.publishMarket(batch);
    await flow.throttle();
  }
  await flow.settled();
  await platform.drained();

  ctx.rss.startPhase();
  let published = 0;
  let candles = 0;
  let next = 0;
  const t0 = performance.now();
  while (published < events && performance.now() - t0 < publishCapMs) {
    const batch: MarketEvent[] = [];
    const receivedAt = Date.now();
    while (batch.length < batchSize && published + batch.length < events) {
      for (const e of markets[next]!.minute(tradesPerMinute, tickersPerMinute, receivedAt)) batch.push(e);
      candles++;
      next = (next + 1) % markets.length;
    }
    await platform.publishMarket(batch);
    published += batch.length;
    await flow.throttle();
  }
  const tPublished = performance.now();
  await flow.settled();
  while ((await flow.groupsBehind()) > 0) await platform.idle();
  const t1 = performance.now();
  let downstreamDrained = true;
  try {
    await platform.drained(120_000);
  } catch (err) {
    downstreamDrained = false;
    ctx.log(`  ${(err as Error).message}`);
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
    peakRss: ctx.rss.phasePeak,
    processPeakRss: ctx.rss.peak,
    deadLetters: dead?.messages ?? 0,
  };
}
