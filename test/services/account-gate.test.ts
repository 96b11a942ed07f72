/**
 * The account-wide risk gate on an in-process broker (exchange and risk only, so approved orders
 * stay working): limits over all portfolios together, the account kill switch, and who may change them.
 */
import { startPlatform, waitFor, type Platform } from "../helpers/platform";
import { publishSignal, signal } from "../helpers/signals";

jest.setTimeout(60000);

type Decision = { outcome: string; reason?: string; stage: number; signal: { signalId: string } };

describe("account-wide risk gate", () => {
  let platform: Platform;
  let dataDir: string;
  const PORTFOLIOS = ["p1", "p2"];

  beforeAll(async () => {
    platform = await startPlatform({ services: ["exchange", "risk"] });
    dataDir = platform.dataDir;
    for (const id of PORTFOLIOS) {
      await platform.broker.call("risk.createPortfolio", { id, startCash: "5000" });
      await platform.broker.call("risk.registerInstrument", { exchange: "binance", symbol: "BTC/USDT", portfolioId: id });
    }
  });

  afterAll(async () => {
    await platform?.stop();
  });

  const call = <T>(action: string, params: Record<string, unknown> = {}) => platform.broker.call<T, Record<string, unknown>>(`risk.${action}`, params);
  /** Each portfolio's decision on the signal, once both are made. */
  async function decided(signalId: string): Promise<Decision[]> {
    return waitFor(async () => {
      const found = await Promise.all(PORTFOLIOS.map(async (id) => (await call<Decision[]>("listDecisions", { id })).find((d) => d.signal.signalId === signalId)));
      return found.every(Boolean) ? (found as Decision[]) : undefined;
    }, `both decisions on ${signalId}`);
  }

  it("is on from the start, with limits derived from the portfolios' start cash and count", async () => {
    // default 10000 + p1 5000 + p2 5000; 5 working orders (the default per portfolio) × 3 portfolios.
    expect(await call("getAccount")).toMatchObject({ limits: {}, effectiveLimits: { maxExposure: "20000", maxOpenOrders: 15 } });
  });

  it("lets only one of two portfolios take the last room under the account's exposure limit", async () => {
    expect(await call("setAccountLimits", { maxExposure: "1500" })).toMatchObject({ limits: { maxExposure: "1500" }, effectiveLimits: { maxExposure: "1500" }, exposure: "0", openOrders: 0 });
    await publishSignal(platform.bus, signal("a-1"));
    const both = await decided("a-1");
    // Each BUY is ~1000 USDT: whichever portfolio decides second finds the first's order counted.
    expect(both.map((d) => d.outcome).sort()).toEqual(["approved", "rejected"]);
    expect(both.find((d) => d.outcome === "rejected")).toMatchObject({ reason: "account_max_exposure", stage: 2 });
    const account = await call<{ exposure: string; openOrders: number }>("getAccount");
    expect(account.openOrders).toBe(1);
    expect(Number(account.exposure)).toBeGreaterThan(900);
  });

  it("counts working orders over the whole account", async () => {
    await call("setAccountLimits", { maxExposure: null, maxOpenOrders: 1 });
    // null returns maxExposure to its derived default.
    expect(await call("getAccount")).toMatchObject({ limits: { maxOpenOrders: 1 }, effectiveLimits: { maxExposure: "20000", maxOpenOrders: 1 } });
    await publishSignal(platform.bus, signal("a-2"));
    for (const d of await decided("a-2")) expect(d).toMatchObject({ outcome: "rejected", reason: "account_max_open_orders", stage: 2 });
  });

  it("halts every portfolio, SELLs included, and resumes", async () => {
    await call("setAccountLimits", { maxOpenOrders: null });
    expect(await call("haltAccount", { reason: "exchange incident" })).toMatchObject({ halted: true, haltReason: "exchange incident" });
    await publishSignal(platform.bus, signal("a-3"));
    await publishSignal(platform.bus, signal("a-3s", { action: "SELL" }));
    for (const id of ["a-3", "a-3s"]) {
      for (const d of await decided(id)) expect(d).toMatchObject({ outcome: "rejected", reason: "account_halted", stage: 2 });
    }
    const resumed = await call<{ halted: boolean; haltReason?: string }>("resumeAccount");
    expect(resumed.halted).toBe(false);
    expect(resumed.haltReason).toBeUndefined();
    await publishSignal(platform.bus, signal("a-4"));
    expect((await decided("a-4")).map((d) => d.outcome)).toEqual(["approved", "approved"]);
  });

  it("validates the limits per field and keeps the account for the operator", async () => {
    const invalid = await call("setAccountLimits", { maxExposure: "-1", maxOpenOrders: 1.5, other: 1 }).catch((e: { code: number; data: Array<{ field: string }> }) => e);
    expect((invalid as { code: number }).code).toBe(422);
    expect((invalid as { data: Array<{ field: string }> }).data.map((e) => e.field).sort()).toEqual(["maxExposure", "maxOpenOrders", "other"]);
    const trader = { meta: { principal: { role: "trader", traderId: "p1" } } };
    for (const action of ["getAccount", "haltAccount", "resumeAccount", "setAccountLimits"]) {
      const refused = (await platform.broker.call(`risk.${action}`, {}, trader).catch((e: unknown) => e)) as { code?: number };
      expect([action, refused.code]).toEqual([action, 403]);
    }
  });

  it("keeps the account's switch and limits across a restart", async () => {
    await call("setAccountLimits", { maxExposure: "12345" });
    await call("haltAccount", { reason: "before restart" });
    await platform.stop();
    platform = await startPlatform({ services: ["exchange", "risk"], dataDir });
    expect(await call("getAccount")).toMatchObject({ halted: true, haltReason: "before restart", limits: { maxExposure: "12345" } });
  });
});
