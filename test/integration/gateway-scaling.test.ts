/**
 * Two gateway instances on two nodes (NATS transporter, Kafka topics, FerretDB): the gateway
 * consumer group splits the topics' partitions between them, yet a dashboard connected to either
 * one sees every live event, because the consuming instance hands each event to all gateways.
 */
import { randomUUID } from "node:crypto";
import type { BrokerOptions } from "moleculer";
import { startPlatform, waitFor, TOKEN, type Platform } from "../helpers/platform";
import { find, openStream, type OpenStream } from "../helpers/sse";
import { deleteKafkaNamespace, infra, mongoUriFor } from "../helpers/infra";

jest.setTimeout(180_000);

const run = randomUUID().slice(0, 8);
const kafkaNamespace = `gw${run}.`;

describe("gateway scaled to two instances", () => {
  const platforms: Platform[] = [];
  const streams: OpenStream[] = [];

  beforeAll(async () => {
    // SIM_SPEED 120: four instruments at 300 made 3,400 events a second for one process, which a busy
    // 2-core runner did not keep up with (no signal within 90 s).
    const config = { kafkaBrokers: infra().kafkaBrokers, kafkaNamespace, mongoUri: mongoUriFor("gwscale"), simSpeed: 120 };
    const broker = (node: string) => ({ namespace: `gw${run}`, nodeID: `${node}-${run}`, transporter: infra().natsUrl as BrokerOptions["transporter"] });
    // Node A: the whole platform with one gateway; node B: a second gateway only.
    platforms.push(await startPlatform({ config, broker: broker("a") }));
    platforms.push(await startPlatform({ config, broker: broker("b"), services: ["gateway"] }));
  });

  afterAll(async () => {
    for (const stream of streams) stream.close();
    for (const platform of platforms.reverse()) await platform.stop();
    await deleteKafkaNamespace(kafkaNamespace);
  });

  it("pushes every instrument's signals and fills on both gateways' streams", async () => {
    const [a, b] = platforms as [Platform, Platform];
    await waitFor(async () => (await b.api("GET", "/api/health")).body.services.length === 7, "node B sees all seven services");
    streams.push(await openStream(a.baseUrl, { authorization: `Bearer ${TOKEN}` }), await openStream(b.baseUrl, { authorization: `Bearer ${TOKEN}` }));
    // Keys on different partitions: the two gateway members each own some of them.
    for (const symbol of ["BTC/USDT", "ETH/USDT", "SOL/USDT", "BNB/USDT"]) {
      expect((await b.api("POST", "/api/instruments", { exchange: "binance", symbol })).status).toBe(201);
    }
    for (const [name, stream] of [["A", streams[0]!], ["B", streams[1]!]] as const) {
      for (const symbol of ["BTC/USDT", "ETH/USDT", "SOL/USDT", "BNB/USDT"]) {
        await waitFor(() => find(stream, "signal", (s) => s.instrumentKey === `binance:${symbol}`), `a ${symbol} signal on gateway ${name}`, 90_000);
      }
      await waitFor(() => find(stream, "fill"), `a fill on gateway ${name}`, 90_000);
    }
    // One consumer group with two members shares the work: each event was consumed once.
    const topics = (await a.api("GET", "/api/topics")).body as Array<{ topic: string; groups: Array<{ group: string; members: number }> }>;
    expect(topics.find((t) => t.topic === "trading.signals")!.groups.find((g) => g.group.endsWith("gateway"))!.members).toBe(2);
  });
});
