/**
 * Money belongs to the operator, over the REST API: a trader's start cash comes out of the
 * allowance the operator gives them, their limits stay under the operator's ceilings, and the hard
 * bounds hold for everyone. Also the quotas on portfolios and instruments and the simulator's
 * known exchange ids.
 */
import { startPlatform, waitFor, TOKEN, type Platform } from "../helpers/platform";
import type { PlatformConfig } from "../../lib/config";

jest.setTimeout(60_000);

const ALICE = "alice-token-0123456789";
const BOB = "bob-token-0123456789ab";

describe("trader budgets: allowances, ceilings and quotas", () => {
  let platform: Platform;
  const alice = (method: string, url: string, body?: unknown) => platform.api(method, url, body, ALICE);
  const bob = (method: string, url: string, body?: unknown) => platform.api(method, url, body, BOB);
  const operator = (method: string, url: string, body?: unknown) => platform.api(method, url, body, TOKEN);

  const CONFIG: Partial<PlatformConfig> = {
    traderTokens: { alice: ALICE, bob: BOB },
    startCash: "10000",
    traderAllowance: "12000",
    quotas: { instrumentsPerTrader: 2, instrumentsTotal: 4, portfoliosPerTrader: 3 },
  };
  /** A platform on this DATA_DIR, once the risk routes answer (they answer 503 STARTING until then). */
  async function start(config: Partial<PlatformConfig>, dataDir?: string) {
    platform = await startPlatform({ dataDir, services: ["exchange", "risk", "gateway"], config });
    await waitFor(async () => (await operator("GET", "/api/traders")).status === 200, "the traders route");
  }

  beforeAll(async () => {
    await start(CONFIG);
  });

  afterAll(async () => {
    await platform?.stop();
  });

  it("refuses alice.rich: start cash beyond the allowance, limits above the ceilings, each 422 on its field", async () => {
    const rich = await alice("POST", "/api/portfolios", { id: "alice.rich", startCash: "1000000000000" });
    expect(rich.status).toBe(422);
    // Alice's own portfolio took START_CASH (10000) of her 12000 on her first call.
    expect(rich.body.data).toEqual([expect.objectContaining({ field: "startCash", allowance: "12000", free: "2000" })]);
    expect(rich.body.data[0].message).toBe("1000000000000 exceeds the remaining allowance 2000 (allowance 12000, 10000 already allocated to the trader's portfolios)");

    const loose = await alice("POST", "/api/portfolios", {
      id: "alice.rich", startCash: "2000", limits: { maxOrderNotional: "1000000", maxDrawdown: "1", minConfidence: 0 },
    });
    expect(loose.status).toBe(422);
    expect(loose.body.data.map((e: { field: string; message: string }) => [e.field, e.message])).toEqual([
      ["limits.maxOrderNotional", "1000000 is above 5000, the ceiling the operator set for this trader"],
      ["limits.maxDrawdown", "1 is above 0.2, the ceiling the operator set for this trader"],
      ["limits.minConfidence", "0 is below 0.5, the lowest the operator allows this trader"],
    ]);
    expect((await alice("GET", "/api/portfolios/alice.rich")).status).toBe(404);

    const raise = await alice("PATCH", "/api/portfolios/alice/limits", { maxOrderNotional: "1000000000000" });
    expect(raise.status).toBe(422);
    // The hard bound speaks first: no one sets a notional above 1e9.
    expect(raise.body.data[0]).toMatchObject({ field: "maxOrderNotional" });
    const above = await alice("PATCH", "/api/portfolios/alice/limits", { maxOrderNotional: "5000.01" });
    expect(above.status).toBe(422);
    expect(above.body.data).toEqual([{ field: "maxOrderNotional", message: "5000.01 is above 5000, the ceiling the operator set for this trader" }]);
    const tighter = await alice("PATCH", "/api/portfolios/alice/limits", { maxOrderNotional: "3000", minConfidence: 0.7 });
    expect(tighter.status).toBe(200);
    expect(tighter.body).toMatchObject({ maxOrderNotional: "3000", minConfidence: 0.7 });

    const inBudget = await alice("POST", "/api/portfolios", { id: "alice.rich", startCash: "2000" });
    expect(inBudget.status).toBe(201);
    expect((await alice("GET", "/api/traders/alice")).body).toMatchObject({ allowance: "12000", used: "12000", free: "0", portfolioIds: ["alice", "alice.rich"] });
  });

  it("lets the operator, and only the operator, set a trader's allowance and ceilings; a trader reads their own", async () => {
    expect((await alice("PATCH", "/api/traders/alice", { allowance: "1000000" })).status).toBe(403);
    expect((await alice("GET", "/api/traders")).status).toBe(403);
    expect((await alice("GET", "/api/traders/bob")).status).toBe(404);

    const below = await operator("PATCH", "/api/traders/alice", { allowance: "11999" });
    expect(below.status).toBe(422);
    expect(below.body.data[0]).toMatchObject({ field: "allowance", message: "must be at least 12000, the start cash the trader's portfolios already hold" });
    const badCeiling = await operator("PATCH", "/api/traders/alice", { ceilings: { maxOpenOrders: 1.5, maxDrawdown: "1.5" } });
    expect(badCeiling.status).toBe(422);
    expect(badCeiling.body.data.map((e: { field: string }) => e.field)).toEqual(["ceilings.maxOpenOrders", "ceilings.maxDrawdown"]);

    const raised = await operator("PATCH", "/api/traders/alice", { allowance: "20000", ceilings: { maxOrderNotional: "8000", maxDrawdown: "1" } });
    expect(raised.status).toBe(200);
    expect(raised.body).toMatchObject({ traderId: "alice", allowance: "20000", used: "12000", free: "8000", ceilings: { maxOrderNotional: "8000", maxDrawdown: "1", maxOpenOrders: 5 } });
    // What the operator allows, the trader may now set; the operator's own bound (maxDrawdown 1) included.
    expect((await alice("PATCH", "/api/portfolios/alice/limits", { maxOrderNotional: "8000", maxDrawdown: "1" })).status).toBe(200);
    expect((await alice("GET", "/api/traders/alice")).body).toMatchObject({ allowance: "20000", free: "8000" });
    const all = (await operator("GET", "/api/traders")).body as Array<{ traderId: string; allowance: string }>;
    expect(all.map((t) => [t.traderId, t.allowance])).toEqual([["alice", "20000"], ["bob", "12000"]]);

    // Reset to the default: the ceiling of maxDrawdown is 0.2 again.
    expect((await operator("PATCH", "/api/traders/alice", { ceilings: { maxDrawdown: null } })).body.ceilings.maxDrawdown).toBe("0.2");
  });

  it("keeps the allowances and ceilings across a restart", async () => {
    await platform.stop();
    await start(CONFIG, platform.dataDir);
    expect((await operator("GET", "/api/traders/alice")).body).toMatchObject({ allowance: "20000", used: "12000", ceilings: { maxOrderNotional: "8000", maxDrawdown: "0.2" } });
  });

  it("caps the portfolios per trader with 429", async () => {
    expect((await alice("POST", "/api/portfolios", { id: "alice.three", startCash: "100" })).status).toBe(201);
    const fourth = await alice("POST", "/api/portfolios", { id: "alice.four", startCash: "100" });
    expect(fourth.status).toBe(429);
    expect(fourth.body).toMatchObject({ type: "QUOTA_EXCEEDED", message: "a trader may own at most 3 portfolios (PORTFOLIOS_PER_TRADER)" });
  });

  it("caps instruments per trader and in total with 429, counting a shared instrument once", async () => {
    const register = (as: typeof alice, symbol: string) => as("POST", "/api/instruments", { exchange: "binance", symbol });
    expect((await register(alice, "BTC/USDT")).status).toBe(201);
    expect((await register(alice, "ETH/USDT")).status).toBe(201);
    // Again into another of alice's portfolios: not a new instrument for her.
    const again = await alice("POST", "/api/instruments", { exchange: "binance", symbol: "ETH/USDT", portfolioId: "alice.rich" });
    expect([again.status, again.body.message]).toEqual([201, undefined]);
    const third = await register(alice, "SOL/USDT");
    expect(third.status).toBe(429);
    expect(third.body).toMatchObject({ type: "QUOTA_EXCEEDED", message: "a trader's portfolios trade at most 2 instruments (INSTRUMENTS_PER_TRADER)" });

    // Bob trading what alice trades adds nothing to the total (2 of 4).
    expect((await register(bob, "BTC/USDT")).status).toBe(201);
    expect((await register(bob, "SOL/USDT")).status).toBe(201);
    expect((await operator("POST", "/api/instruments", { exchange: "binance", symbol: "XRP/USDT" })).status).toBe(201);
    const fifth = await operator("POST", "/api/instruments", { exchange: "binance", symbol: "ADA/USDT" });
    expect(fifth.status).toBe(429);
    expect(fifth.body.message).toBe("the platform trades at most 4 instruments (INSTRUMENTS_MAX)");
    // Unregistering frees a place.
    expect((await operator("DELETE", `/api/instruments/${encodeURIComponent("binance:XRP/USDT")}`)).status).toBe(200);
    expect((await operator("POST", "/api/instruments", { exchange: "binance", symbol: "ADA/USDT" })).status).toBe(201);
    expect((await operator("GET", "/api/instruments")).body.filter((i: { enabled: boolean }) => i.enabled)).toHaveLength(4);
  });

  it("takes only ccxt's exchange ids and well-formed symbols in simulator mode, 422 on the field", async () => {
    await operator("DELETE", `/api/instruments/${encodeURIComponent("binance:ADA/USDT")}`);
    const madeUp = await operator("POST", "/api/instruments", { exchange: "abcdefghijklmnopqrstuvwxyzabcdef", symbol: "BTC/USDT" });
    expect(madeUp.status).toBe(422);
    expect(madeUp.body.data[0]).toMatchObject({ field: "exchange" });
    expect(madeUp.body.data[0].message).toMatch(/unknown exchange "abcdefghijklmnopqrstuvwxyzabcdef"/);
    const badSymbol = await operator("POST", "/api/instruments", { exchange: "kraken", symbol: "BTC/BTC" });
    expect(badSymbol.status).toBe(422);
    expect(badSymbol.body.data[0]).toMatchObject({ field: "symbol" });
    expect((await operator("POST", "/api/instruments", { exchange: "kraken", symbol: "BTC/USD" })).status).toBe(201);
  });

  it("answers a malformed or doubly encoded instrument key with 404, never 500", async () => {
    const malformed = await operator("DELETE", "/api/instruments/%25ZZ");
    expect(malformed.status).toBe(404);
    expect(malformed.body.message).toBe('instrument "%ZZ" not found');
    // Encoded twice, the key is not the instrument's: it is taken as sent, decoded once.
    expect((await operator("DELETE", `/api/instruments/${encodeURIComponent(encodeURIComponent("kraken:BTC/USD"))}`)).status).toBe(404);
    expect((await operator("DELETE", `/api/instruments/${encodeURIComponent("kraken:BTC/USD")}`)).status).toBe(200);
  });

  it("creates a trader's own portfolio only when a call needs it", async () => {
    const carol = "carol-token-0123456789";
    await platform.stop();
    await start({ traderTokens: { alice: ALICE, bob: BOB, carol }, traderAllowance: "3000" }, platform.dataDir);
    expect((await platform.api("GET", "/api/instruments", undefined, carol)).status).toBe(200);
    expect((await operator("GET", "/api/traders/carol")).body).toMatchObject({ portfolioIds: [], used: "0", free: "3000" });
    // Her first portfolio takes START_CASH, but never more than her allowance.
    const own = await platform.api("GET", "/api/portfolios", undefined, carol);
    expect(own.body).toEqual([expect.objectContaining({ portfolioId: "carol", cash: "3000" })]);
    expect((await operator("GET", "/api/traders/carol")).body).toMatchObject({ portfolioIds: ["carol"], used: "3000", free: "0" });
  });
});
