/**
 * The equity history read model over a real file-backed collection (the broker object only hands
 * the store its logger; nothing is started): one point per `portfolio.updated`, redeliveries
 * recorded once, the newest points answered oldest first, and pruning to the newest kept.
 */
import { ServiceBroker } from "moleculer";
import { Collection } from "../../lib/store/collection";
import { EquityHistory } from "../../lib/risk/equity-history";
import { tempDataDir } from "../helpers/wait";
import { portfolioSnapshot } from "../helpers/snapshots";
import type { EquityPoint, PortfolioSnapshot } from "../../schemas";

const snapshot = (portfolioId: string, updatedAt: number, equity: string, cause: PortfolioSnapshot["cause"] = "fill") =>
  portfolioSnapshot(portfolioId, { cash: "9000", equity, realizedPnl: "1.5", unrealizedPnl: "-0.25", fees: "0.1", exposure: "1000", cause, updatedAt });

describe("equity history", () => {
  const broker = new ServiceBroker({ logger: false });
  let store: Collection<EquityPoint>;

  beforeEach(async () => {
    store = await Collection.open<EquityPoint>(broker, broker.getLogger("test"), { kind: "file", dataDir: tempDataDir() }, "gateway.equity", [{ fields: ["portfolioId", "time"] }]);
  });

  afterEach(async () => {
    await store.close();
  });

  it("records each snapshot's figures once, whatever the redeliveries", async () => {
    const history = new EquityHistory(store);
    expect(await history.record(snapshot("alice", 1000, "10000", "created"), "event-1")).toBe(true);
    expect(await history.record(snapshot("alice", 1000, "10000", "created"), "event-1")).toBe(false);
    expect(await history.record(snapshot("alice", 2000, "10012.5"), "event-2")).toBe(true);
    expect(await history.newest("alice")).toEqual([
      { portfolioId: "alice", time: 1000, equity: "10000", cash: "9000", realizedPnl: "1.5", unrealizedPnl: "-0.25", cause: "created" },
      { portfolioId: "alice", time: 2000, equity: "10012.5", cash: "9000", realizedPnl: "1.5", unrealizedPnl: "-0.25", cause: "fill" },
    ]);
  });

  it("answers a portfolio's newest points, oldest first, and none of another portfolio's", async () => {
    const history = new EquityHistory(store);
    // Recorded out of order, as partitions may deliver them after a restart.
    for (const time of [5000, 1000, 4000, 2000, 3000]) await history.record(snapshot("alice", time, `${time}`), `alice-${time}`);
    await history.record(snapshot("bob", 4500, "1"), "bob-4500");
    expect((await history.newest("alice", 3)).map((p) => p.time)).toEqual([3000, 4000, 5000]);
    expect((await history.newest("alice")).map((p) => p.time)).toEqual([1000, 2000, 3000, 4000, 5000]);
    expect((await history.newest("bob")).map((p) => p.time)).toEqual([4500]);
    expect(await history.newest("carol")).toEqual([]);
  });

  it("keeps the newest points of each portfolio, pruning every tenth of that many inserts", async () => {
    const kept = 20;
    const history = new EquityHistory(store, kept);
    for (let i = 1; i <= 45; i++) await history.record(snapshot("alice", i * 1000, `${i}`), `alice-${i}`);
    for (let i = 1; i <= 3; i++) await history.record(snapshot("bob", i * 1000, `${i}`), `bob-${i}`);
    // Pruned after the 44th insert (every 2): the 20 newest then, plus the 45th since.
    const expected = Array.from({ length: 21 }, (_, i) => (i + 25) * 1000);
    expect((await store.find({ query: { portfolioId: "alice" }, sort: ["time"] })).map((p) => p.time)).toEqual(expected);
    expect(await store.count({ portfolioId: "bob" })).toBe(3);
  });
});
