/**
 * A MongoDB store (FerretDB) behind a TCP proxy the test controls: a store that stops answering,
 * or goes away, surfaces within seconds as DependencyUnavailableError (consumers pause and retry,
 * the API answers 503) rather than a call hanging; the store answers again within seconds of
 * coming back; and a time series' newest rows, kept in memory, answer history reads without the store.
 */
import net from "node:net";
import { ServiceBroker } from "moleculer";
import { DependencyUnavailableError } from "../../lib/errors";
import { Collection } from "../../lib/store/collection";
import { infra, mongoUriFor } from "../helpers/infra";
import { waitFor } from "../helpers/wait";

/** Forwards TCP to the database; `freeze` stops passing bytes (a hung server), `cut` refuses and drops connections (a dead one). */
class Proxy {
  private server?: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private frozen = false;
  port = 0;

  constructor(private readonly target: { host: string; port: number }) {}

  async listen(): Promise<void> {
    this.frozen = false;
    this.server = net.createServer((client) => {
      const upstream = net.connect(this.target.port, this.target.host);
      for (const [from, to] of [[client, upstream], [upstream, client]] as const) {
        this.sockets.add(from);
        from.on("data", (chunk) => {
          if (!this.frozen) to.write(chunk);
        });
        from.on("close", () => to.destroy());
        from.on("error", () => to.destroy());
      }
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, "127.0.0.1", resolve));
    this.port = (this.server!.address() as net.AddressInfo).port;
  }

  freeze(): void {
    this.frozen = true;
  }

  async cut(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    await new Promise((resolve) => this.server!.close(resolve));
  }
}

describe("store outage (MongoDB protocol, FerretDB)", () => {
  const broker = new ServiceBroker({ logger: false });
  const target = new URL(infra().mongoUri);
  const proxy = new Proxy({ host: target.hostname, port: Number(target.port) });
  let docs: Collection<{ n: number }>;

  beforeAll(async () => {
    await proxy.listen();
    const uri = mongoUriFor("outage").replace(`${target.hostname}:${target.port}`, `127.0.0.1:${proxy.port}`);
    docs = await Collection.open(broker, broker.getLogger("test"), { kind: "mongo", dataDir: "", mongoUri: uri, timeoutMs: 1000 }, "outage", []);
    await docs.insert("a", { n: 1 });
  });

  afterAll(async () => {
    await docs.close();
    await proxy.cut().catch(() => undefined);
  });

  it("a store that stops answering fails the call with DependencyUnavailableError after the timeout", async () => {
    proxy.freeze();
    const started = Date.now();
    const err = await docs.get("a").then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DependencyUnavailableError);
    expect((err as Error).message).toMatch(/outage unavailable: no answer within 1000 ms/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it("a store that goes away fails calls as unavailable, and answers again within seconds of coming back", async () => {
    await proxy.cut();
    const err = await docs.insert("b", { n: 2 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DependencyUnavailableError);

    await proxy.listen();
    const back = Date.now();
    const doc = await waitFor(async () => docs.get("a"), "the store to answer again", 15_000);
    expect(doc).toEqual({ n: 1 });
    expect(Date.now() - back).toBeLessThan(5000);
    expect(await docs.insertIfAbsent("b", { n: 2 })).toBe(true);
  });
});

describe("time series rows kept in memory in front of the store (FerretDB)", () => {
  const broker = new ServiceBroker({ logger: false });
  const target = new URL(infra().mongoUri);
  const proxy = new Proxy({ host: target.hostname, port: Number(target.port) });
  const MINUTE = 60_000;
  const id = (key: string, time: number) => `${key}|${time}`;
  interface Candle {
    instrumentKey: string;
    openTime: number;
    close: string;
  }
  const candle = (minute: number): Candle => ({ instrumentKey: "x:A/B", openTime: minute * MINUTE, close: `${minute}.5` });
  let member: Collection<Candle>;
  let otherMember: Collection<Candle>;

  beforeAll(async () => {
    await proxy.listen();
    const uri = mongoUriFor("window");
    const recent = { key: "instrumentKey", time: "openTime", step: MINUTE, capacity: 100, id };
    member = await Collection.open(broker, broker.getLogger("test"), { kind: "mongo", dataDir: "", mongoUri: uri.replace(`${target.hostname}:${target.port}`, `127.0.0.1:${proxy.port}`), timeoutMs: 1000 }, "candles", { recent });
    // A second member of a scaled-out service, writing to the same collection.
    otherMember = await Collection.open(broker, broker.getLogger("test"), { kind: "mongo", dataDir: "", mongoUri: uri }, "candles", { recent });
    for (let m = 1; m <= 20; m++) await member.insert(id("x:A/B", m * MINUTE), candle(m));
  });

  afterAll(async () => {
    await member.close();
    await otherMember.close();
    await proxy.cut().catch(() => undefined);
  });

  it("answers a history read from memory: a closed range even while the store hangs", async () => {
    proxy.freeze();
    try {
      const rows = await member.find({ query: { instrumentKey: "x:A/B", openTime: { $lt: 15 * MINUTE } }, sort: ["-openTime"], limit: 5 });
      expect(rows).toEqual([14, 13, 12, 11, 10].map(candle));
      await expect(member.find({ query: { instrumentKey: "x:A/B" }, sort: ["-openTime"], limit: 5 })).rejects.toBeInstanceOf(DependencyUnavailableError);
    } finally {
      await proxy.cut();
      await proxy.listen();
    }
  });

  it("sees the rows another member wrote after its own newest, and what the store holds beyond the window", async () => {
    const newest = () => waitFor(async () => member.find({ query: { instrumentKey: "x:A/B" }, sort: ["-openTime"], limit: 3 }), "the store back", 15_000);
    expect(await newest()).toEqual([20, 19, 18].map(candle));
    await otherMember.insert(id("x:A/B", 21 * MINUTE), candle(21));
    expect(await newest()).toEqual([21, 20, 19].map(candle));
    // More rows than the window holds come from the store.
    const all = await member.find({ query: { instrumentKey: "x:A/B" }, sort: ["-openTime"], limit: 1000 });
    expect(all.map((c) => c.openTime / MINUTE)).toEqual(Array.from({ length: 21 }, (_, i) => 21 - i));
  });
});
