import { ApiAuth, OPERATOR, PORTFOLIO_ID, canSee, parseTraderTokens, portfolioIdRefusal, principalOf } from "../../lib/auth";

const ALICE = "alice-token-0123456789";
const BOB = "bob-token-0123456789ab";

describe("TRADER_TOKENS", () => {
  it("reads id:token pairs, and nothing from an unset or blank value", () => {
    expect(parseTraderTokens(undefined)).toEqual({});
    expect(parseTraderTokens("  ")).toEqual({});
    expect(parseTraderTokens(` alice:${ALICE} , bob:${BOB},`)).toEqual({ alice: ALICE, bob: BOB });
  });

  it.each([
    ["alice", /entry 1/],
    [`alice.x:${ALICE}`, /letters, digits/],
    [`:${ALICE}`, /letters, digits/],
    [`default:${ALICE}`, /"default" is the operator's/],
    ["alice:short", /at least 16 characters/],
    [`alice:${ALICE},alice:${BOB}`, /"alice" is listed twice/],
    [`alice:${ALICE},bob:${ALICE}`, /"bob" has the same token/],
  ])("refuses %s", (raw, message) => {
    expect(() => parseTraderTokens(raw)).toThrow(message);
  });

  it("never puts a token in its error", () => {
    let message = "";
    try {
      parseTraderTokens("alice:secret123");
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/trader "alice"/);
    expect(message).not.toContain("secret123");
  });
});

describe("ApiAuth", () => {
  const auth = new ApiAuth("operator-token", { alice: ALICE, bob: BOB });

  it("maps each bearer token to its principal", () => {
    expect(auth.authenticate("Bearer operator-token")).toEqual(OPERATOR);
    expect(auth.authenticate(`Bearer ${ALICE}`)).toEqual({ role: "trader", traderId: "alice" });
    expect(auth.authenticate(`bearer ${BOB}`)).toEqual({ role: "trader", traderId: "bob" });
  });

  it("refuses a wrong, partial or missing token", () => {
    expect(auth.authenticate("Bearer nope")).toBeUndefined();
    expect(auth.authenticate(`Bearer ${ALICE.slice(0, -1)}`)).toBeUndefined();
    expect(auth.authenticate(ALICE)).toBeUndefined();
    expect(auth.authenticate(undefined)).toBeUndefined();
  });

  it("refuses a trader token equal to the operator's", () => {
    expect(() => new ApiAuth(ALICE, { alice: ALICE })).toThrow(/equals API_TOKEN/);
  });
});

describe("portfolio ownership", () => {
  const alice = { role: "trader", traderId: "alice" } as const;

  it("lets the operator see every portfolio and a trader only theirs", () => {
    expect(canSee(OPERATOR, undefined)).toBe(true);
    expect(canSee(OPERATOR, "alice")).toBe(true);
    expect(canSee(alice, "alice")).toBe(true);
    expect(canSee(alice, "bob")).toBe(false);
    expect(canSee(alice, undefined)).toBe(false);
  });

  it("treats a call without a principal as internal (the operator's)", () => {
    expect(principalOf(undefined)).toEqual(OPERATOR);
    expect(principalOf({})).toEqual(OPERATOR);
    expect(principalOf({ principal: alice })).toEqual(alice);
  });

  it("keeps a trader's new portfolios in their namespace", () => {
    expect(portfolioIdRefusal(alice, "alice")).toBeUndefined();
    expect(portfolioIdRefusal(alice, "alice.swing")).toBeUndefined();
    expect(portfolioIdRefusal(alice, "bob")).toMatch(/must be "alice" or start with "alice\."/);
    expect(portfolioIdRefusal(alice, "alicex")).toBeDefined();
    expect(portfolioIdRefusal(OPERATOR, "bob")).toBeUndefined();
  });

  it("accepts portfolio ids of one optional dotted part, up to 64 characters", () => {
    for (const id of ["default", "alice", "alice.swing", "a_b-c.d"]) expect(PORTFOLIO_ID.test(id)).toBe(true);
    for (const id of ["", ".x", "x.", "a.b.c", "a/b", "x".repeat(65)]) expect(PORTFOLIO_ID.test(id)).toBe(false);
  });
});
