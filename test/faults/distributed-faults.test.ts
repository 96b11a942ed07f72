/**
 * Faults in the distributed mode, bounded in time: kill -9 of `execution` then of `risk` while
 * market data flows, a Kafka broker restart mid-stream, and the database going away. After each:
 * no fill lost, no order placed twice, and the portfolio equals the replay of its fills.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import path from "node:path";
import { ServiceBroker } from "moleculer";
import { replayFills } from "../../lib/risk/accounting";
import { dec } from "../../lib/decimal";
import type { Fill, VenueOrder } from "../../lib/types";
import { infra } from "../helpers/infra";
import { createCluster, type Cluster, type ServiceProcess } from "../helpers/processes";
import { waitFor } from "../helpers/wait";

jest.setTimeout(600000);

/** Asynchronous, so the test keeps serving its own event loop while a server restarts. */
const infraScript = (name: string, command: string) =>
  promisify(execFile)("bash", [path.join(__dirname, "..", "..", "scripts", "infra", `${name}.sh`), command], { timeout: 180_000 });

describe("distributed mode under faults", () => {
  let cluster: Cluster;
  let client: ServiceBroker;
  const procs = new Map<string, ServiceProcess>();

  const restart = async (name: string) => {
    await cluster.kill(procs.get(name)!);
    await new Promise((r) => setTimeout(r, 3000)); // approvals and fills pile up on the topics meanwhile
    procs.set(name, await cluster.start(name));
  };

  const fillCount = async () => (await client.call<Fill[], { id: string; limit: number }>("risk.listFills", { id: "default", limit: 1000 })).length;

  /** Halts trading, lets the working orders settle, then checks the venue against the system of record. */
  const checkConsistent = async () => {
    await client.call("risk.halt", { id: "default", reason: "consistency check" });
    await waitFor(async () => (await client.call<{ openOrders: number }, { id: string }>("risk.getPortfolio", { id: "default" })).openOrders === 0, "working orders to settle", 60_000);
    const venue = await client.call<{ fills: Fill[]; openOrders: VenueOrder[] }, { since: number }>("exchange.executionsSince", { since: 0 });
    const recorded = await waitFor(async () => {
      const fills = await client.call<Fill[], { id: string; limit: number }>("risk.listFills", { id: "default", limit: 1000 });
      return fills.length === venue.fills.length ? fills : undefined;
    }, "every venue fill in the system of record", 60_000);
    // No fill lost: the system of record holds exactly the venue's fills.
    expect(recorded.map((f) => f.fillId).sort()).toEqual(venue.fills.map((f) => f.fillId).sort());
    // No order placed twice: every order's fills add up to its quantity, never more.
    const orders = await client.call<VenueOrder[], { id: string; limit: number }>("risk.listOrders", { id: "default", limit: 1000 });
    const byOrder = new Map<string, string>();
    for (const f of venue.fills) byOrder.set(f.clientOrderId, dec(byOrder.get(f.clientOrderId) ?? "0").add(dec(f.quantity)).toString());
    for (const [clientOrderId, filled] of byOrder) {
      const order = orders.find((o) => o.clientOrderId === clientOrderId);
      expect(order).toBeDefined();
      expect(dec(filled).eq(dec(order!.quantity))).toBe(true);
    }
    // The portfolio is the replay of its fills.
    const portfolio = await client.call<{ cash: string; positions: Array<{ instrumentKey: string; quantity: string }> }, { id: string }>("risk.getPortfolio", { id: "default" });
    const replayed = replayFills("default", "10000", recorded, (key) => ({ base: key.split(":")[1]!.split("/")[0]!, quote: "USDT" }));
    expect(portfolio.cash).toBe(replayed.cash);
    for (const p of portfolio.positions) expect(p.quantity).toBe(replayed.positions[p.instrumentKey]!.quantity);
    await client.call("risk.resume", { id: "default" });
    return recorded.length;
  };

  beforeAll(async () => {
    cluster = createCluster();
    for (const name of ["exchange", "risk", "ingestion", "gateway"]) procs.set(name, await cluster.start(name));
    for (const name of ["features", "prediction", "execution"]) procs.set(name, await cluster.start(name));
    client = new ServiceBroker({ namespace: cluster.namespace, transporter: infra().natsUrl as "NATS", logger: false, nodeID: `fault-test-${process.pid}` });
    await client.start();
    await client.waitForServices(["risk", "exchange"], 60_000);
    await client.call("risk.setLimits", { id: "default", maxOpenOrders: 20, orderNotional: "200", maxPositionNotional: "100000", dailyLossLimit: "100000", maxDrawdown: "0.9", minConfidence: 0 });
    for (const symbol of ["BTC/USDT", "ETH/USDT"]) await client.call("risk.registerInstrument", { exchange: "binance", symbol });
    await waitFor(async () => (await fillCount()) >= 2, "the first fills", 120_000);
  });

  afterAll(async () => {
    await client?.stop();
    await cluster?.stopAll();
    await infraScript("ferretdb", "start");
    await infraScript("kafka", "start");
  });

  it("survives kill -9 of execution and then of risk", async () => {
    const before = await fillCount();
    await restart("execution");
    await waitFor(async () => (await fillCount()) > before, "fills after execution restarted", 120_000);
    const middle = await fillCount();
    await restart("risk");
    await client.waitForServices(["risk"], 60_000);
    await waitFor(async () => (await fillCount()) > middle, "fills after risk restarted", 120_000);
    await checkConsistent();
  });

  it("resumes by itself after the Kafka broker restarts mid-stream", async () => {
    const before = await fillCount();
    await infraScript("kafka", "restart");
    await waitFor(async () => (await fillCount()) > before + 1, "fills after the broker restart", 180_000);
    await checkConsistent();
  });

  it("answers 503 while the database is down, pauses consumers and loses nothing", async () => {
    await infraScript("ferretdb", "stop");
    try {
      const res = await waitFor(async () => {
        const r = await cluster.api("GET", "/api/portfolios/default/fills");
        return r.status === 503 ? r : undefined;
      }, "a 503 from the API", 60_000);
      expect(res.body.message).toMatch(/unavailable/);
      await new Promise((r) => setTimeout(r, 5000)); // fills keep arriving at the venue meanwhile
    } finally {
      await infraScript("ferretdb", "start");
    }
    const before = await fillCount();
    await waitFor(async () => (await fillCount()) > before, "fills recorded after the database came back", 120_000);
    await checkConsistent();
  });
});
