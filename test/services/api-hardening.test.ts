/**
 * The attacks on the REST API from issue 8, each scripted against a running gateway: malformed
 * URLs, deep and prototype-polluting bodies, oversized input, wrong content types, a flood of wrong
 * tokens, too many live streams, a burst over the request rate, moleculer-web's built-in routes.
 * Each gets a clean 4xx or 429, and another trader keeps being served meanwhile.
 */
import http from "node:http";
import fs from "node:fs";
import path from "node:path";
import { ServiceBroker } from "moleculer";
import { startPlatform, tempDataDir, waitFor, TOKEN, type Platform } from "../helpers/platform";
import { openStream, type OpenStream } from "../helpers/sse";
import { loadConfig, type ApiLimits } from "../../lib/config";
import { MAX_JSON_DEPTH, MAX_STRING_LENGTH } from "../../lib/http/guards";
import GatewayService from "../../services/gateway.service";

jest.setTimeout(120_000);

const ALICE = "alice-token-0123456789";
const BOB = "bob-token-0123456789ab";
const CAROL = "carol-token-0123456789";

const LIMITS: ApiLimits = { ...loadConfig({}).apiLimits, requestsPerSecond: 20, requestBurst: 40, streamsPerToken: 2, authFailures: 10 };

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  body: any;
}

describe("API hardening: every attack gets a clean 4xx, and other traders are still served", () => {
  let platform: Platform;
  let port: number;

  /** A raw HTTP request: the path goes out as written, from the given local address (127.0.0.0/8 is all loopback). */
  const request = (method: string, urlPath: string, options: { token?: string | null; body?: string; headers?: Record<string, string>; from?: string } = {}) =>
    new Promise<Answer>((resolve, reject) => {
      const token = options.token === undefined ? TOKEN : options.token;
      const headers: Record<string, string> = { ...(options.body !== undefined ? { "content-type": "application/json" } : {}), ...options.headers };
      if (token) headers.authorization = `Bearer ${token}`;
      const req = http.request({ host: "127.0.0.1", port, method, path: urlPath, headers, localAddress: options.from ?? "127.0.0.1", agent: false }, (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (text += chunk));
        res.on("end", () => {
          let body: unknown;
          try {
            body = text ? JSON.parse(text) : undefined;
          } catch {
            body = undefined;
          }
          resolve({ status: res.statusCode!, headers: res.headers, text, body });
        });
      });
      req.on("error", reject);
      req.end(options.body);
    });

  /** Bob reads his portfolio: the other trader who must keep being served during each attack. */
  const bobIsServed = async () => (await request("GET", "/api/portfolios/bob", { token: BOB })).status === 200;

  /** A clean client error: a 4xx JSON answer with a message and nothing of the cluster's internals. */
  const expectCleanRefusal = (answer: Answer, status: number) => {
    expect([answer.status, answer.body?.message]).toEqual([status, expect.any(String)]);
    expect(answer.text).not.toContain("nodeID");
    expect(answer.text).not.toContain(platform.broker.nodeID);
  };

  beforeAll(async () => {
    platform = await startPlatform({
      services: ["gateway", "risk", "exchange"],
      config: { traderTokens: { alice: ALICE, bob: BOB, carol: CAROL }, apiLimits: LIMITS },
    });
    port = Number(new URL(platform.baseUrl).port);
    // Each trader's own portfolio exists from their first call.
    for (const token of [ALICE, BOB, CAROL]) await waitFor(async () => (await request("GET", "/api/portfolios", { token })).status === 200, "the trader's portfolio");
  });

  afterAll(async () => {
    await platform?.stop();
  });

  it("answers a doubly encoded or malformed key in the URL with 404 or 400, never 500", async () => {
    const twice = await request("DELETE", "/api/instruments/%25ZZ", { token: ALICE });
    expectCleanRefusal(twice, 404);
    expect(twice.body.message).toBe('instrument "%ZZ" not found');
    const malformed = await request("DELETE", "/api/instruments/%ZZ", { token: ALICE });
    expectCleanRefusal(malformed, 400);
    expect(malformed.body).toMatchObject({ type: "MALFORMED_URL", message: "the URL path holds malformed percent-encoding" });
    expectCleanRefusal(await request("GET", "/api/portfolios/%E0%A4%A", { token: ALICE }), 400);
    // A malformed query string is read leniently: the route answers as without it.
    expect((await request("GET", "/api/portfolios?x=%ZZ", { token: ALICE })).status).toBe(200);
    expect(await bobIsServed()).toBe(true);
  });

  it(`refuses a body nested 10,000 levels deep with 422 naming where (the limit is ${MAX_JSON_DEPTH})`, async () => {
    const deepName = `{"id":"alice.deep","name":${'{"a":'.repeat(10_000)}1${"}".repeat(10_000)}}`;
    const answer = await request("POST", "/api/portfolios", { token: ALICE, body: deepName });
    expectCleanRefusal(answer, 422);
    expect(answer.body.data[0]).toMatchObject({ field: expect.stringMatching(/^name\.a\.a/), message: `is nested too deeply (at most ${MAX_JSON_DEPTH} levels of objects and arrays)` });
    const deepArray = await request("POST", "/api/portfolios", { token: ALICE, body: `${"[".repeat(10_000)}${"]".repeat(10_000)}` });
    expectCleanRefusal(deepArray, 422);
    expect((await request("GET", "/api/portfolios/alice.deep", { token: ALICE })).status).toBe(404);
    expect(await bobIsServed()).toBe(true);
  });

  it("refuses __proto__, constructor and prototype keys with 422 naming the field, and nothing happens", async () => {
    // Read as the action's params' prototype, this once registered into bob's portfolio.
    const polluted = await request("POST", "/api/instruments", { token: ALICE, body: '{"exchange":"binance","symbol":"ETH/USDT","__proto__":{"portfolioId":"bob"}}' });
    expectCleanRefusal(polluted, 422);
    expect(polluted.body.data[0]).toMatchObject({ field: "__proto__", message: "is not an accepted field name" });
    const constructor = await request("POST", "/api/portfolios", { token: ALICE, body: '{"id":"alice.c","constructor":{"prototype":{"startCash":"1"}}}' });
    expect(constructor.body.data[0]).toMatchObject({ field: "constructor" });
    const nested = await request("PATCH", "/api/portfolios/alice/limits", { token: ALICE, body: '{"maxOpenOrders":3,"x":{"prototype":1}}' });
    expectCleanRefusal(nested, 422);
    expect(nested.body.data[0]).toMatchObject({ field: "x.prototype" });
    expect((await request("GET", "/api/instruments", { token: BOB })).body).toEqual([]);
    expect((await request("GET", "/api/portfolios/alice.c", { token: ALICE })).status).toBe(404);
    // The query parser drops such keys before anything sees them.
    expect((await request("GET", "/api/portfolios/alice/orders?__proto__[status]=x&constructor[prototype][a]=1", { token: ALICE })).status).toBe(200);
  });

  it("refuses oversized strings (422), oversized bodies (413), bodies that are not JSON (415 and 400)", async () => {
    const long = await request("POST", "/api/portfolios", { token: ALICE, body: JSON.stringify({ id: "alice.long", startCash: "9".repeat(MAX_STRING_LENGTH + 1) }) });
    expectCleanRefusal(long, 422);
    expect(long.body.data[0]).toMatchObject({ field: "startCash", message: `must be at most ${MAX_STRING_LENGTH} characters long` });
    const huge = await request("POST", "/api/portfolios", { token: ALICE, body: JSON.stringify({ id: "alice.huge", tags: Array.from({ length: 20_000 }, (_, i) => `t${i}`) }) });
    expectCleanRefusal(huge, 413);
    expect(huge.body.message).toBe("the request body is larger than 100kb");
    const form = await request("POST", "/api/portfolios", { token: ALICE, body: "id=alice.form", headers: { "content-type": "application/x-www-form-urlencoded" } });
    expectCleanRefusal(form, 415);
    expect(form.body.message).toMatch(/Content-Type: application\/json/);
    expectCleanRefusal(await request("POST", "/api/portfolios", { token: ALICE, body: '{"id":"alice.broken"', headers: { "content-type": "application/json" } }), 400);
    // A compressed body that is not what it claims would fail in the decompressor: compressed bodies are refused.
    const compressed = await request("POST", "/api/portfolios", { token: ALICE, body: '{"id":"alice.gz"}', headers: { "content-encoding": "gzip" } });
    expectCleanRefusal(compressed, 415);
    expect(compressed.body.message).toBe("compressed request bodies (Content-Encoding) are not accepted");
    expect((await request("GET", "/api/portfolios/alice.form", { token: ALICE })).status).toBe(404);
  });

  it("keeps node ids out of error answers", async () => {
    const invalid = await request("POST", "/api/portfolios", { token: ALICE, body: "{}" });
    expectCleanRefusal(invalid, 422);
    expect(invalid.body.data).toEqual([expect.objectContaining({ field: "id", action: "risk.createPortfolio" })]);
    expectCleanRefusal(await request("GET", "/api/portfolios/nope", { token: ALICE }), 404);
  });

  it("closes moleculer-web's built-in routes", async () => {
    for (const url of ["/api/list-aliases", "/api/list-aliases?withActionSchema=true", "/api/api/listAliases", "/api/$node/list", "/api/~node/actions"]) {
      const answer = await request("GET", url);
      expect([url, answer.status]).toEqual([url, 404]);
    }
  });

  it("throttles an address after 10 wrong tokens, without locking out the right token elsewhere; each failure logged without the token", async () => {
    const gateway = platform.broker.getLocalService("gateway") as unknown as { logger: { warn: (...args: unknown[]) => void } };
    const warn = jest.spyOn(gateway.logger, "warn");
    const attacker = "127.0.0.3";
    const attempts: Answer[] = [];
    const served: boolean[] = [];
    // 300 wrong tokens, 10 at a time, while bob keeps reading his portfolio.
    const attack = (async () => {
      for (let i = 0; i < 300; i += 10) {
        // The token in the query too, as a careless client might send it: neither copy may reach the log.
        attempts.push(...(await Promise.all(Array.from({ length: 10 }, (_, j) => request("GET", `/api/portfolios?token=wrong-token-${i + j}`, { token: `wrong-token-${i + j}`, from: attacker })))));
      }
    })();
    const serving = (async () => {
      while (attempts.length < 300) served.push(await bobIsServed());
    })();
    await Promise.all([attack, serving]);

    expect(attempts.filter((a) => a.status === 401)).toHaveLength(LIMITS.authFailures);
    const throttled = attempts.filter((a) => a.status === 429);
    expect(throttled).toHaveLength(300 - LIMITS.authFailures);
    for (const answer of throttled) {
      expectCleanRefusal(answer, 429);
      expect(Number(answer.headers["retry-after"])).toBeGreaterThan(0);
      expect(Number(answer.headers["retry-after"])).toBeLessThanOrEqual(LIMITS.authFailureWindowMs / 1000);
    }
    expect(throttled[0]!.body).toMatchObject({ type: "AUTH_THROTTLED", message: "too many wrong bearer tokens from this address; retry later" });
    expect(served.length).toBeGreaterThan(0);
    expect(served.every(Boolean)).toBe(true);

    // The right token from another address still works; from the throttled one it waits too (else it could go on guessing).
    expect((await request("GET", "/api/portfolios", { token: ALICE, from: "127.0.0.2" })).status).toBe(200);
    expect((await request("GET", "/api/portfolios", { token: ALICE, from: attacker })).status).toBe(429);

    const failures = warn.mock.calls.map((call) => String(call[0])).filter((line) => line.startsWith("wrong bearer token"));
    expect(failures).toHaveLength(LIMITS.authFailures);
    expect(failures[0]).toBe(`wrong bearer token from ${attacker} on GET /api/portfolios`);
    expect(failures.at(-1)).toBe(`wrong bearer token from ${attacker} on GET /api/portfolios; 10 within 60 s, the address is refused for now`);
    expect(warn.mock.calls.flat().map(String).join("\n")).not.toMatch(/wrong-token-/);
    warn.mockRestore();
  });

  it(`caps the live streams per token at ${LIMITS.streamsPerToken}, with 429 past the cap`, async () => {
    const headers = (token: string) => ({ authorization: `Bearer ${token}` });
    const streams: OpenStream[] = [];
    try {
      for (let i = 0; i < LIMITS.streamsPerToken; i++) streams.push(await openStream(platform.baseUrl, headers(ALICE)));
      expect(streams.map((s) => s.status)).toEqual(Array(LIMITS.streamsPerToken).fill(200));
      const refused = await request("GET", "/api/stream", { token: ALICE });
      expectCleanRefusal(refused, 429);
      expect(refused.body).toMatchObject({ type: "TOO_MANY_STREAMS", message: expect.stringMatching(/SSE_STREAMS_PER_TOKEN/) });
      // Another token's streams are counted apart.
      streams.push(await openStream(platform.baseUrl, headers(BOB)));
      expect(streams.at(-1)!.status).toBe(200);
      // Closing one makes room again once the gateway sees it closed.
      streams.shift()!.close();
      const again = await waitFor(async () => {
        const stream = await openStream(platform.baseUrl, headers(ALICE));
        if (stream.status === 200) return stream;
        expect(stream.status).toBe(429);
        return undefined;
      }, "room for another stream");
      streams.push(again);
    } finally {
      for (const stream of streams) stream.close();
    }
  });

  it("limits the requests per token per second, with 429 and Retry-After, while other tokens are served", async () => {
    const started = Date.now();
    const burst = Promise.all(Array.from({ length: 200 }, () => request("GET", "/api/portfolios/carol", { token: CAROL })));
    const bobMeanwhile = bobIsServed();
    const answers = await burst;
    const seconds = (Date.now() - started) / 1000;
    expect(await bobMeanwhile).toBe(true);

    const allowed = answers.filter((a) => a.status === 200).length;
    const limited = answers.filter((a) => a.status === 429);
    expect(allowed + limited.length).toBe(200);
    // A token bucket lets through at most its size plus the rate times the time taken.
    expect(allowed).toBeGreaterThanOrEqual(LIMITS.requestBurst);
    expect(allowed).toBeLessThanOrEqual(LIMITS.requestBurst + Math.ceil(LIMITS.requestsPerSecond * seconds));
    expect(limited.length).toBeGreaterThan(0);
    for (const answer of limited) {
      expectCleanRefusal(answer, 429);
      expect(answer.body.type).toBe("RATE_LIMITED");
      expect(Number(answer.headers["retry-after"])).toBeGreaterThanOrEqual(1);
    }
    // After the wait it names, the token is served again.
    await new Promise((resolve) => setTimeout(resolve, Number(limited.at(-1)!.headers["retry-after"]) * 1000));
    expect((await request("GET", "/api/portfolios/carol", { token: CAROL })).status).toBe(200);
  });

  it("refuses at start a token file others can read, saying how to fix it", () => {
    const dataDir = tempDataDir();
    const file = path.join(dataDir, "api-token");
    fs.writeFileSync(file, "an-operator-token-0123456789\n", { mode: 0o644 });
    fs.chmodSync(file, 0o644);
    const broker = new ServiceBroker({ logger: false, metadata: { config: { dataDir, apiToken: undefined, port: 0 } } });
    expect(() => broker.createService(GatewayService)).toThrow(`The API token file ${file} is readable by others (mode 644); run \`chmod 600 ${file}\``);
  });
});
