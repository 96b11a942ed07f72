/**
 * A service's batch consumer (`batch: true` in its `topics`) over the embedded bus: valid payloads
 * of a partition arrive together and in order, invalid messages go to the dead-letter topic with
 * the reason, a failing batch is retried one message at a time, and the service's other topics keep
 * their one-message handlers.
 */
import { ServiceBroker, type ServiceSchema } from "moleculer";
import { TopicsMixin, type TopicMethods } from "../../mixins/topics.mixin";
import { acquireBus, releaseBus } from "../../lib/bus";
import { createEnvelope, readEnvelope, toRecord } from "../../lib/bus/envelope";
import type { BusMessage, Subscription, TopicBus } from "../../lib/bus/types";
import { TOPICS, type Envelope, type InstrumentRegistered, type MarketEvent, type TradeEvent } from "../../schemas";
import { tempDataDir, waitFor } from "../helpers/wait";

const INSTRUMENT = { instrumentKey: "sim:BTC/USDT", exchange: "sim", symbol: "BTC/USDT" };
/** The price the probe's batch handler refuses, standing for a row the store rejects. */
const POISON_PRICE = "13";

const trade = (n: number, price = "100"): TradeEvent => ({ kind: "trade", ...INSTRUMENT, time: n, receivedAt: n, tradeId: String(n), price, quantity: "1", takerSide: "BUY" });

interface ProbeState {
  /** The trade ids of each call of the batch handler, as it received them. */
  calls: string[][];
  /** Every trade id taken, in order, once per success. */
  taken: string[];
  /** Envelope ids handed over alongside the payloads, by trade id. */
  envelopeOf: Map<string, string>;
  registered: string[];
  /** Resolved to let the first batch finish: the messages published meanwhile wait in the partition. */
  gate: Promise<void>;
}

function probeService(state: ProbeState): ServiceSchema {
  return {
    name: "batch-probe",
    mixins: [TopicsMixin()],
    topics: {
      [TOPICS.marketRawData]: {
        batch: true,
        async handler(events: MarketEvent[], envelopes: Array<Envelope<MarketEvent>>) {
          const ids = events.map((e) => (e.kind === "trade" ? e.tradeId : e.kind));
          state.calls.push(ids);
          if (state.calls.length === 1) await state.gate;
          if (events.some((e) => e.kind === "trade" && e.price === POISON_PRICE)) throw new Error("price refused");
          envelopes.forEach((envelope, i) => state.envelopeOf.set(ids[i]!, envelope.id));
          state.taken.push(...ids);
        },
      },
      [TOPICS.instrumentRegistered]: {
        async handler(event: InstrumentRegistered) {
          state.registered.push(event.status);
        },
      },
    },
  };
}

describe("batch consumers of a service", () => {
  let broker: ServiceBroker;
  let bus: TopicBus;
  let deadLetters: BusMessage[];
  let deadLetterWatch: Subscription;
  let state: ProbeState;
  let openGate: () => void;
  let probe: TopicMethods;

  beforeEach(async () => {
    broker = new ServiceBroker({ logger: false, metadata: { config: { dataDir: tempDataDir(), kafkaBrokers: [], partitions: 2 } } });
    state = { calls: [], taken: [], envelopeOf: new Map(), registered: [], gate: new Promise((resolve) => (openGate = resolve)) };
    broker.createService(probeService(state));
    await broker.start();
    bus = await acquireBus(broker);
    deadLetters = [];
    deadLetterWatch = await bus.subscribe({ topics: [TOPICS.deadLetter], group: "dead-letter-watch", handler: async (m) => void deadLetters.push(m) });
    probe = broker.getLocalService("batch-probe") as unknown as TopicMethods;
  });

  afterEach(async () => {
    await deadLetterWatch.close();
    await releaseBus(broker);
    await broker.stop();
  });

  const deadOf = (topic: string) => deadLetters.map((m) => readEnvelope(TOPICS.deadLetter, m).payload).filter((p) => p.topic === topic);

  it("hands the waiting payloads and their envelopes over together, in order", async () => {
    await probe.publish(TOPICS.marketRawData, trade(0));
    await waitFor(() => state.calls.length === 1, "the first batch");
    // Published while the first batch is being handled: they wait, then come as one batch.
    await probe.publishMany(TOPICS.marketRawData, Array.from({ length: 50 }, (_, i) => ({ payload: trade(i + 1) })));
    openGate();
    await waitFor(() => state.taken.length === 51, "51 trades");
    expect(state.taken).toEqual(Array.from({ length: 51 }, (_, i) => String(i)));
    expect(state.calls.length).toBeLessThan(51);
    expect(Math.max(...state.calls.map((c) => c.length))).toBeGreaterThan(1);
    // Each payload comes with its own envelope.
    const envelopes = new Set(state.envelopeOf.values());
    expect(envelopes.size).toBe(51);
  });

  it("dead-letters an invalid message with the reason and hands the rest of its batch over", async () => {
    openGate();
    const valid = (n: number) => toRecord(createEnvelope(TOPICS.marketRawData, trade(n), "test"));
    await bus.publish(TOPICS.marketRawData, [
      valid(1),
      { key: INSTRUMENT.instrumentKey, value: JSON.stringify({ not: "an envelope" }) },
      { key: INSTRUMENT.instrumentKey, value: "{not json" },
      valid(2),
    ]);
    await waitFor(() => state.taken.length === 2 && deadOf(TOPICS.marketRawData).length === 2, "the trades and two dead letters");
    const dead = deadOf(TOPICS.marketRawData);
    expect(dead.map((d) => d.reason)).toEqual(["invalid_message", "invalid_message"]);
    expect(dead.map((d) => d.value)).toEqual([JSON.stringify({ not: "an envelope" }), "{not json"]);
    expect(dead[1]!.error).toContain("not JSON");
    expect(dead.every((d) => d.group === "batch-probe")).toBe(true);
    expect(state.calls).toEqual([["1", "2"]]);
    expect(state.taken).toEqual(["1", "2"]);
  });

  it("retries a failing batch one message at a time: the refused one is dead-lettered, the others taken once", async () => {
    openGate();
    await probe.publishMany(TOPICS.marketRawData, [{ payload: trade(1) }, { payload: trade(2, POISON_PRICE) }, { payload: trade(3) }]);
    await waitFor(() => state.taken.length === 2 && deadOf(TOPICS.marketRawData).length === 1, "the fallback", 20_000);
    expect(state.taken).toEqual(["1", "3"]);
    const [dead] = deadOf(TOPICS.marketRawData);
    expect(dead!.reason).toBe("handler_failed");
    expect(dead!.error).toContain("price refused");
    expect(JSON.parse(dead!.value).payload.tradeId).toBe("2");
    // The failed batch, then one call per message (the refused one with its retries), each a batch of one.
    expect(state.calls[0]).toEqual(["1", "2", "3"]);
    expect(state.calls.slice(1).every((c) => c.length === 1)).toBe(true);
  });

  it("keeps one-message handlers for the service's other topics", async () => {
    openGate();
    await probe.publishMany(TOPICS.instrumentRegistered, [
      { payload: { ...INSTRUMENT, portfolioIds: [], status: "active", changedAt: 1 } },
      { payload: { ...INSTRUMENT, portfolioIds: [], status: "removed", changedAt: 2 } },
    ]);
    await waitFor(() => state.registered.length === 2, "both registrations");
    expect(state.registered).toEqual(["active", "removed"]);
    expect(state.calls).toEqual([]);
  });
});
