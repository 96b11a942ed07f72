import fs from "node:fs";
import path from "node:path";
import { ApiAuth, OPERATOR, PORTFOLIO_ID, canSee, parseTraderTokens, portfolioIdRefusal, principalKey, principalOf, resolveApiToken } from "../../lib/auth";
import { tempDataDir } from "../helpers/wait";

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

describe("the operator's token file", () => {
  it("is generated once, owner-only, and read back on the next start", () => {
    const dir = tempDataDir();
    const first = resolveApiToken(dir);
    expect(first.generated).toBe(true);
    expect(fs.statSync(path.join(dir, "api-token")).mode & 0o777).toBe(0o600);
    expect(resolveApiToken(dir)).toEqual({ token: first.token, generated: false });
  });

  it("is refused when the group or others can read it, saying how to fix it", () => {
    const dir = tempDataDir();
    const file = path.join(dir, "api-token");
    fs.writeFileSync(file, "some-operator-token\n");
    fs.chmodSync(file, 0o644);
    expect(() => resolveApiToken(dir)).toThrow(`The API token file ${file} is readable by others (mode 644); run \`chmod 600 ${file}\``);
    fs.chmodSync(file, 0o640);
    expect(() => resolveApiToken(dir)).toThrow(/mode 640/);
    fs.chmodSync(file, 0o600);
    expect(resolveApiToken(dir)).toEqual({ token: "some-operator-token", generated: false });
  });

  it("is refused when empty, rather than accepting no token", () => {
    const dir = tempDataDir();
    fs.writeFileSync(path.join(dir, "api-token"), "\n", { mode: 0o600 });
    expect(() => resolveApiToken(dir)).toThrow(/is empty/);
  });

  it("is not read when API_TOKEN is set", () => {
    const dir = tempDataDir();
    fs.writeFileSync(path.join(dir, "api-token"), "ignored\n", { mode: 0o644 });
    expect(resolveApiToken(dir, "configured")).toEqual({ token: "configured", generated: false });
  });
});

describe("principalKey", () => {
  it("names the operator and each trader apart", () => {
    const keys = [OPERATOR, { role: "trader", traderId: "alice" } as const, { role: "trader", traderId: "bob" } as const].map(principalKey);
    expect(new Set(keys).size).toBe(3);
    expect(principalKey({ role: "trader", traderId: "alice" })).toBe(principalKey({ role: "trader", traderId: "alice" }));
  });
});
