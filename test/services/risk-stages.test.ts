/** The two risk stages on an in-process broker: one republish per portfolio, stage-1 and stage-2 reasons. */
import { TOPICS } from "../../schemas";
import { createEnvelope, readEnvelope, toRecord } from "../../lib/bus/envelope";
import type { BusMessage } from "../../lib/bus/types";
import { startPlatform, waitFor, type Platform } from "../helpers/platform";
import { publishSignal, signal } from "../helpers/signals";

jest.setTimeout(60000);

describe("risk stages", () => {
  let platform: Platform;
  const repartitioned: BusMessage[] = [];

  beforeAll(async () => {
    platform = await startPlatform({ services: ["exchange", "risk"] });
    await platform.broker.call("risk.createPortfolio", { id: "alice", startCash: "5000" });
    await platform.broker.call("risk.createPortfolio", { id: "bob", startCash: "100" });
    await platform.broker.call("risk.registerInstrument", { exchange: "binance", symbol: "BTC/USDT", portfolioId: "alice" });
    await platform.broker.call("risk.registerInstrument", { exchange: "binance", symbol: "BTC/USDT", portfolioId: "bob" });
    await platform.bus.subscribe({ topics: [TOPICS.tradingSignalsPortfolio], group: "test-watch", handler: async (m) => void repartitioned.push(m) });
  });

  afterAll(async () => {
    await platform?.stop();
  });

  const decisions = (id: string) => platform.broker.call<Array<{ outcome: string; reason?: string; stage: number; signal: { signalId: string } }>, { id: string }>("risk.listDecisions", { id });

  it("republishes a passing signal once per portfolio, keyed by portfolio, and decides per portfolio", async () => {
    await publishSignal(platform.bus, signal("s-1"));
    const alice = await waitFor(async () => (await decisions("alice")).find((d) => d.signal.signalId === "s-1"), "alice's decision");
    const bob = await waitFor(async () => (await decisions("bob")).find((d) => d.signal.signalId === "s-1"), "bob's decision");
    expect(alice).toMatchObject({ outcome: "approved", stage: 2 });
    // A 1000 USDT order is ten times bob's equity: over his exposure limit (100 % of equity) before cash is even checked.
    expect(bob).toMatchObject({ outcome: "rejected", reason: "max_exposure", stage: 2 });
    const mine = repartitioned.map((m) => ({ key: m.key, env: readEnvelope(TOPICS.tradingSignalsPortfolio, m) })).filter((x) => x.env.payload.signal.signalId === "s-1");
    expect(mine.map((x) => x.key).sort()).toEqual(["alice", "bob"]);
    expect(mine.map((x) => x.env.idempotencyKey).sort()).toEqual(["alice:BTC/USDT:s-1", "bob:BTC/USDT:s-1"]);
  });

  it("rejects stale data at stage 1 for every portfolio holding the instrument", async () => {
    await publishSignal(platform.bus, signal("s-stale", { receivedAt: Date.now() - 60_000 }));
    for (const id of ["alice", "bob"]) {
      const d = await waitFor(async () => (await decisions(id)).find((x) => x.signal.signalId === "s-stale"), `${id}'s stale decision`);
      expect(d).toMatchObject({ outcome: "rejected", reason: "stale_data", stage: 1 });
    }
  });

  it("rejects at stage 2 a signal whose data went stale while it waited between the stages", async () => {
    // As after a restart of risk or an outage: the repartitioned signal is decided well after stage 1 passed it.
    const waited = signal("s-waited", { receivedAt: Date.now() - 60_000 });
    await platform.bus.publish(TOPICS.tradingSignalsPortfolio, [
      toRecord(createEnvelope(TOPICS.tradingSignalsPortfolio, { portfolioId: "alice", riskKey: "alice:BTC/USDT", signal: waited }, "risk", { idempotencyKey: "alice:BTC/USDT:s-waited" })),
    ]);
    const d = await waitFor(async () => (await decisions("alice")).find((x) => x.signal.signalId === "s-waited"), "alice's decision");
    expect(d).toMatchObject({ outcome: "rejected", reason: "stale_data", stage: 2 });
  });

  it("decides a replayed signal once", async () => {
    await publishSignal(platform.bus, signal("s-replay"));
    await publishSignal(platform.bus, signal("s-replay"));
    await waitFor(async () => (await decisions("alice")).some((d) => d.signal.signalId === "s-replay"), "the decision");
    await new Promise((r) => setTimeout(r, 300));
    expect((await decisions("alice")).filter((d) => d.signal.signalId === "s-replay")).toHaveLength(1);
    const orders = await platform.broker.call<unknown[], { id: string }>("risk.listOrders", { id: "alice" });
    expect(orders).toHaveLength(2);
  });
});
