/**
 * Traders with tokens of their own (TRADER_TOKENS), over the REST API and the live stream: each
 * sees and acts on the portfolios they own, another's answers 404, and the operator (API_TOKEN)
 * sees everything.
 */
import { startPlatform, waitFor, TOKEN, type Platform } from "../helpers/platform";
import { find, openStream, type OpenStream } from "../helpers/sse";

jest.setTimeout(120_000);

const ALICE = "alice-token-0123456789";
const BOB = "bob-token-0123456789ab";

describe("traders: one cannot read or change another's portfolio", () => {
  let platform: Platform;
  const as = (token: string) => (method: string, url: string, body?: unknown) => platform.api(method, url, body, token);
  const alice = () => as(ALICE);
  const bob = () => as(BOB);
  const operator = () => as(TOKEN);

  beforeAll(async () => {
    // An allowance above START_CASH (10000, each trader's own portfolio) leaves room for alice.swing.
    platform = await startPlatform({ config: { traderTokens: { alice: ALICE, bob: BOB }, traderAllowance: "10500" } });
  });

  afterAll(async () => {
    await platform?.stop();
  });

  it("gives each trader a portfolio of their own on first call, and lists only theirs", async () => {
    const mine = await alice()("GET", "/api/portfolios");
    expect(mine.status).toBe(200);
    expect(mine.body.map((p: { portfolioId: string; owner?: string }) => [p.portfolioId, p.owner])).toEqual([["alice", "alice"]]);
    expect((await bob()("GET", "/api/portfolios")).body.map((p: { portfolioId: string }) => p.portfolioId)).toEqual(["bob"]);
    const all = (await operator()("GET", "/api/portfolios")).body.map((p: { portfolioId: string }) => p.portfolioId).sort();
    expect(all).toEqual(["alice", "bob", "default"]);
    expect((await alice()("GET", "/api/portfolios/alice")).body).toMatchObject({ portfolioId: "alice", owner: "alice", cash: "10000" });
  });

  it("answers 404 for another's portfolio on every route, reading or changing", async () => {
    const routes: Array<[string, string, unknown?]> = [
      ["GET", "/api/portfolios/bob"],
      ["GET", "/api/portfolios/default"],
      ["GET", "/api/portfolios/bob/orders"],
      ["GET", "/api/portfolios/bob/fills"],
      ["GET", "/api/portfolios/bob/decisions"],
      ["GET", "/api/portfolios/bob/equity"],
      ["PATCH", "/api/portfolios/bob/limits", { maxOpenOrders: 1 }],
      ["POST", "/api/portfolios/bob/halt"],
      ["POST", "/api/portfolios/bob/resume"],
    ];
    for (const [method, url, body] of routes) {
      const res = await alice()(method, url, body);
      expect([method, url, res.status]).toEqual([method, url, 404]);
    }
    // Nothing changed: bob's portfolio is as it was.
    const bobs = (await bob()("GET", "/api/portfolios/bob")).body;
    expect(bobs.halted).toBe(false);
    expect(bobs.limits.maxOpenOrders).not.toBe(1);
    expect((await operator()("GET", "/api/portfolios/bob")).status).toBe(200);
  });

  it("keeps a trader's new portfolios in their namespace", async () => {
    const squat = await alice()("POST", "/api/portfolios", { id: "carol" });
    expect(squat.status).toBe(422);
    expect(squat.body.data[0]).toMatchObject({ field: "id" });
    expect(squat.body.data[0].message).toMatch(/must be "alice" or start with "alice\."/);
    const created = await alice()("POST", "/api/portfolios", { id: "alice.swing", startCash: "500" });
    expect(created.status).toBe(201);
    expect((await alice()("GET", "/api/portfolios/alice.swing")).body).toMatchObject({ owner: "alice", cash: "500" });
    expect((await bob()("GET", "/api/portfolios/alice.swing")).status).toBe(404);
  });

  it("registers into the trader's own portfolio, refuses another's, and shows only theirs on an instrument", async () => {
    const refused = await alice()("POST", "/api/instruments", { exchange: "binance", symbol: "BTC/USDT", portfolioId: "bob" });
    expect(refused.status).toBe(422);
    expect(refused.body.data[0]).toMatchObject({ field: "portfolioId", message: 'portfolio "bob" does not exist' });
    const registered = await alice()("POST", "/api/instruments", { exchange: "binance", symbol: "BTC/USDT" });
    expect(registered.status).toBe(201);
    expect(registered.body.portfolioIds).toEqual(["alice"]);
    expect((await operator()("POST", "/api/instruments", { exchange: "binance", symbol: "BTC/USDT" })).body.portfolioIds).toEqual(["alice", "default"]);
    const seenByBob = (await bob()("GET", "/api/instruments")).body;
    expect(seenByBob).toHaveLength(1);
    expect(seenByBob[0]).toMatchObject({ instrumentKey: "binance:BTC/USDT", portfolioIds: [] });
  });

  it("streams a trader their own portfolio's events only, and market events to everyone", async () => {
    const streams: Record<string, OpenStream> = {
      alice: await openStream(platform.baseUrl, { authorization: `Bearer ${ALICE}` }),
      bob: await openStream(platform.baseUrl, { authorization: `Bearer ${BOB}` }),
      operator: await openStream(platform.baseUrl, { authorization: `Bearer ${TOKEN}` }),
    };
    try {
      const fill = await waitFor(() => find(streams.alice!, "fill"), "a fill on alice's stream", 90_000);
      expect(fill.portfolioId).toBe("alice");
      await waitFor(() => find(streams.operator!, "fill", (f) => f.portfolioId === "default"), "a fill of default on the operator's stream", 90_000);
      await waitFor(() => find(streams.bob!, "signal"), "a signal on bob's stream");
      await waitFor(() => find(streams.alice!, "portfolio", (p) => p.cause === "fill"), "alice's portfolio after the fill");
      const portfolioScoped = (name: string) =>
        streams[name]!.events.flatMap((e) => (e.event === "portfolio" || e.event === "fill" || e.event === "decision" ? [e.data.portfolioId] : []));
      expect(new Set(portfolioScoped("alice"))).toEqual(new Set(["alice"]));
      expect(portfolioScoped("bob").filter((id) => id !== "bob")).toEqual([]);
      expect(portfolioScoped("operator")).toEqual(expect.arrayContaining(["alice", "default"]));
    } finally {
      for (const stream of Object.values(streams)) stream.close();
    }
  });

  it("lets a trader stop an instrument for their portfolios only, and not switch the platform's model", async () => {
    const removed = await alice()("DELETE", `/api/instruments/${encodeURIComponent("binance:BTC/USDT")}`);
    expect(removed.status).toBe(200);
    expect(removed.body.portfolioIds).toEqual([]);
    const seen = (await operator()("GET", "/api/instruments")).body;
    expect(seen[0]).toMatchObject({ portfolioIds: ["default"], enabled: true });
    expect((await alice()("DELETE", `/api/instruments/${encodeURIComponent("binance:BTC/USDT")}?portfolioId=default`)).status).toBe(404);

    const reload = await alice()("POST", "/api/models/reload", { strategy: "rule" });
    expect(reload.status).toBe(403);
    expect((await operator()("POST", "/api/models/reload", { strategy: "rule" })).status).toBe(200);
  });
});
