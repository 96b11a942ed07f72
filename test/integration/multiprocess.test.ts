/**
 * Distributed mode for real: every service in its own OS process, NATS as the Moleculer
 * transporter, Kafka for the topics, FerretDB (MongoDB protocol) as the system of record, QuestDB
 * as the market data store.
 * Register instruments → fills → `portfolio.updated` → API read; then a second `features` process
 * joins the group and the two split the partitions of `market.raw.data`, per-key order kept.
 */
import { AssignerProtocol, Kafka } from "kafkajs";
import { Client } from "pg";
import { type FeaturesComputed, type MarketCoverage, type PortfolioSnapshot, TOPICS } from "../../schemas";
import { KafkaBus } from "../../lib/bus/kafka-bus";
import { readEnvelope } from "../../lib/bus/envelope";
import { infra } from "../helpers/infra";
import { createCluster, type Cluster } from "../helpers/processes";
import { waitFor } from "../helpers/wait";

jest.setTimeout(300000);

const ALICE = "alice-token-0123456789";
const SYMBOLS = ["BTC/USDT", "ETH/USDT", "SOL/USDT", "BNB/USDT", "XRP/USDT", "ADA/USDT"];

describe("distributed mode: one process per service", () => {
  let cluster: Cluster;
  let watcher: KafkaBus;
  const updates: PortfolioSnapshot[] = [];
  const features: FeaturesComputed[] = [];

  beforeAll(async () => {
    cluster = createCluster({ config: { TRADER_TOKENS: `alice:${ALICE}` } });
    await Promise.all(["exchange", "risk", "ingestion", "gateway"].map((s) => cluster.start(s)));
    await Promise.all(["features", "prediction", "execution"].map((s) => cluster.start(s)));
    watcher = new KafkaBus({ brokers: infra().kafkaBrokers, clientId: "mp-watch", namespace: `${cluster.namespace}.`, sessionTimeoutMs: 6000 });
    await watcher.start();
    await watcher.subscribe({
      topics: [TOPICS.portfolioUpdated, TOPICS.featuresIndicators],
      group: "test-watch",
      handler: async (m) => {
        if (m.topic === TOPICS.portfolioUpdated) updates.push(readEnvelope(TOPICS.portfolioUpdated, m).payload);
        else features.push(readEnvelope(TOPICS.featuresIndicators, m).payload);
      },
    });
  });

  afterAll(async () => {
    await watcher?.stop();
    await cluster?.stopAll();
  });

  it("runs the pipeline from registration to a fill across processes", async () => {
    const health = await cluster.api("GET", "/api/health");
    expect(health.body.bus).toBe("kafka");
    await waitFor(async () => (await cluster.api("GET", "/api/health")).body.services.length === 7, "all services visible over NATS");
    for (const symbol of SYMBOLS) {
      const res = await cluster.api("POST", "/api/instruments", { exchange: "binance", symbol, portfolioId: "default" });
      expect(res.status).toBe(201);
    }
    const fills = await waitFor(async () => {
      const res = await cluster.api("GET", "/api/portfolios/default/fills");
      return res.status === 200 && res.body.length > 0 ? res.body : undefined;
    }, "a fill", 120_000);
    expect(fills[0].portfolioId).toBe("default");
    await waitFor(() => updates.some((u) => u.cause === "fill"), "portfolio.updated after a fill");
    const portfolio = await cluster.api("GET", "/api/portfolios/default");
    expect(portfolio.body.cash).not.toBe("10000");
    const topics = (await cluster.api("GET", "/api/topics")).body as Array<{ topic: string; messages: number; groups: Array<{ group: string }> }>;
    expect(topics.find((t) => t.topic === TOPICS.marketRawData)!.groups.map((g) => g.group).sort()).toEqual(expect.arrayContaining(["features", "ingestion"]));
    expect(topics.find((t) => t.topic === TOPICS.ordersFills)!.messages).toBeGreaterThan(0);

    // The market data went to QuestDB, into this cluster's own tables.
    const instrument = "binance:BTC/USDT";
    const [held] = await waitFor(async () => {
      const body = (await cluster.api("GET", `/api/market/coverage?instrument=${encodeURIComponent(instrument)}`)).body as MarketCoverage[];
      return body[0]?.trades && body[0].books && body[0].candles && body[0].indicators ? body : undefined;
    }, "trades, books, candles and indicators stored");
    const client = new Client({ connectionString: infra().questdbPgUrl });
    await client.connect();
    try {
      const { rows } = await client.query<{ n: string }>(`SELECT count() AS n FROM "${cluster.env.QUESTDB_TABLE_PREFIX}candles" WHERE instrument = $1 AND ts <= $2::TIMESTAMP`, [instrument, `${held!.candles!.last}000`]);
      expect(Number(rows[0]!.n)).toBe(held!.candles!.rows);
    } finally {
      await client.end();
    }
  });

  it("scopes a trader's calls in the risk process by the identity the gateway process sends with them", async () => {
    const mine = await cluster.api("GET", "/api/portfolios", undefined, ALICE);
    expect(mine.body.map((p: { portfolioId: string }) => p.portfolioId)).toEqual(["alice"]);
    expect((await cluster.api("GET", "/api/portfolios/default", undefined, ALICE)).status).toBe(404);
    // gateway.equity asks risk first, with the caller's identity.
    expect((await cluster.api("GET", "/api/portfolios/default/equity", undefined, ALICE)).status).toBe(404);
    expect((await cluster.api("GET", "/api/portfolios/alice/equity", undefined, ALICE)).status).toBe(200);
  });

  it("splits market.raw.data between two features processes, keeping per-key order", async () => {
    await cluster.start("features");
    const kafka = new Kafka({ clientId: "mp-admin", brokers: infra().kafkaBrokers, logLevel: 0 });
    const admin = kafka.admin();
    await admin.connect();
    try {
      const assignments = await waitFor(async () => {
        const [group] = (await admin.describeGroups([`${cluster.namespace}.features`])).groups;
        if (!group || group.state !== "Stable" || group.members.length !== 2) return undefined;
        return group.members.map((m) => AssignerProtocol.MemberAssignment.decode(m.memberAssignment)!.assignment[`${cluster.namespace}.${TOPICS.marketRawData}`] ?? []);
      }, "two stable members in the features group", 60_000);
      expect(assignments[0]!.length).toBeGreaterThan(0);
      expect(assignments[1]!.length).toBeGreaterThan(0);
      expect([...assignments[0]!, ...assignments[1]!].sort()).toEqual([0, 1, 2, 3, 4, 5]);
    } finally {
      await admin.disconnect();
    }
    const seenBefore = features.length;
    await waitFor(
      () => SYMBOLS.every((symbol) => features.slice(seenBefore).filter((f) => f.symbol === symbol).length >= 5),
      "features of every instrument after the rebalance",
      90_000,
    );
    for (const symbol of SYMBOLS) {
      const times = features.filter((f) => f.symbol === symbol).map((f) => f.openTime);
      expect(times.length).toBeGreaterThan(0);
      // At-least-once may repeat a candle around the rebalance, never reorder one.
      for (let i = 1; i < times.length; i++) expect(times[i]!).toBeGreaterThanOrEqual(times[i - 1]!);
    }
  });
});
