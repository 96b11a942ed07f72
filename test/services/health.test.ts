/**
 * `/api/health` is readiness: 503 while a service or a route is missing, then 200, `ok` or
 * `degraded` with the causes; `/api/health/live` is liveness. While the gateway starts, a known
 * route answers 503 STARTING with Retry-After, never 404.
 */
import type { AddressInfo } from "node:net";
import { ServiceBroker } from "moleculer";
import { SERVICE_SCHEMAS } from "../../services";
import { releaseBus } from "../../lib/bus";
import { DEFAULT_HEALTH_SETTINGS } from "../../lib/health";
import { startPlatform, tempDataDir, waitFor, TOKEN, type Platform } from "../helpers/platform";

jest.setTimeout(90_000);

describe("readiness while the platform starts", () => {
  it("answers 503 with the causes until every service and route is there, and no known route ever answers 404", async () => {
    const config = { dataDir: tempDataDir(), apiToken: TOKEN, port: 0, simSpeed: 60, marketData: "sim", kafkaBrokers: [] };
    const broker = new ServiceBroker({ logger: false, metadata: { config } });
    broker.createService(SERVICE_SCHEMAS.gateway);
    broker.createService(SERVICE_SCHEMAS.risk);
    // Risk waits for the exchange, which is added once the gateway listens.
    const starting = broker.start();
    const addExchange = () => broker.getLocalService("exchange") ?? broker.createService(SERVICE_SCHEMAS.exchange);
    try {
      const gateway = broker.getLocalService("gateway") as unknown as { server: { listening: boolean; address(): AddressInfo } };
      await waitFor(() => gateway.server.listening, "the gateway to listen");
      const base = `http://127.0.0.1:${gateway.server.address().port}/api`;
      const get = (route: string) => fetch(`${base}${route}`, { headers: { authorization: `Bearer ${TOKEN}` } });

      // Not ready: at first not even the health route is there (503 STARTING), then it names what is missing.
      const early = await waitFor(async () => {
        const res = await fetch(`${base}/health`);
        expect(res.status).toBe(503);
        const body = await res.json();
        return body.ready === false ? body : undefined;
      }, "the health route");
      expect(early).toMatchObject({ status: "unavailable", causes: expect.arrayContaining([expect.objectContaining({ kind: "routes_pending" })]) });
      expect((await fetch(`${base}/health/live`)).status).toBe(200);
      // A route not there yet answers "not yet", not "no such route".
      const notYet = await get("/portfolios");
      expect(notYet.status).toBe(503);
      expect(notYet.headers.get("retry-after")).toBe("1");
      expect(await notYet.json()).toMatchObject({ type: "STARTING", message: "the platform is starting; retry shortly" });

      addExchange();
      // From here until health says ready, the known routes answer 503 (not yet) or 200, never 404.
      const statuses = new Set<number>();
      let ready = false;
      while (!ready) {
        const [health, portfolios, topics] = await Promise.all([fetch(`${base}/health`), get("/portfolios"), get("/topics")]);
        statuses.add(portfolios.status).add(topics.status);
        ready = health.status === 200;
        if (!ready) expect(health.status).toBe(503);
        await new Promise((r) => setTimeout(r, 50)); // under the token's request rate limit
      }
      await starting;
      expect([...statuses].filter((s) => s !== 200 && s !== 503)).toEqual([]);
      // A client that starts once health is 200 is served at once.
      expect((await get("/portfolios")).status).toBe(200);
      expect((await get("/exchange/status")).status).toBe(200);
      expect((await get("/nope")).status).toBe(404);
      expect(await (await fetch(`${base}/health`)).json()).toMatchObject({ status: "ok", ready: true, causes: [], services: ["exchange", "gateway", "risk"] });
    } finally {
      addExchange();
      await starting.catch(() => undefined);
      await releaseBus(broker);
      await broker.stop();
    }
  });
});

describe("health of the pipeline", () => {
  let platform: Platform;

  beforeAll(async () => {
    // No ingestion, so a registered instrument does not stream until the test starts it.
    platform = await startPlatform({ services: ["exchange", "risk", "gateway"], config: { simSpeed: 60, health: { ...DEFAULT_HEALTH_SETTINGS, marketDataStaleMs: 1500 } } });
  });
  afterAll(async () => {
    await platform?.stop();
  });

  it("is degraded, naming the instrument, while an enabled instrument gets no market data, and ok once it streams", async () => {
    expect((await platform.api("GET", "/api/health", undefined, null)).body).toMatchObject({ status: "ok", ready: true, causes: [] });
    await platform.broker.call("risk.registerInstrument", { exchange: "binance", symbol: "BTC/USDT" });
    const degraded = await waitFor(async () => {
      const res = await platform.api("GET", "/api/health", undefined, null);
      return res.body.status === "degraded" ? res : undefined;
    }, "health to notice the silent instrument", 15_000);
    // Degraded is still ready: a load balancer keeps the gateway in rotation.
    expect(degraded.status).toBe(200);
    expect(degraded.body.causes).toEqual([
      { kind: "market_data_stale", subject: "binance:BTC/USDT", message: expect.stringMatching(/^binance:BTC\/USDT is enabled but not streaming/) },
    ]);

    await platform.broker.call("exchange.startMarketDataStream", { instrumentKey: "binance:BTC/USDT" });
    const healed = await waitFor(async () => {
      const res = await platform.api("GET", "/api/health", undefined, null);
      return res.body.status === "ok" ? res : undefined;
    }, "health to be ok once market data flows", 15_000);
    expect(healed.body.causes).toEqual([]);
    const status = (await platform.api("GET", "/api/exchange/status")).body;
    expect(status.marketActivity.instruments).toEqual([expect.objectContaining({ instrumentKey: "binance:BTC/USDT", idleMs: expect.any(Number) })]);
    expect(status.marketActivity.instruments[0].idleMs).toBeLessThan(1500);
  });

  it("answers liveness without a token", async () => {
    const live = await platform.api("GET", "/api/health/live", undefined, null);
    expect(live).toMatchObject({ status: 200, body: { status: "alive" } });
  });
});
