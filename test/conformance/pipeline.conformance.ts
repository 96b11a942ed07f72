/**
 * The pipeline conformance suite, run on the embedded default and on the distributed adapters
 * (Kafka + MongoDB): register BTC/USDT through the REST API, watch market data become indicators,
 * signals, two risk stages, an approved trade, an order and a fill, see `portfolio.updated`, read
 * the portfolio back through the API; then halt and see `halted`.
 */
import { PIPELINE_TOPICS, type PortfolioSnapshot, TOPICS } from "../../schemas";
import { readEnvelope } from "../../lib/bus/envelope";
import type { Subscription } from "../../lib/bus/types";
import { startPlatform, waitFor, type Platform } from "../helpers/platform";
import type { PlatformConfig } from "../../lib/config";

export function pipelineConformance(mode: string, config: () => Partial<PlatformConfig>): void {
describe(`trading pipeline: ${mode}`, () => {
  let platform: Platform;
  let updates: PortfolioSnapshot[];
  let watcher: Subscription;

  beforeAll(async () => {
    // SIM_SPEED 300, as in the multi-process tests: at the default test speed (3000) the simulator makes
    // about 8,500 events a second, more than the pipeline consumes on a busy 2-core runner (seen in CI, in
    // both modes); the lag passes the 5 s stale-data limit and every signal is rejected as stale_data
    // before the kill switch can be seen.
    platform = await startPlatform({ config: { simSpeed: 300, ...config() } });
    updates = [];
    watcher = await platform.bus.subscribe({ topics: [TOPICS.portfolioUpdated],
      group: "e2e-watcher",
      handler: async (m) => void updates.push(readEnvelope(TOPICS.portfolioUpdated, m).payload),
    });
  });

  afterAll(async () => {
    await watcher?.close();
    await platform?.stop();
  });

  it("answers health without a token and refuses other routes without the right one", async () => {
    const health = await platform.api("GET", "/api/health", undefined, null);
    expect(health.status).toBe(200);
    expect(health.body.services).toEqual(["exchange", "execution", "features", "gateway", "ingestion", "prediction", "risk"]);
    expect((await platform.api("GET", "/api/portfolios", undefined, null)).status).toBe(401);
    expect((await platform.api("GET", "/api/portfolios", undefined, "wrong")).status).toBe(401);
  });

  it("rejects bad input with 422 naming the field and the reason", async () => {
    const badSymbol = await platform.api("POST", "/api/instruments", { exchange: "binance", symbol: "btcusdt" });
    expect(badSymbol.status).toBe(422);
    expect(badSymbol.body.data[0].field).toBe("symbol");
    const noPortfolio = await platform.api("POST", "/api/instruments", { exchange: "binance", symbol: "BTC/USDT", portfolioId: "nope" });
    expect(noPortfolio.status).toBe(422);
    expect(noPortfolio.body.data[0]).toMatchObject({ field: "portfolioId", message: 'portfolio "nope" does not exist' });
    const badLimits = await platform.api("PATCH", "/api/portfolios/default/limits", { maxDrawdown: "2", maxOpenOrders: -1 });
    expect(badLimits.status).toBe(422);
    expect(badLimits.body.data.map((e: { field: string }) => e.field).sort()).toEqual(["maxDrawdown", "maxOpenOrders"]);
    expect((await platform.api("GET", "/api/portfolios/missing")).status).toBe(404);
  });

  it("registers BTC/USDT (201, idempotent) and trades it through every topic to a fill", async () => {
    const created = await platform.api("POST", "/api/instruments", { exchange: "binance", symbol: "BTC/USDT", portfolioId: "default" });
    expect(created.status).toBe(201);
    expect(created.body.instrumentKey).toBe("binance:BTC/USDT");
    const again = await platform.api("POST", "/api/instruments", { exchange: "binance", symbol: "BTC/USDT", portfolioId: "default" });
    expect(again.status).toBe(200);
    expect(again.body.instrumentKey).toBe("binance:BTC/USDT");
    expect((await platform.api("GET", "/api/instruments")).body).toHaveLength(1);

    const fills = await waitFor(async () => {
      const res = await platform.api("GET", "/api/portfolios/default/fills");
      return res.body.length > 0 ? res.body : undefined;
    }, "a fill");
    expect(fills[0]).toMatchObject({ portfolioId: "default", instrumentKey: "binance:BTC/USDT", feeCurrency: "USDT" });
    expect(fills[0].price).toMatch(/^[0-9]+(\.[0-9]+)?$/);

    await waitFor(() => updates.some((u) => u.cause === "fill"), "portfolio.updated after a fill");
    const portfolio = (await platform.api("GET", "/api/portfolios/default")).body;
    expect(portfolio.cash).not.toBe("10000");
    expect(Number(portfolio.fees)).toBeGreaterThan(0);
    expect(portfolio.halted).toBe(false);

    const topics = await waitFor(async () => {
      const list = (await platform.api("GET", "/api/topics")).body as Array<{ topic: string; messages: number; key: string }>;
      const quiet = list.filter((t) => PIPELINE_TOPICS.includes(t.topic as never) && t.topic !== TOPICS.tradesRejected && t.messages === 0);
      return quiet.length === 0 ? list : undefined;
    }, "traffic on every topic");
    expect(topics.find((t) => t.topic === TOPICS.marketRawData)!.key).toBe("instrument_key");
    expect(topics.find((t) => t.topic === TOPICS.ordersFills)!.key).toBe("portfolio_key");

    const orders = (await platform.api("GET", "/api/portfolios/default/orders")).body;
    expect(orders.length).toBeGreaterThan(0);
    expect(orders[0].clientOrderId).toMatch(/^tbp[0-9a-f]{29}$/);
    const approved = (await platform.api("GET", "/api/portfolios/default/decisions?outcome=approved")).body;
    expect(approved[0]).toMatchObject({ outcome: "approved", stage: 2 });
    expect(approved[0].signal.strategy).toBe("rsi-macd");

    const candles = (await platform.api("GET", "/api/market/candles?instrument=binance:BTC/USDT&timeframe=1m&limit=50")).body;
    expect(candles).toHaveLength(50);
    expect(candles[1].openTime - candles[0].openTime).toBe(60000);
    const indicators = (await platform.api("GET", "/api/market/indicators?instrument=binance:BTC/USDT&limit=5")).body;
    expect(indicators[0].features.rsi14).toBeGreaterThan(0);
    const signals = (await platform.api("GET", "/api/signals?instrument=binance:BTC/USDT")).body;
    expect(signals.length).toBeGreaterThan(0);
  });

  it("rejects new signals with reason halted after the kill switch, and resumes", async () => {
    const halted = await platform.api("POST", "/api/portfolios/default/halt");
    expect(halted.status).toBe(200);
    expect(halted.body.halted).toBe(true);
    const haltedAt = Date.now();
    const rejection = await waitFor(async () => {
      const res = await platform.api("GET", "/api/portfolios/default/decisions?outcome=rejected&reason=halted");
      if (res.body.length > 0) return res.body[0];
      // Say what the risk stages decided meanwhile, so that a timeout names the reason that came instead.
      const recent = (await platform.api("GET", "/api/portfolios/default/decisions?limit=20")).body as Array<{ outcome: string; reason?: string; decidedAt: number }>;
      const since = recent.filter((d) => d.decidedAt >= haltedAt).map((d) => d.reason ?? d.outcome);
      throw new Error(`decisions since the halt: ${since.length ? since.join(", ") : "none"}`);
    }, "a halted rejection");
    expect(rejection).toMatchObject({ outcome: "rejected", reason: "halted", stage: 2 });
    const resumed = await platform.api("POST", "/api/portfolios/default/resume");
    expect(resumed.body.halted).toBe(false);
  });

  it("publishes an OpenAPI document of the routes", async () => {
    const doc = (await platform.api("GET", "/api/openapi.json")).body;
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining([
      "/api/health", "/api/instruments", "/api/instruments/{instrumentKey}", "/api/portfolios", "/api/portfolios/{id}",
      "/api/portfolios/{id}/limits", "/api/portfolios/{id}/halt", "/api/portfolios/{id}/resume", "/api/portfolios/{id}/orders",
      "/api/portfolios/{id}/fills", "/api/portfolios/{id}/decisions", "/api/market/candles", "/api/market/indicators",
      "/api/signals", "/api/topics", "/api/openapi.json",
    ]));
    expect(doc.paths["/api/instruments"].post.requestBody.content["application/json"].schema.required).toEqual(["exchange", "symbol"]);
  });
});
}
