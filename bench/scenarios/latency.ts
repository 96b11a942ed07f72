/**
 * Tick-to-order latency: the full service set trading registered instruments; candles shaped to make
 * the rule strategy fire are published at a moderate rate (far from saturation); for each order the
 * time from the candle's publication to the moment the order shows up on orders.placed, joined
 * through trades.approved by clientOrderId (bench/scenarios/latency-probe.ts).
 */
import { performance } from "node:perf_hooks";
import { TOPICS, instrumentKeyOf } from "../../schemas";
import { sleep } from "../../lib/clock";
import { LIMIT_BOUNDS } from "../../lib/risk/rules";
import { MINUTE_MS, minuteOf } from "../../lib/market/candles";
import { simMarketInfo, simStartPrice } from "../../lib/market/catalog";
import { RuleStrategy } from "../../lib/strategies/rule";
import { signalIdOf } from "../../lib/strategies/types";
import type { BenchContext } from "../context";
import type { PipelineUnderTest } from "../platform";
import { SyntheticMarket } from "../synthetic-market";
import { LatencyProbe, type LatencyFigures } from "./latency-probe";

/** A few ticks before each candle. */
const TRADES_PER_CANDLE = 4;
const TICKERS_PER_CANDLE = 1;
const WARMUP_CANDLES = 60;
const SYMBOLS = ["BTC/USDT", "ETH/USDT", "SOL/USDT", "BNB/USDT", "XRP/USDT", "ADA/USDT", "DOGE/USDT"];
const EXCHANGE = "binance";
/** How long registration may take until the simulator has given each instrument a price. */
const MARKET_DATA_TIMEOUT_MS = 60_000;

export interface LatencyResult extends LatencyFigures {
  instruments: string[];
  candles: number;
  ticks: number;
  seconds: number;
  peakRss: number;
  processPeakRss: number;
  deadLetters: number;
}

/** Limits loose enough that every signal of the run is sized and approved on its own merits. */
async function openLimits(platform: PipelineUnderTest): Promise<void> {
  await platform.broker.call("risk.setLimits", {
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
}

/**
 * Registration: ingestion backfills the simulator's history and starts its stream (at SIM_SPEED
 * 0.001 it only yields the initial ticker and book, which give the paper venue a price).
 */
async function registerInstruments(platform: PipelineUnderTest, symbols: string[]): Promise<string[]> {
  const { broker } = platform;
  for (const symbol of symbols) await broker.call("risk.registerInstrument", { exchange: EXCHANGE, symbol, portfolioId: "default" });
  const keys = symbols.map((s) => instrumentKeyOf(EXCHANGE, s));
  const deadline = performance.now() + MARKET_DATA_TIMEOUT_MS;
  for (const key of keys) {
    for (;;) {
      const { ticker } = await broker.call<{ ticker: unknown }, { instrument: string }>("ingestion.book", { instrument: key });
      if (ticker) break;
      if (performance.now() > deadline) throw new Error(`no market data from the simulator for ${key}`);
      await sleep(20);
    }
  }
  await platform.drained();
  return keys;
}

/** The platform must trade with a large cash balance (START_CASH 100000000) and a slow simulator (SIM_SPEED 0.001). */
export async function latency(
  ctx: BenchContext,
  platform: PipelineUnderTest,
  instrumentCount: number,
  seconds: number,
  candleIntervalMs: number,
): Promise<LatencyResult> {
  const strategy = new RuleStrategy().name;
  const probe = new LatencyProbe(strategy);
  try {
    const symbols = SYMBOLS.slice(0, Math.min(instrumentCount, SYMBOLS.length));
    await openLimits(platform);
    await probe.open(platform.bus);
    const keys = await registerInstruments(platform, symbols);

    // Candles start at the next wall-clock minute, so risk finds the data fresh.
    const firstOpenTime = minuteOf(Date.now()) + MINUTE_MS;
    const markets = symbols.map((symbol, i) => {
      const tick = simMarketInfo(EXCHANGE, symbol).tickSize;
      const decimals = tick.includes(".") ? tick.split(".")[1]!.length : 0;
      return new SyntheticMarket({ exchange: EXCHANGE, symbol, price: Number(simStartPrice(symbol)), priceDecimals: decimals, firstOpenTime, seed: 100 + i });
    });

    let candles = 0;
    let ticks = 0;
    const publishCandle = async (market: SyntheticMarket) => {
      // receivedAt is a wall-clock stamp carried on the wire.
      const events = market.minute(TRADES_PER_CANDLE, TICKERS_PER_CANDLE, Date.now());
      const candle = events.pop()!;
      // The ticks go first, as their own batch; the candle is what the clock is started for.
      await platform.publishMarket(events);
      ticks += events.length;
      if (candle.kind !== "candle") throw new Error("the synthetic minute must end with its candle");
      const stamped = { ...candle, receivedAt: Date.now() };
      probe.published(signalIdOf(strategy, market.instrumentKey, candle.openTime));
      await platform.publishMarket([stamped]);
      candles++;
    };

    // Warm-up: the indicators settle on the sine wave, the JIT warms.
    for (let i = 0; i < WARMUP_CANDLES * markets.length; i++) {
      await publishCandle(markets[i % markets.length]!);
      await sleep(1);
    }
    await platform.drained();

    ctx.rss.startPhase();
    probe.measuring = true;
    candles = 0;
    ticks = 0;
    const t0 = performance.now();
    const end = t0 + seconds * 1000;
    let k = 0;
    // Paced against the clock, so a slow iteration does not shift the schedule.
    while (performance.now() < end) {
      await publishCandle(markets[k % markets.length]!);
      k++;
      const wait = t0 + k * candleIntervalMs - performance.now();
      if (wait > 0) await sleep(wait);
    }
    const elapsed = (performance.now() - t0) / 1000;
    await platform.drained();
    await sleep(50);
    probe.measuring = false;
    const [dead] = await platform.bus.stats([TOPICS.deadLetter]);
    return {
      instruments: keys,
      candles,
      ticks,
      seconds: elapsed,
      ...probe.result(),
      peakRss: ctx.rss.phasePeak,
      processPeakRss: ctx.rss.peak,
      deadLetters: dead?.messages ?? 0,
    };
  } finally {
    await probe.close();
  }
}
