/** What the gateway answers for a path no route serves, and which paths are the dashboard's pages. */
import type { AliasInfo } from "../../lib/openapi";
import { methodsServed, unroutedActions, unroutedAnswer } from "../../lib/http/routing";
import { isDashboardPage } from "../../lib/http/dashboard";

const aliases: AliasInfo[] = [
  { method: "GET", fullPath: "/api/portfolios/:id", re: /^\/api\/portfolios\/([^/]+?)$/i, action: "risk.getPortfolio" },
  { method: "POST", fullPath: "/api/portfolios/:id/halt", re: /^\/api\/portfolios\/([^/]+?)\/halt$/i, action: "risk.halt" },
  { method: "GET", fullPath: "/api/stream", re: /^\/api\/stream$/i, handler: () => undefined },
];

describe("unrouted API requests", () => {
  it("names the methods served at a path, ignoring the query and a trailing slash as moleculer-web does", () => {
    expect(methodsServed(aliases, "/api/portfolios/alice?x=1")).toEqual(["GET"]);
    expect(methodsServed(aliases, "/api/portfolios/alice/halt/")).toEqual(["POST"]);
    expect(methodsServed(aliases, "/api/nope")).toEqual([]);
  });

  it("answers 503 STARTING while the platform starts, else 405 with the methods a path has, else 404", () => {
    expect(unroutedAnswer("GET", [], true)).toEqual({
      status: 503,
      headers: { "Retry-After": "1" },
      body: { name: "ServiceUnavailableError", message: "the platform is starting; retry shortly", code: 503, type: "STARTING" },
    });
    expect(unroutedAnswer("DELETE", ["GET", "POST"], false)).toMatchObject({ status: 405, headers: { Allow: "GET, POST" }, body: { type: "METHOD_NOT_ALLOWED", message: "DELETE is not a method of this route; it has GET, POST" } });
    expect(unroutedAnswer("GET", [], false)).toMatchObject({ status: 404, headers: {}, body: { code: 404, type: "NOT_FOUND" } });
  });

  it("lists the REST actions of running services that have no route yet", () => {
    const actions = [
      { name: "risk.getPortfolio", action: { rest: "GET /portfolios/:id" } },
      { name: "risk.listOrders", action: { rest: "GET /portfolios/:id/orders" } },
      { name: "risk.provisionTrader", action: {} },
    ];
    expect(unroutedActions(aliases, actions)).toEqual(["risk.listOrders"]);
  });
});

describe("dashboard pages", () => {
  it("are GET or HEAD requests outside /api for paths without a file extension", () => {
    for (const [method, url] of [["GET", "/"], ["GET", "/market?instrument=binance%3ABTC%2FUSDT"], ["HEAD", "/portfolio/"], ["GET", "/decisions"]] as const) {
      expect([method, url, isDashboardPage(method, url)]).toEqual([method, url, true]);
    }
    for (const [method, url] of [["POST", "/market"], ["GET", "/assets/missing-1234.js"], ["GET", "/api"], ["GET", "/api/"], ["GET", "/api/index.html"]] as const) {
      expect([method, url, isDashboardPage(method, url)]).toEqual([method, url, false]);
    }
  });
});
