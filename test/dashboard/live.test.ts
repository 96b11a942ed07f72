import { LiveStream, SseParser, type LiveStatus } from "../../dashboard/src/lib/live";

describe("SseParser", () => {
  it("assembles events from arbitrary chunks, skipping comments", () => {
    const parser = new SseParser();
    const wire = 'event: hello\ndata: {"a":1}\n\n: heartbeat\n\nevent: fill\ndata: {"b":\ndata: 2}\n\ndata: plain\n\n';
    const messages = [];
    for (let i = 0; i < wire.length; i += 7) messages.push(...parser.push(wire.slice(i, i + 7)));
    expect(messages).toEqual([
      { event: "hello", data: '{"a":1}' },
      { event: "fill", data: '{"b":\n2}' },
      { event: "message", data: "plain" },
    ]);
  });

  it("accepts CRLF and CR line ends, also when a CRLF is split across chunks", () => {
    const parser = new SseParser();
    expect(parser.push("event: a\r\ndata: 1\r")).toEqual([]);
    expect(parser.push("\n\r\nevent: b\rdata: 2\r\r")).toEqual([{ event: "a", data: "1" }]);
    // The final CR might have been the first half of a CRLF: it counts once the next chunk shows it was not.
    expect(parser.push("data: 3")).toEqual([{ event: "b", data: "2" }]);
  });
});

/** A stand-in for the gateway's stream endpoint: each request gets a stream the test writes to. */
class FakeStreamServer {
  requests: Array<{ url: string; headers: Record<string, string> }> = [];
  streams: Array<ReadableStreamDefaultController<Uint8Array>> = [];
  /** What the next requests answer: a status, a thrown network error, or an open stream (200). */
  answers: Array<number | "network-error"> = [];

  fetch = (async (url: string, init: RequestInit) => {
    this.requests.push({ url, headers: init.headers as Record<string, string> });
    const answer = this.answers.shift() ?? 200;
    if (answer === "network-error") throw new TypeError("fetch failed");
    if (answer !== 200) return new Response("no", { status: answer });
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    const body = new ReadableStream<Uint8Array>({ start: (c) => void (controller = c) });
    init.signal?.addEventListener("abort", () => {
      try {
        controller.error(new Error("aborted"));
      } catch {
        // already closed
      }
    });
    this.streams.push(controller);
    return new Response(body, { status: 200, headers: { "content-type": "text/event-stream" } });
  }) as unknown as typeof fetch;

  send(event: string, data: unknown, stream = this.streams.length - 1) {
    this.streams[stream]!.enqueue(new TextEncoder().encode(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`));
  }

  end(stream = this.streams.length - 1) {
    this.streams[stream]!.close();
  }
}

async function waitUntil(condition: () => boolean, what: string, timeoutMs = 2000) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

const hello = { serverStartedAt: 1, heartbeatMs: 15000 };

describe("LiveStream", () => {
  let server: FakeStreamServer;
  let stream: LiveStream;
  let statuses: LiveStatus[];

  beforeEach(() => {
    server = new FakeStreamServer();
    stream = new LiveStream({ url: "/api/stream", token: () => "secret", fetch: server.fetch, initialBackoffMs: 5, maxBackoffMs: 20 });
    statuses = [];
    stream.onStatus((s) => statuses.push(s));
  });

  afterEach(() => stream.stop());

  it("authenticates with the bearer token and dispatches typed events once live", async () => {
    const fills: string[] = [];
    stream.on("fill", (fill) => fills.push(fill.fillId));
    stream.start();
    await waitUntil(() => server.streams.length === 1, "the connection");
    expect(server.requests[0]).toEqual({ url: "/api/stream", headers: { accept: "text/event-stream", authorization: "Bearer secret" } });
    server.send("hello", hello);
    await waitUntil(() => stream.status === "live", "live");
    server.send("fill", { fillId: "binance:1" });
    server.send("signal", { signalId: "s" }); // no handler: ignored
    await waitUntil(() => fills.length === 1, "the fill");
    expect(fills).toEqual(["binance:1"]);
    expect(statuses).toEqual(["connecting", "live"]);
  });

  it("reconnects when the stream ends and asks the views to resync after the reconnection only", async () => {
    let resyncs = 0;
    stream.onResync(() => resyncs++);
    stream.start();
    await waitUntil(() => server.streams.length === 1, "the first connection");
    server.send("hello", hello);
    await waitUntil(() => stream.status === "live", "live");
    expect(resyncs).toBe(0);
    server.end(); // the server restarts
    await waitUntil(() => server.streams.length === 2, "the reconnection");
    server.send("hello", hello);
    await waitUntil(() => resyncs === 1, "a resync");
    expect(statuses).toEqual(["connecting", "live", "reconnecting", "live"]);
  });

  it("keeps retrying while the server is down, then goes live", async () => {
    server.answers = ["network-error", 502, "network-error"];
    stream.start();
    await waitUntil(() => server.streams.length === 1, "a connection after three failures");
    server.send("hello", hello);
    await waitUntil(() => stream.status === "live", "live");
    expect(server.requests).toHaveLength(4);
  });

  it("stops for good when the token is refused", async () => {
    server.answers = [401];
    stream.start();
    await waitUntil(() => stream.status === "unauthorized", "unauthorized");
    await new Promise((r) => setTimeout(r, 50));
    expect(server.requests).toHaveLength(1);
  });

  it("drops a connection that goes silent for longer than the silence limit", async () => {
    stream = new LiveStream({ url: "/api/stream", token: () => "secret", fetch: server.fetch, initialBackoffMs: 5, silenceMs: 60 });
    stream.start();
    await waitUntil(() => server.streams.length === 1, "the connection");
    server.send("hello", hello);
    await waitUntil(() => server.streams.length === 2, "a reconnection after silence", 1000);
  });

  it("runs one connection loop after a quick sign-out and sign-in", async () => {
    stream.start();
    await waitUntil(() => server.streams.length === 1, "the first connection");
    stream.stop();
    stream.start();
    await waitUntil(() => server.streams.length === 2, "the second connection");
    server.send("hello", hello);
    await waitUntil(() => stream.status === "live", "live");
    await new Promise((r) => setTimeout(r, 60)); // a loop left over from the first start would reconnect by now
    expect(server.requests).toHaveLength(2);
  });

  it("stops reconnecting once stopped", async () => {
    stream.start();
    await waitUntil(() => server.streams.length === 1, "the connection");
    stream.stop();
    expect(stream.status).toBe("stopped");
    await new Promise((r) => setTimeout(r, 60));
    expect(server.requests).toHaveLength(1);
  });
});
