/**
 * Each service takes its role up again when it starts, by itself: a restarted exchange facade
 * streams again (from its own state, or from risk's enabled instruments when that state is lost),
 * a restarted execution republishes only the fills risk lacks, and prediction warming up on a
 * slow store gives way to the bus instead of holding its partition.
 */
import fs from "node:fs";
import path from "node:path";
import { ServiceBroker, type Service } from "moleculer";
import { SERVICE_SCHEMAS } from "../../services";
import { type Execution, type FeatureVector, type FeaturesComputed, type Fill, type ServiceName, TOPICS, type TradingSignal } from "../../schemas";
import { acquireBus, releaseBus } from "../../lib/bus";
import { createEnvelope, toRecord } from "../../lib/bus/envelope";
import { SimulatedFeed } from "../../lib/venue/sim-feed";
import { FeatureCalculator } from "../../lib/features/streaming-features";
import { WARMUP_TIMEOUT_MS } from "../../services/prediction.service";
import { startPlatform, tempDataDir, waitFor, TOKEN, type Platform } from "../helpers/platform";
import { fillsOf } from "../helpers/invariants";

const KEY = "binance:BTC/USDT";

jest.setTimeout(120_000);

/** Stops one service of the platform as a crash-and-restart would see it, then starts a fresh one. */
async function restart(platform: Platform, name: ServiceName, beforeStart?: () => void): Promise<void> {
  await platform.broker.destroyService(platform.broker.getLocalService(name) as Service);
  beforeStart?.();
  platform.broker.createService(SERVICE_SCHEMAS[name]);
  await platform.broker.waitForServices([name], 30_000);
}

/** Market events published on `market.raw.data` for an instrument after `since` (wall clock of receipt). */
function marketEventsAfter(platform: Platform, group: string): { count(instrumentKey: string, since: number): number; close(): Promise<void> } {
  const seen: Array<{ key: string; receivedAt: number }> = [];
  const subscription = platform.bus.subscribe({
    topics: [TOPICS.marketRawData],
    group,
    handler: async (message) => {
      seen.push({ key: message.key, receivedAt: (JSON.parse(message.value) as { payload: { receivedAt: number } }).payload.receivedAt });
    },
  });
  return {
    count: (instrumentKey, since) => seen.filter((e) => e.key === instrumentKey && e.receivedAt > since).length,
    close: async () => (await subscription).close(),
  };
}

describe("the exchange facade after a restart", () => {
  let platform: Platform;

  beforeAll(async () => {
    // No ingestion: nothing but the facade itself can start a stream again.
    // A slow simulated market, so the test's own consumer of market.raw.data keeps up.
    platform = await startPlatform({ services: ["exchange", "risk", "gateway"], config: { simSpeed: 60 } });
  });
  afterAll(async () => {
    await platform?.stop();
  });

  it("resumes the streams of its saved state and of risk's enabled instruments, without anything else restarting", async () => {
    const events = marketEventsAfter(platform, "test-recovery-market");
    try {
      // One stream only the facade's own state knows of, one instrument only risk's record knows of.
      await platform.broker.call("exchange.startMarketDataStream", { instrumentKey: "binance:ETH/USDT" });
      await platform.broker.call("risk.registerInstrument", { exchange: "binance", symbol: "BTC/USDT" });
      expect(await platform.broker.call("exchange.streams")).toEqual(["binance:ETH/USDT"]);

      await restart(platform, "exchange");
      const restartedAt = Date.now();
      await waitFor(() => events.count("binance:ETH/USDT", restartedAt) > 0 && events.count("binance:BTC/USDT", restartedAt) > 0, "market data of both after the restart");
      const status = await platform.api("GET", "/api/exchange/status");
      expect(status.status).toBe(200);
      expect(status.body.marketData).toBe("sim");
      expect([...status.body.streams].sort()).toEqual(["binance:BTC/USDT", "binance:ETH/USDT"]);
      expect(status.body.marketActivity.instruments.map((i: { instrumentKey: string }) => i.instrumentKey).sort()).toEqual(["binance:BTC/USDT", "binance:ETH/USDT"]);

      // Its saved state lost: the system of record's enabled instruments stream again, and only those.
      await restart(platform, "exchange", () => fs.rmSync(path.join(platform.dataDir, "store", "exchange.streams.db"), { force: true }));
      const wipedAt = Date.now();
      await waitFor(() => events.count("binance:BTC/USDT", wipedAt) > 0, "BTC/USDT market data after the state was lost");
      expect(await platform.broker.call("exchange.streams")).toEqual(["binance:BTC/USDT"]);
      expect((await platform.api("GET", "/api/exchange/status")).body.streams).toEqual(["binance:BTC/USDT"]);

      // Disabled in the record (and nobody stopped its stream: no ingestion here): the restart stops it.
      await platform.broker.call("risk.unregisterInstrument", { instrumentKey: "binance:BTC/USDT" });
      expect(await platform.broker.call("exchange.streams")).toEqual(["binance:BTC/USDT"]);
      await restart(platform, "exchange");
      await waitFor(async () => (await platform.broker.call<string[]>("exchange.streams")).length === 0, "the disabled instrument's stream to stop");
    } finally {
      await events.close();
    }
  });
});

describe("execution after a restart", () => {
  let platform: Platform;

  beforeAll(async () => {
    // No prediction: the only orders are the ones this test places at the venue.
    platform = await startPlatform({ services: ["exchange", "risk", "execution"] });
  });
  afterAll(async () => {
    await platform?.stop();
  });

  const fillsMessages = async () => (await platform.bus.stats([TOPICS.ordersFills]))[0]!.messages;
  const riskFillIds = async () => (await fillsOf(platform.broker, "default")).map((f) => f.fillId).sort();

  /** A market order placed at the venue directly, as if execution had placed it and died before reporting it. */
  async function placeBehindExecutionsBack(clientOrderId: string): Promise<Fill[]> {
    const execution = await waitFor(
      () =>
        platform.broker
          .call<Execution, object>("exchange.placeOrder", { clientOrderId, portfolioId: "default", instrumentKey: "binance:BTC/USDT", side: "BUY", type: "market", quantity: "0.001" })
          .catch((err: { type?: string }) => (err.type === "duplicate_client_order_id" ? platform.broker.call<Execution, object>("exchange.getOrder", { clientOrderId }) : undefined)),
      `order ${clientOrderId} filled`,
    );
    expect(execution.fills.length).toBeGreaterThan(0);
    return execution.fills;
  }

  it("publishes only the venue's fills that risk lacks", async () => {
    await platform.broker.call("risk.registerInstrument", { exchange: "binance", symbol: "BTC/USDT" });
    await platform.broker.call("exchange.startMarketDataStream", { instrumentKey: "binance:BTC/USDT" });

    await platform.broker.destroyService(platform.broker.getLocalService("execution") as Service);
    const first = await placeBehindExecutionsBack("recovery-first-order");
    const beforeFirstStart = await fillsMessages();
    platform.broker.createService(SERVICE_SCHEMAS.execution);
    // The fill made while execution was down reaches the record, once.
    await waitFor(async () => (await riskFillIds()).length === first.length, "risk to have the first order's fills");
    expect(await riskFillIds()).toEqual(first.map((f) => f.fillId).sort());
    expect((await fillsMessages()) - beforeFirstStart).toBe(first.length);

    await platform.broker.destroyService(platform.broker.getLocalService("execution") as Service);
    const second = await placeBehindExecutionsBack("recovery-second-order");
    const beforeSecondStart = await fillsMessages();
    platform.broker.createService(SERVICE_SCHEMAS.execution);
    const all = [...first, ...second].map((f) => f.fillId).sort();
    await waitFor(async () => (await riskFillIds()).length === all.length, "risk to have both orders' fills");
    expect(await riskFillIds()).toEqual(all);
    // Only the second order's fills went out again: the first order's were not republished.
    await new Promise((r) => setTimeout(r, 500));
    expect((await fillsMessages()) - beforeSecondStart).toBe(second.length);
  });
});

describe("prediction warming up on a slow store", () => {
  it("fails the handler fast so the bus retries it, and predicts once the history answers", async () => {
    const config = { dataDir: tempDataDir(), apiToken: TOKEN, port: 0, simSpeed: 60, marketData: "sim", kafkaBrokers: [] };
    const broker = new ServiceBroker({ logger: false, metadata: { config } });
    // The market data store, answering history queries only once the test lets it (a store that hangs).
    let answer: () => void = () => undefined;
    const answering = new Promise<void>((resolve) => (answer = resolve));
    let historyQueries = 0;
    broker.createService({
      name: "ingestion",
      actions: {
        async indicators() {
          historyQueries++;
          await answering;
          return [];
        },
      },
    });
    broker.createService(SERVICE_SCHEMAS.prediction);
    await broker.start();
    const bus = await acquireBus(broker);
    try {
      const feed = new SimulatedFeed({ speed: 1, seed: 7 });
      const calculator = new FeatureCalculator();
      const candles = await feed.history(KEY, 60);
      let features: FeatureVector | undefined;
      for (const candle of candles) features = calculator.update(candle) ?? features;
      const last = candles[candles.length - 1]!;
      const event: FeaturesComputed = {
        instrumentKey: KEY, exchange: "binance", symbol: "BTC/USDT", timeframe: "1m", openTime: last.openTime, closeTime: last.closeTime,
        close: last.close, features: features!, receivedAt: last.closeTime,
      };
      const started = Date.now();
      await bus.publish(TOPICS.featuresIndicators, [toRecord(createEnvelope(TOPICS.featuresIndicators, event, "features"))]);
      // A second attempt means the first one gave up after the warm-up timeout instead of holding the partition.
      await waitFor(() => historyQueries >= 2, "the warm-up to be retried", 4 * WARMUP_TIMEOUT_MS);
      expect(Date.now() - started).toBeLessThan(3 * WARMUP_TIMEOUT_MS);
      answer();
      const signals = await waitFor(async () => {
        const recent = await broker.call<TradingSignal[], { instrument: string }>("prediction.signals", { instrument: KEY });
        return recent.length > 0 ? recent : undefined;
      }, "the signal once the store answers");
      expect(signals.map((s) => s.marketTime)).toEqual([last.closeTime]);
      // Retried as an outage, never dead-lettered.
      expect((await bus.stats([TOPICS.deadLetter]))[0]!.messages).toBe(0);
    } finally {
      answer();
      await releaseBus(broker);
      await broker.stop();
    }
  });
});
