/**
 * A MongoDB store (FerretDB) behind a TCP proxy the test controls: a store that stops answering,
 * or goes away, surfaces within seconds as DependencyUnavailableError (consumers pause and retry,
 * the API answers 503) rather than a call hanging; and the store answers again within seconds of
 * coming back.
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
