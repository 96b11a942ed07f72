/**
 * Faults in the distributed mode, bounded in time: kill -9 of `execution` then of `risk` while
 * market data flows, a Kafka broker restart mid-stream, the database going away, and the market data
 * store (QuestDB) going away. After each: no fill lost, no order placed twice, and the portfolio
 * equals the replay of its fills; no candle missing from the market data store. It runs on
 * servers of its own, so restarting them does not disturb the suites sharing the global ones.
 */
import { ServiceBroker } from "moleculer";
import type { MarketCoverage } from "../../schemas";
import { startDedicatedInfra, type DedicatedInfra } from "../helpers/dedicated-infra";
import { checkConsistent, fillsOf } from "../helpers/invariants";
import { createCluster, type Cluster, type ServiceProcess } from "../helpers/processes";
import { waitFor } from "../helpers/wait";

jest.setTimeout(600000);

describe("distributed mode under faults", () => {
  let servers: DedicatedInfra;
  let cluster: Cluster;
  let client: ServiceBroker;
  const procs = new Map<string, ServiceProcess>();

  const restart = async (name: string) => {
    await cluster.kill(procs.get(name)!);
    await new Promise((r) => setTimeout(r, 3000)); // approvals and fills pile up on the topics meanwhile
    procs.set(name, await cluster.start(name));
  };

  const fillCount = async () => (await fillsOf(client, "default")).length;

  beforeAll(async () => {
    servers = await startDedicatedInfra();
    cluster = createCluster({ servers });
    for (const name of ["exchange", "risk", "ingestion", "gateway"]) procs.set(name, await cluster.start(name));
    for (const name of ["features", "prediction", "execution"]) procs.set(name, await cluster.start(name));
    client = new ServiceBroker({ namespace: cluster.namespace, transporter: servers.natsUrl as "NATS", logger: false, nodeID: `fault-test-${process.pid}` });
    await client.start();
    await client.waitForServices(["risk", "exchange"], 60_000);
    await client.call("risk.setLimits", { id: "default", maxOpenOrders: 20, orderNotional: "200", maxPositionNotional: "100000", dailyLossLimit: "100000", maxDrawdown: "0.9", minConfidence: 0 });
    for (const symbol of ["BTC/USDT", "ETH/USDT"]) await client.call("risk.registerInstrument", { exchange: "binance", symbol });
    await waitFor(async () => (await fillCount()) >= 2, "the first fills", 120_000);
  });

  afterAll(async () => {
    await client?.stop();
    await cluster?.stopAll();
    await servers?.destroy();
  });

  it("survives kill -9 of execution and then of risk", async () => {
    const before = await fillCount();
    await restart("execution");
    await waitFor(async () => (await fillCount()) > before, "fills after execution restarted", 120_000);
    const middle = await fillCount();
    await restart("risk");
    await client.waitForServices(["risk"], 60_000);
    await waitFor(async () => (await fillCount()) > middle, "fills after risk restarted", 120_000);
    await checkConsistent(client, "default", "10000");
  });

  it("resumes by itself after the Kafka broker restarts mid-stream", async () => {
    const before = await fillCount();
    await servers.control("kafka", "restart");
    await waitFor(async () => (await fillCount()) > before + 1, "fills after the broker restart", 180_000);
    await checkConsistent(client, "default", "10000");
  });

  it("answers 503 while the database is down, pauses consumers and loses nothing", async () => {
    await servers.control("ferretdb", "stop");
    try {
      const res = await waitFor(async () => {
        const r = await cluster.api("GET", "/api/portfolios/default/fills");
        // The database's 503, not a call still sent to the risk process killed above: the registry forgets it only after its heartbeat timeout.
        return r.status === 503 && /unavailable/.test(r.body.message) ? r : undefined;
      }, "a 503 from the API naming the database", 60_000);
      expect(res.body.message).toMatch(/unavailable/);
      await new Promise((r) => setTimeout(r, 5000)); // fills keep arriving at the venue meanwhile
    } finally {
      await servers.control("ferretdb", "start");
    }
    const before = await fillCount();
    await waitFor(async () => (await fillCount()) > before, "fills recorded after the database came back", 120_000);
    await checkConsistent(client, "default", "10000");
  });

  it("pauses ingestion while the market data store (QuestDB) is down, and stores every candle once it is back", async () => {
    const instrument = encodeURIComponent("binance:BTC/USDT");
    const coverage = async () => {
      const res = await cluster.api("GET", `/api/market/coverage?instrument=${instrument}`);
      return res.status === 200 ? (res.body as MarketCoverage[])[0] : undefined;
    };
    const before = (await coverage())!.candles!;
    await servers.control("questdb", "stop");
    try {
      const res = await waitFor(async () => {
        const r = await cluster.api("GET", `/api/market/candles?instrument=${instrument}&limit=1`);
        return r.status === 503 ? r : undefined;
      }, "a 503 from the market data API", 60_000);
      expect(res.body.message).toMatch(/market data store/);
      await new Promise((r) => setTimeout(r, 5000)); // candles keep coming meanwhile (SIM_SPEED=300: 5 a second)
    } finally {
      await servers.control("questdb", "start");
    }
    // An hour of market time after the outage is stored, and no minute is missing: nothing was dead-lettered or lost.
    const after = await waitFor(async () => {
      const held = await coverage();
      return held?.candles && held.candles.last > before.last + 3_600_000 ? held.candles : undefined;
    }, "candles stored after QuestDB came back", 120_000);
    expect(after.gaps).toEqual([]);
    expect(after.rows).toBe((after.last - after.first) / 60_000 + 1);
  });
});
