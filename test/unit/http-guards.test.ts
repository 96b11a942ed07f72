/** The REST API's guards as plain modules: request budgets, the wrong-token throttle, input checks, error answers. */
import type { IncomingMessage } from "node:http";
import { Errors } from "moleculer";
import { ManualClock } from "../../lib/clock";
import { FailureThrottle, MAX_JSON_DEPTH, MAX_STRING_LENGTH, RateLimiter, inputRefusal, requestRefusal, tooManyRequests } from "../../lib/http/guards";
import { errorResponse, withoutNodeIds } from "../../lib/http/error-response";
import { invalidField } from "../../lib/errors";
import { loadConfig } from "../../lib/config";

const nested = (depth: number) => {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = { a: value };
  return value;
};

describe("RateLimiter", () => {
  it("lets a burst through, then one request per 1/rate seconds", () => {
    const clock = new ManualClock(1_000);
    const limiter = new RateLimiter(4, 3, clock);
    expect([limiter.take("k"), limiter.take("k"), limiter.take("k")]).toEqual([0, 0, 0]);
    // Empty: the next token comes in 1/4 s.
    expect(limiter.take("k")).toBe(250);
    clock.advance(100);
    expect(limiter.take("k")).toBe(150);
    clock.advance(150);
    expect(limiter.take("k")).toBe(0);
    expect(limiter.take("k")).toBe(250);
  });

  it("refills up to the burst only, and keeps each key's bucket apart", () => {
    const clock = new ManualClock(0);
    const limiter = new RateLimiter(10, 2, clock);
    limiter.take("a");
    limiter.take("a");
    expect(limiter.take("a")).toBeGreaterThan(0);
    expect(limiter.take("b")).toBe(0);
    clock.advance(60_000);
    // A minute idle refills two, not 600.
    expect([limiter.take("a"), limiter.take("a")]).toEqual([0, 0]);
    expect(limiter.take("a")).toBe(100);
  });

  it("allows over any span no more than burst + rate × span", () => {
    const clock = new ManualClock(0);
    const limiter = new RateLimiter(50, 100, clock);
    let allowed = 0;
    // 10 requests a millisecond for 2 s.
    for (let ms = 0; ms < 2_000; ms++) {
      for (let i = 0; i < 10; i++) if (limiter.take("k") === 0) allowed++;
      clock.advance(1);
    }
    expect(allowed).toBeLessThanOrEqual(100 + 50 * 2);
    expect(allowed).toBeGreaterThanOrEqual(100 + 50 * 2 - 1);
  });
});

describe("FailureThrottle", () => {
  it("refuses an address after the limit of failures within the window, until the oldest leaves it", () => {
    const clock = new ManualClock(0);
    const throttle = new FailureThrottle(3, 60_000, clock);
    expect(throttle.record("10.0.0.1")).toBe(false);
    clock.advance(10_000);
    expect(throttle.record("10.0.0.1")).toBe(false);
    expect(throttle.retryAfterMs("10.0.0.1")).toBe(0);
    clock.advance(10_000);
    expect(throttle.record("10.0.0.1")).toBe(true);
    // The first failure was at 0: the address may try again at 60 s.
    expect(throttle.retryAfterMs("10.0.0.1")).toBe(40_000);
    expect(throttle.retryAfterMs("10.0.0.2")).toBe(0);
    clock.advance(40_000);
    expect(throttle.retryAfterMs("10.0.0.1")).toBe(0);
    // Two failures still in the window: one more refuses it again, until the one at 10 s leaves.
    expect(throttle.record("10.0.0.1")).toBe(true);
    expect(throttle.retryAfterMs("10.0.0.1")).toBe(10_000);
  });

  it("forgets failures older than the window", () => {
    const clock = new ManualClock(0);
    const throttle = new FailureThrottle(2, 1_000, clock);
    throttle.record("a");
    clock.advance(1_001);
    expect(throttle.record("a")).toBe(false);
    expect(throttle.retryAfterMs("a")).toBe(0);
  });

  it("tracks at most 10,000 addresses, forgetting those whose last failure is the oldest", () => {
    const clock = new ManualClock(0);
    const throttle = new FailureThrottle(2, 60_000, clock);
    throttle.record("first");
    throttle.record("first");
    for (let i = 0; i < 9_999; i++) throttle.record(`other-${i}`);
    expect(throttle.retryAfterMs("first")).toBe(60_000);
    throttle.record("latest");
    throttle.record("latest");
    expect(throttle.retryAfterMs("first")).toBe(0);
    expect(throttle.retryAfterMs("latest")).toBe(60_000);
  });
});

describe("inputRefusal", () => {
  const fieldOf = (value: unknown) => (inputRefusal(value)?.data as Array<{ field: string; message: string }> | undefined)?.[0];

  it("accepts ordinary bodies and queries", () => {
    expect(inputRefusal(undefined)).toBeUndefined();
    expect(inputRefusal({ exchange: "binance", symbol: "BTC/USDT", limits: { maxOpenOrders: 3 }, tags: ["a", "b"] })).toBeUndefined();
    expect(inputRefusal(nested(MAX_JSON_DEPTH))).toBeUndefined();
    expect(inputRefusal({ name: "x".repeat(MAX_STRING_LENGTH) })).toBeUndefined();
  });

  it("refuses nesting deeper than the limit, however deep, naming where", () => {
    expect(fieldOf(nested(MAX_JSON_DEPTH + 1))).toMatchObject({ field: "a".repeat(MAX_JSON_DEPTH).split("").join("."), message: expect.stringMatching(/nested too deeply/) });
    // 100,000 levels: walked without recursion, so no stack overflow.
    expect(inputRefusal(JSON.parse(`${"[".repeat(100_000)}${"]".repeat(100_000)}`))).toBeInstanceOf(Errors.ValidationError);
  });

  it("refuses keys that reach a prototype, at any level", () => {
    expect(fieldOf(JSON.parse('{"__proto__": {"portfolioId": "bob"}}'))).toMatchObject({ field: "__proto__", message: "is not an accepted field name" });
    expect(fieldOf({ id: "x", constructor: { prototype: {} } })).toMatchObject({ field: "constructor" });
    expect(fieldOf({ limits: { prototype: 1 } })).toMatchObject({ field: "limits.prototype" });
    expect(fieldOf({ list: [{ ok: 1 }, JSON.parse('{"__proto__": 1}')] })).toMatchObject({ field: "list[1].__proto__" });
  });

  it("refuses strings longer than the bound, naming the field", () => {
    expect(fieldOf({ portfolioId: "p".repeat(MAX_STRING_LENGTH + 1) })).toMatchObject({ field: "portfolioId", message: `must be at most ${MAX_STRING_LENGTH} characters long` });
    expect(fieldOf(["x".repeat(MAX_STRING_LENGTH + 1)])).toMatchObject({ field: "[0]" });
  });
});

describe("requestRefusal", () => {
  const request = (headers: Record<string, string>, body?: unknown, query: unknown = {}) => ({ headers, body, query }) as unknown as IncomingMessage;

  it("answers 415 for a body the JSON parser did not read", () => {
    const refused = requestRefusal(request({ "content-type": "text/plain", "content-length": "4" }));
    expect(refused).toMatchObject({ code: 415, type: "UNSUPPORTED_MEDIA_TYPE", message: expect.stringMatching(/application\/json/) });
    expect(requestRefusal(request({ "transfer-encoding": "chunked" }))).toMatchObject({ code: 415 });
  });

  it("lets a request without a body, or with a parsed one, through to the input checks", () => {
    expect(requestRefusal(request({}))).toBeUndefined();
    expect(requestRefusal(request({ "content-length": "0" }))).toBeUndefined();
    expect(requestRefusal(request({ "content-type": "application/json", "content-length": "2" }, {}))).toBeUndefined();
    expect(requestRefusal(request({}, undefined, { status: "s".repeat(MAX_STRING_LENGTH + 1) }))).toMatchObject({ code: 422 });
  });
});

describe("errorResponse", () => {
  it("keeps a service error's status, message and data, without node ids", () => {
    const err = new Errors.ValidationError("Parameters validation error!", "VALIDATION_ERROR", [{ field: "id", message: "required", nodeID: "node-7", action: "risk.createPortfolio" }]);
    expect(errorResponse(err)).toEqual({
      status: 422,
      body: { name: "ValidationError", message: "Parameters validation error!", code: 422, type: "VALIDATION_ERROR", data: [{ field: "id", message: "required", action: "risk.createPortfolio" }] },
    });
    expect(withoutNodeIds({ action: "a", nodeID: "n", nested: [{ nodeID: "n", x: 1 }] })).toEqual({ action: "a", nested: [{ x: 1 }] });
  });

  it("gives the wait of a 429 for Retry-After", () => {
    expect(errorResponse(tooManyRequests("slow down", "RATE_LIMITED", 1_200))).toMatchObject({ status: 429, retryAfterSeconds: 2, body: { message: "slow down", type: "RATE_LIMITED" } });
    expect(errorResponse(tooManyRequests("too many streams", "TOO_MANY_STREAMS")).retryAfterSeconds).toBeUndefined();
  });

  it("rewords the body parser's and the router's refusals", () => {
    const parserError = (message: string, status: number, type: string) => new Errors.MoleculerError(message, status, type);
    expect(errorResponse(parserError("request entity too large", 413, "entity.too.large"))).toMatchObject({ status: 413, body: { message: "the request body is larger than 100kb" } });
    expect(errorResponse(parserError("Unexpected token", 400, "entity.parse.failed"))).toMatchObject({ status: 400, body: { message: "the request body is not valid JSON: Unexpected token" } });
    expect(errorResponse(new Errors.MoleculerClientError("Bad request", 400, "UNABLE_DECODE_PARAM", { param: "%ZZ" }))).toMatchObject({
      status: 400,
      body: { type: "MALFORMED_URL", message: "the URL path holds malformed percent-encoding" },
    });
  });

  it("answers 500 'internal error' for anything that is not a service error, without its text", () => {
    for (const err of [new URIError("URI malformed"), new RangeError("Maximum call stack size exceeded"), "a string", undefined]) {
      expect(errorResponse(err)).toEqual({ status: 500, body: { name: "InternalServerError", message: "internal error", code: 500 } });
    }
    // A type that names an Object.prototype member is no rewording.
    expect(errorResponse(new Errors.MoleculerClientError("m", 404, "constructor")).status).toBe(404);
    expect(errorResponse(invalidField("x", "is wrong")).body.data).toEqual([{ field: "x", message: "is wrong", type: "invalid" }]);
  });
});

describe("the API limits' configuration", () => {
  it("has the documented defaults and reads each variable", () => {
    expect(loadConfig({}).apiLimits).toEqual({ requestsPerSecond: 50, requestBurst: 100, streamsPerToken: 5, authFailures: 10, authFailureWindowMs: 60_000 });
    const env = { API_RATE_LIMIT: "2.5", API_RATE_BURST: "7", SSE_STREAMS_PER_TOKEN: "1", AUTH_FAILURE_LIMIT: "3", AUTH_FAILURE_WINDOW_S: "30" };
    expect(loadConfig(env).apiLimits).toEqual({ requestsPerSecond: 2.5, requestBurst: 7, streamsPerToken: 1, authFailures: 3, authFailureWindowMs: 30_000 });
  });

  it.each([
    ["API_RATE_LIMIT", "0"],
    ["API_RATE_BURST", "1.5"],
    ["SSE_STREAMS_PER_TOKEN", "-1"],
    ["AUTH_FAILURE_LIMIT", "ten"],
    ["AUTH_FAILURE_WINDOW_S", "0"],
  ])("refuses %s=%s", (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(name);
  });
});
