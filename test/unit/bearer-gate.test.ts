/** The bearer token check of the REST API on a ManualClock: who the caller is, the wrong-token throttle per address, the request budget per token. */
import { ApiAuth, OPERATOR } from "../../lib/auth";
import { ManualClock } from "../../lib/clock";
import { loadConfig, type ApiLimits } from "../../lib/config";
import { BearerGate } from "../../lib/http/guards";

const OPERATOR_TOKEN = "operator-token-0123456789";
const ALICE_TOKEN = "alice-token-0123456789";
const limits: ApiLimits = { ...loadConfig({}).apiLimits, requestsPerSecond: 2, requestBurst: 3, authFailures: 2, authFailureWindowMs: 60_000 };

function gate() {
  const clock = new ManualClock(1_000_000);
  const warnings: string[] = [];
  const bearer = new BearerGate(new ApiAuth(OPERATOR_TOKEN, { alice: ALICE_TOKEN }), limits, clock, (line) => warnings.push(line));
  return { clock, warnings, bearer };
}

/** The error admit throws, as the fields the API answers with. */
const refusal = (admit: () => unknown) => {
  try {
    admit();
  } catch (err) {
    const { code, type, data } = err as { code: number; type: string; data?: unknown };
    return { code, type, data };
  }
  return undefined;
};

describe("bearer gate", () => {
  it("names the caller of a right token and answers 401 without one or with a wrong one", () => {
    const { bearer, warnings } = gate();
    expect(bearer.admit(`Bearer ${OPERATOR_TOKEN}`, "10.0.0.1", "GET /api/topics")).toEqual(OPERATOR);
    expect(bearer.admit(`bearer ${ALICE_TOKEN}`, "10.0.0.1", "GET /api/topics")).toEqual({ role: "trader", traderId: "alice" });
    expect(refusal(() => bearer.admit(undefined, "10.0.0.1", "GET /api/topics"))).toEqual({ code: 401, type: "UNAUTHORIZED", data: undefined });
    // Only a token sent counts as a wrong one, and its line names the address and the route, never the token.
    expect(warnings).toEqual([]);
    expect(refusal(() => bearer.admit("Bearer guess-1", "10.0.0.1", "GET /api/topics"))).toMatchObject({ code: 401 });
    expect(warnings).toEqual(["wrong bearer token from 10.0.0.1 on GET /api/topics"]);
  });

  it("refuses an address that sent too many wrong tokens, even with a right one, until the window has passed", () => {
    const { bearer, clock, warnings } = gate();
    refusal(() => bearer.admit("Bearer guess-1", "10.0.0.2", "GET /api/portfolios"));
    clock.advance(10_000);
    refusal(() => bearer.admit("Bearer guess-2", "10.0.0.2", "GET /api/portfolios"));
    expect(warnings[1]).toBe("wrong bearer token from 10.0.0.2 on GET /api/portfolios; 2 within 60 s, the address is refused for now");
    // The first failure leaves the window 50 s from now.
    expect(refusal(() => bearer.admit(`Bearer ${OPERATOR_TOKEN}`, "10.0.0.2", "GET /api/portfolios"))).toEqual({ code: 429, type: "AUTH_THROTTLED", data: { retryAfterSeconds: 50 } });
    expect(bearer.admit(`Bearer ${OPERATOR_TOKEN}`, "10.0.0.3", "GET /api/portfolios")).toEqual(OPERATOR);
    clock.advance(50_000);
    expect(bearer.admit(`Bearer ${OPERATOR_TOKEN}`, "10.0.0.2", "GET /api/portfolios")).toEqual(OPERATOR);
  });

  it("holds each token to its burst, then to its rate, apart from other tokens", () => {
    const { bearer, clock } = gate();
    const alice = () => bearer.admit(`Bearer ${ALICE_TOKEN}`, "10.0.0.4", "GET /api/portfolios");
    for (let i = 0; i < limits.requestBurst; i++) expect(alice()).toMatchObject({ traderId: "alice" });
    // 2 a second: the next request may come in half a second, which the answer rounds up to 1 s.
    expect(refusal(alice)).toEqual({ code: 429, type: "RATE_LIMITED", data: { retryAfterSeconds: 1 } });
    expect(bearer.admit(`Bearer ${OPERATOR_TOKEN}`, "10.0.0.4", "GET /api/portfolios")).toEqual(OPERATOR);
    clock.advance(500);
    expect(alice()).toMatchObject({ traderId: "alice" });
    expect(refusal(alice)).toMatchObject({ code: 429 });
  });
});
