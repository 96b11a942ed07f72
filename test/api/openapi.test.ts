/**
 * The OpenAPI document against the server it describes: the generator's schemas accept what the
 * validator accepts (fastest-validator itself is the oracle, ajv reads the schemas), every route the
 * gateway serves is in the document and every documented route is served. The fuzzing of every
 * route against the document is test/api/schemathesis.test.ts.
 */
import Ajv from "ajv";
import Validator from "fastest-validator";
import { SERVICE_SCHEMAS } from "../../services";
import { answerSchema, ruleSchema, methodsAt, type OpenApiSchema } from "../../lib/openapi";
import { BookEvent, TradeEvent } from "../../schemas/market";
import { boundedDecimal, LIMIT_BOUNDS } from "../../lib/risk/rules";
import { boundedDecimalSchema } from "../../schemas/api";
import { startPlatform, waitFor, TOKEN, type Platform } from "../helpers/platform";

/** OpenAPI 3.0's boolean `exclusiveMinimum`/`exclusiveMaximum` as the JSON Schema ajv reads. */
function asJsonSchema(schema: OpenApiSchema): OpenApiSchema {
  const out: OpenApiSchema = { ...schema };
  if (out.exclusiveMinimum === true) {
    out.exclusiveMinimum = out.minimum;
    delete out.minimum;
  }
  if (out.exclusiveMaximum === true) {
    out.exclusiveMaximum = out.maximum;
    delete out.maximum;
  }
  return out;
}

const ajv = new Ajv({ strict: false });
const fastest = new Validator();

/** Values that probe the edges of the rules the services declare. */
const PROBES: unknown[] = [
  undefined, null, "", " ", "a", "ab", "default", "alice.swing", "alice..x", "a.b.c", "x".repeat(64), "x".repeat(65), "x".repeat(201),
  "binance", "Binance", "b", "BTC/USDT", "BTC/BTC", "btc/usdt", "binance:BTC/USDT", "rule", "lstm", "approved", "nope", "1m", "5m", "1h", "4h", "1d", "2h", "1M",
  0, 1, -1, 1.5, 50, 1000, 1001, 20_000, 20_001, 1_000_000, 1_000_001, true, {}, [],
];

type ActionDecl = { params?: Record<string, unknown>; rest?: string };

/** Every REST action's declared params, from the service schemas themselves. */
const restParams = Object.entries(SERVICE_SCHEMAS).flatMap(([service, schema]) =>
  Object.entries((schema.actions ?? {}) as Record<string, ActionDecl>)
    .filter(([, action]) => typeof action === "object" && action.rest && action.params)
    .flatMap(([name, action]) =>
      Object.entries(action.params!)
        .filter(([param]) => !param.startsWith("$$"))
        .map(([param, rule]) => [`${service}.${name} ${param}`, rule] as const),
    ),
);

describe("the generator's schemas", () => {
  test.each(restParams)("%s: accepts exactly what the validator accepts", (_where, rule) => {
    const check = fastest.compile({ $$root: true, ...(rule as object) } as never) as (value: unknown) => true | unknown[];
    const validate = ajv.compile(asJsonSchema(ruleSchema(rule)));
    // What the validator converts (`convert: true`: query strings, true → 1) is typed as it serializes in the document.
    const converts = (rule as { convert?: boolean }).convert === true;
    const probes = PROBES.filter((v) => v !== undefined && (!converts || typeof v === "number"));
    const disagreements = probes.filter((value) => (check(value) === true) !== validate(value));
    expect(disagreements).toEqual([]);
  });

  test("an optional field may be null, as fastest-validator lets it", () => {
    expect(ruleSchema({ type: "string", optional: true })).toMatchObject({ nullable: true });
    expect(ruleSchema({ type: "enum", values: ["a"], optional: true }).enum).toEqual(["a", null]);
    expect(ruleSchema({ type: "string" }).nullable).toBeUndefined();
  });

  test("constraints become keywords: positive, integer, max, empty, a length lookahead", () => {
    expect(ruleSchema({ type: "number", integer: true, positive: true, max: 1000 })).toEqual({ type: "integer", minimum: 0, exclusiveMinimum: true, maximum: 1000 });
    expect(ruleSchema({ type: "string", empty: false, max: 36 })).toEqual({ type: "string", minLength: 1, maxLength: 36 });
    expect(ruleSchema({ type: "string", pattern: /^(?=.{1,64}$)[a-z]+$/ })).toEqual({ type: "string", minLength: 1, maxLength: 64, pattern: "^[a-z]+$" });
    expect(ruleSchema("string|optional")).toEqual({ type: "string", nullable: true });
  });

  test.each([
    [LIMIT_BOUNDS.maxAmount, false],
    [LIMIT_BOUNDS.maxExposureMultiple, true],
    ["1", true],
  ] as const)("decimals up to %s (positive: %s): the pattern matches only what boundedDecimal accepts", (max, positive) => {
    const re = new RegExp(boundedDecimalSchema(max, positive).pattern as string);
    const values = [
      "0", "0.0", "00", "1", "1.0", "01", "0.5", "00.2", ".5", "5.", "-1", "-0", "1e3", "abc", "", "9", "9.99", "10", "10.0", "10.5", "11",
      "0.000000001", "0.0000000001", "999999999", "999999999.999999999", "999999999.9999999999", "1000000000", "1000000000.0", "1000000000.1",
      "1000000001", "123456789.123456789", "1".padEnd(41, "0"),
    ];
    for (const value of values) {
      const accepted = boundedDecimal(value, max, positive) === undefined;
      // No string the document calls valid is refused; the few it calls invalid that the server
      // takes are over 9 decimals, beyond what any limit or amount needs.
      if (re.test(value)) expect({ value, accepted }).toEqual({ value, accepted: true });
      else if (accepted) expect(value).toMatch(/\.[0-9]{10,}$/);
    }
  });
});

describe("answers", () => {
  test("a contract is shown open and in OpenAPI 3.0's words", () => {
    const trade = answerSchema(TradeEvent) as OpenApiSchema & { properties: Record<string, OpenApiSchema> };
    expect(TradeEvent.additionalProperties).toBe(false);
    expect(trade.additionalProperties).toBeUndefined();
    expect(trade.properties.kind).toEqual({ type: "string", enum: ["trade"] });
    expect(trade.required).toEqual(TradeEvent.required);
    const bids = (answerSchema(BookEvent) as { properties: Record<string, { items: OpenApiSchema }> }).properties.bids!.items;
    expect(bids).toEqual({ type: "array", items: { type: "string", pattern: expect.any(String) }, minItems: 2, maxItems: 2 });
  });
});

describe("the document and the routes the gateway serves", () => {
  let platform: Platform;
  let doc: { paths: Record<string, Record<string, { operationId: string; security: unknown[]; responses: Record<string, unknown>; parameters?: Array<{ name: string; in: string; schema: OpenApiSchema }>; requestBody?: { content: Record<string, { schema: OpenApiSchema }> } }>> };
  const op = (path: string, method: string) => doc.paths[path]?.[method];

  beforeAll(async () => {
    platform = await startPlatform({ config: { traderTokens: { alice: "alice-openapi-token-01" } } });
    const res = await platform.api("GET", "/api/openapi.json");
    expect(res.status).toBe(200);
    doc = res.body;
  }, 60_000);

  afterAll(async () => {
    await platform?.stop();
  });

  test("every REST action of every service is documented at the path moleculer-web serves it on", () => {
    const aliases = (platform.broker.getLocalService("gateway") as unknown as { aliases: Array<{ method: string; fullPath: string; action?: string }> }).aliases;
    const served = aliases.filter((a) => a.action).map((a) => `${a.method.toLowerCase()} ${a.fullPath.replace(/:([A-Za-z0-9_]+)/g, "{$1}")}`);
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((method) => `${method} ${path}`));
    expect(served.length).toBeGreaterThan(25);
    expect(documented).toEqual(expect.arrayContaining(served));
    // The exchange's routes are under its service name; the stream is an alias without an action.
    expect(op("/api/exchange/status", "get")?.operationId).toBe("exchange.status");
    expect(doc.paths["/api/status"]).toBeUndefined();
    expect(op("/api/stream", "get")?.responses["200"]).toMatchObject({ content: { "text/event-stream": expect.anything() } });
  });

  test("every documented route is served: none answers 404 or 405 for want of a route", async () => {
    await platform.api("POST", "/api/instruments", { exchange: "binance", symbol: "BTC/USDT" });
    const sample: Record<string, string> = { id: "default", instrumentKey: encodeURIComponent("binance:BTC/USDT") };
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const method of Object.keys(ops)) {
        let url = path.replace(/\{(\w+)\}/g, (_m, name: string) => sample[name] ?? "x");
        if (path.startsWith("/api/traders/")) url = "/api/traders/alice";
        if (path === "/api/stream") {
          const controller = new AbortController();
          const res = await fetch(`${platform.baseUrl}${url}`, { headers: { authorization: `Bearer ${TOKEN}` }, signal: controller.signal });
          expect({ path, status: res.status, type: res.headers.get("content-type") }).toEqual({ path, status: 200, type: "text/event-stream; charset=utf-8" });
          controller.abort();
          continue;
        }
        const res = await platform.api(method.toUpperCase(), url, ["post", "patch", "put"].includes(method) ? {} : undefined);
        // A 404 of a route that is there names what was not found (type NOT_FOUND from the action).
        const missingRoute = res.status === 405 || (res.status === 404 && res.body?.message === "Not found");
        expect({ method, url, missingRoute }).toEqual({ method, url, missingRoute: false });
      }
    }
  });

  test("the market history routes: the timeframes in the document, a bad one refused with 422 on `timeframe`, coverage per instrument", async () => {
    for (const route of ["/api/market/candles", "/api/market/indicators"]) {
      const params = op(route, "get")!.parameters!;
      expect(params.map((p) => p.name)).toEqual(expect.arrayContaining(["instrument", "timeframe", "limit", "before", "after"]));
      expect(params.find((p) => p.name === "timeframe")!.schema.enum).toEqual(expect.arrayContaining(["1m", "5m", "15m", "1h", "4h", "1d"]));
      const res = await platform.api("GET", `${route}?instrument=binance%3ABTC%2FUSDT&timeframe=2h`);
      expect({ route, status: res.status, fields: res.body.data?.map((d: { field: string }) => d.field) }).toEqual({ route, status: 422, fields: ["timeframe"] });
    }
    expect(op("/api/market/coverage", "get")!.parameters!.map((p) => p.name)).toEqual(["instrument"]);
    await platform.api("POST", "/api/instruments", { exchange: "binance", symbol: "BTC/USDT" });
    // The registration's backfill lands in the store: coverage shows it, and its hours come bucketed.
    await waitFor(async () => (await platform.api("GET", "/api/market/coverage?instrument=binance%3ABTC%2FUSDT")).body?.[0]?.candles?.rows > 0, "the backfilled candles in the coverage");
    const [coverage] = (await platform.api("GET", "/api/market/coverage?instrument=binance%3ABTC%2FUSDT")).body;
    expect(coverage).toMatchObject({ instrumentKey: "binance:BTC/USDT", candles: { first: expect.any(Number), last: expect.any(Number), gaps: expect.any(Array) } });
    const hours = (await platform.api("GET", "/api/market/candles?instrument=binance%3ABTC%2FUSDT&timeframe=1h&limit=5")).body as Array<{ timeframe: string; openTime: number; closeTime: number }>;
    expect(hours.length).toBeGreaterThan(0);
    for (const bar of hours) expect(bar).toMatchObject({ timeframe: "1h", openTime: Math.floor(bar.openTime / 3_600_000) * 3_600_000, closeTime: bar.openTime + 3_600_000 - 1 });
  });

  test("a route asked with a method it does not have answers 405 with Allow", async () => {
    const res = await fetch(`${platform.baseUrl}/api/topics`, { method: "DELETE", headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("GET");
    expect(await res.json()).toMatchObject({ code: 405, message: expect.stringContaining("GET") });
    const aliases = (platform.broker.getLocalService("gateway") as unknown as { aliases: Parameters<typeof methodsAt>[0] }).aliases;
    expect(methodsAt(aliases, "/api/portfolios/default")).toEqual(["GET"]);
    expect(methodsAt(aliases, "/api/nothing")).toEqual([]);
  });

  test("a body that is not a JSON object answers 422 on `body`, as the document's object bodies say", async () => {
    const res = await platform.api("POST", "/api/portfolios/default/halt", [null, null]);
    expect(res.status).toBe(422);
    expect(res.body.data).toEqual([expect.objectContaining({ field: "body" })]);
    expect((await platform.api("GET", "/api/portfolios/default")).body.halted).toBe(false);
  });

  test("the answers are the contracts, in keywords OpenAPI 3.0 has", () => {
    const fills = op("/api/portfolios/{id}/fills", "get")!.responses["200"] as { content: Record<string, { schema: { items: OpenApiSchema } }> };
    expect(fills.content["application/json"]!.schema.items.required).toEqual(expect.arrayContaining(["fillId", "venueOrderId", "liquidity"]));
    // 3.0 has no `const`, no tuples and no type arrays: none of them anywhere in the document.
    const misfits: string[] = [];
    const walk = (node: unknown, at: string): void => {
      if (Array.isArray(node)) return node.forEach((item, i) => walk(item, `${at}[${i}]`));
      if (node === null || typeof node !== "object") return;
      for (const [key, value] of Object.entries(node)) {
        if (key === "const" || key === "additionalItems" || (key === "items" && Array.isArray(value)) || (key === "type" && Array.isArray(value))) misfits.push(`${at}.${key}`);
        walk(value, `${at}.${key}`);
      }
    };
    walk(doc.paths, "paths");
    expect(misfits).toEqual([]);
  });

  test("security, status codes and constraints are in the document", () => {
    expect(op("/api/health", "get")?.security).toEqual([]);
    expect(op("/api/health", "get")?.responses["503"]).toBeDefined();
    expect(op("/api/topics", "get")?.security).toEqual([{ bearer: [] }]);
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(ops)) {
        const statuses = Object.keys(operation.responses);
        expect({ path, method, common: ["400", "413", "415", "422", "429", "503"].every((s) => statuses.includes(s)) }).toEqual({ path, method, common: true });
        if (operation.security.length > 0) expect({ path, method, has401: statuses.includes("401") }).toEqual({ path, method, has401: true });
        if (path.includes("{")) expect({ path, method, has404: statuses.includes("404") }).toEqual({ path, method, has404: true });
      }
    }
    expect(Object.keys(op("/api/account", "get")!.responses)).toContain("403");
    expect(Object.keys(op("/api/models/reload", "post")!.responses)).toContain("403");
    expect(Object.keys(op("/api/portfolios", "get")!.responses)).not.toContain("403");
    expect(Object.keys(op("/api/portfolios", "post")!.responses)).toEqual(expect.arrayContaining(["201", "409"]));

    const limit = op("/api/portfolios/{id}/orders", "get")!.parameters!.find((p) => p.name === "limit")!;
    expect(limit).toMatchObject({ in: "query", schema: { type: "integer", minimum: 0, exclusiveMinimum: true, maximum: 1000 } });
    const id = op("/api/portfolios/{id}", "get")!.parameters!.find((p) => p.name === "id")!;
    expect(id).toMatchObject({ in: "path", schema: { type: "string", minLength: 1, maxLength: 64 } });
    const create = op("/api/portfolios", "post")!.requestBody!.content["application/json"]!.schema;
    // A field the handler checks as well as the validator: both schemas apply.
    expect(create).toMatchObject({ type: "object", required: ["id"], properties: { limits: { allOf: [{ type: "object" }, { additionalProperties: false }] } } });
    const register = op("/api/instruments", "post")!.requestBody!.content["application/json"]!.schema as { properties: Record<string, { allOf: OpenApiSchema[] }> };
    const [exchangeRule, exchangeKnown] = register.properties.exchange!.allOf;
    expect(exchangeRule).toMatchObject({ type: "string", pattern: expect.any(String) });
    expect(exchangeKnown!.enum).toEqual(expect.arrayContaining(["binance", "kraken"]));
    expect(new RegExp(register.properties.symbol!.allOf[1]!.pattern as string).test("BTC/BTC")).toBe(false);
    // The account limits are the handler's own checks ($$strict: false): only its fields, null clears one.
    const accountLimits = op("/api/account/limits", "patch")!.requestBody!.content["application/json"]!.schema;
    expect(accountLimits).toMatchObject({ additionalProperties: false, properties: { maxOpenOrders: { nullable: true } } });
  });
});
