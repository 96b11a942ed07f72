/**
 * While the platform is starting, the gateway already listens but the other services have not
 * added their routes yet: an API route answers 503 "starting" then, never 404 "no such route".
 */
import type { AddressInfo } from "node:net";
import { ServiceBroker } from "moleculer";
import { SERVICE_SCHEMAS } from "../../services";
import { releaseBus } from "../../lib/bus";
import { tempDataDir, waitFor, TOKEN } from "../helpers/platform";

jest.setTimeout(60_000);

describe("gateway during start-up", () => {
  it("answers 503 with Retry-After until the platform is up, then serves the route", async () => {
    const config = { dataDir: tempDataDir(), apiToken: TOKEN, port: 0, simSpeed: 60, marketData: "sim", kafkaBrokers: [] };
    const broker = new ServiceBroker({ logger: false, metadata: { config } });
    // Without exchange, risk waits for it and the broker cannot finish starting.
    broker.createService(SERVICE_SCHEMAS.gateway);
    broker.createService(SERVICE_SCHEMAS.risk);
    const starting = broker.start();
    const addExchange = () => broker.getLocalService("exchange") ?? broker.createService(SERVICE_SCHEMAS.exchange);
    try {
      const gateway = broker.getLocalService("gateway") as unknown as { server: { listening: boolean; address(): AddressInfo } };
      await waitFor(() => gateway.server.listening, "the gateway to listen");
      const url = `http://127.0.0.1:${gateway.server.address().port}/api/portfolios`;
      const get = () => fetch(url, { headers: { authorization: `Bearer ${TOKEN}` } });
      const early = await get();
      expect(early.status).toBe(503);
      expect(early.headers.get("retry-after")).toBe("1");
      expect(await early.json()).toMatchObject({ type: "STARTING", message: "the platform is starting; retry shortly" });

      addExchange();
      await starting;
      await waitFor(async () => (await get()).status === 200, "the route once the platform is up");
      // Still a plain 404 for a route that does not exist.
      expect((await fetch(url.replace("/portfolios", "/nope"), { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(404);
    } finally {
      addExchange(); // lets the start finish, so a failed check does not leave it hanging
      await starting.catch(() => undefined);
      await releaseBus(broker);
      await broker.stop();
    }
  });
});
