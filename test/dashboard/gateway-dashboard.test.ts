/**
 * The gateway's side of the dashboard, over HTTP: the built app at `/` with client-side routes,
 * the authenticated Server-Sent Events stream and what it pushes while the platform trades, the
 * recorded equity history, and streams ended on shutdown.
 */
import { once } from "node:events";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { startPlatform, waitFor, TOKEN, type Platform } from "../helpers/platform";
import { openStream, find } from "../helpers/sse";
import { buildDashboard } from "./build-dashboard";

jest.setTimeout(120_000);

describe("gateway: dashboard and live stream", () => {
  let platform: Platform;
  let stopped = false;
  let dist: string;

  beforeAll(async () => {
    dist = buildDashboard();
    platform = await startPlatform();
  });

  afterAll(async () => {
    if (!stopped) await platform?.stop();
  });

  it("serves the built dashboard at / and its hashed bundles with a long cache life", async () => {
    const index = await fetch(`${platform.baseUrl}/`);
    expect(index.status).toBe(200);
    expect(index.headers.get("content-type")).toMatch(/^text\/html/);
    expect(index.headers.get("cache-control")).toBe("no-cache");
    const html = await index.text();
    expect(html).toBe(fs.readFileSync(path.join(dist, "index.html"), "utf8"));
    const bundle = /src="(\/assets\/[^"]+\.js)"/.exec(html)![1]!;
    const asset = await fetch(`${platform.baseUrl}${bundle}`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect((await asset.text()).length).toBeGreaterThan(1000);
  });

  it("answers the dashboard's page paths with index.html, and keeps 404s for missing files and unknown API routes", async () => {
    for (const page of ["/market?instrument=binance%3ABTC%2FUSDT", "/portfolio/", "/decisions"]) {
      const res = await fetch(`${platform.baseUrl}${page}`);
      expect([page, res.status, res.headers.get("content-type")]).toEqual([page, 200, "text/html; charset=utf-8"]);
      expect(await res.text()).toContain('<div id="app">');
    }
    expect((await fetch(`${platform.baseUrl}/assets/missing-1234.js`)).status).toBe(404);
    expect((await fetch(`${platform.baseUrl}/market`, { method: "POST" })).status).toBe(404);
    for (const route of ["/api/no-such-route", "/api/", "/api/index.html"]) {
      const api = await platform.api("GET", route);
      expect([route, api.status, api.body?.type]).toEqual([route, 404, "NOT_FOUND"]);
    }
  });

  it("refuses the stream without the bearer token, also when the token is put in the URL", async () => {
    for (const stream of [
      await openStream(platform.baseUrl, {}),
      await openStream(platform.baseUrl, { authorization: "Bearer wrong" }),
      await openStream(platform.baseUrl, {}, `?token=${TOKEN}`),
    ]) {
      expect(stream.status).toBe(401);
    }
  });

  it("pushes candles with their indicators, signals, decisions, fills and portfolio updates as the platform trades", async () => {
    const stream = await openStream(platform.baseUrl, { authorization: `Bearer ${TOKEN}` });
    try {
      expect(stream.status).toBe(200);
      await waitFor(() => find(stream, "hello"), "hello");
      expect((await platform.api("POST", "/api/instruments", { exchange: "binance", symbol: "BTC/USDT", portfolioId: "default" })).status).toBe(201);

      const candle = await waitFor(() => find(stream, "candle", (c) => c.candle !== null), "a live candle with OHLCV");
      expect(candle.instrumentKey).toBe("binance:BTC/USDT");
      expect(candle.candle!.openTime).toBe(candle.indicators.openTime);
      expect(candle.candle!.close).toBe(candle.indicators.close);
      expect(candle.indicators.features.rsi14).toBeGreaterThan(0);
      expect(await waitFor(() => find(stream, "signal"), "a signal")).toMatchObject({ instrumentKey: "binance:BTC/USDT", strategy: "rsi-macd" });

      const fill = await waitFor(() => find(stream, "fill"), "a fill", 90_000);
      expect(fill).toMatchObject({ portfolioId: "default", instrumentKey: "binance:BTC/USDT" });
      const approval = find(stream, "decision", (d) => d.outcome === "approved" && d.clientOrderId === fill.clientOrderId);
      expect(approval).toMatchObject({ portfolioId: "default", strategy: "rsi-macd" });
      await waitFor(() => find(stream, "portfolio", (p) => p.cause === "fill"), "portfolio.updated after the fill");

      expect((await platform.api("POST", "/api/portfolios/default/halt", { reason: "stream test" })).status).toBe(200);
      expect(await waitFor(() => find(stream, "portfolio", (p) => p.halted), "the halted portfolio")).toMatchObject({ cause: "halt", haltReason: "stream test" });
      const rejection = await waitFor(() => find(stream, "decision", (d) => d.outcome === "rejected" && d.reason === "halted"), "a halted rejection", 90_000);
      expect(rejection).toMatchObject({ portfolioId: "default", stage: 2 });
      expect((await platform.api("POST", "/api/portfolios/default/resume")).status).toBe(200);
    } finally {
      stream.close();
    }
  });

  it("records each portfolio's equity history from its updates, behind the token", async () => {
    expect((await platform.api("GET", "/api/portfolios/default/equity", undefined, null)).status).toBe(401);
    const { status, body } = await platform.api("GET", "/api/portfolios/default/equity?limit=5000");
    expect(status).toBe(200);
    const causes = new Set(body.map((p: { cause: string }) => p.cause));
    expect([...causes]).toEqual(expect.arrayContaining(["created", "order", "fill", "halt", "resume"]));
    const times = body.map((p: { time: number }) => p.time);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(body[0]).toEqual({ portfolioId: "default", time: expect.any(Number), equity: "10000", cash: "10000", realizedPnl: "0", unrealizedPnl: "0", cause: "created" });
    expect((await platform.api("GET", "/api/portfolios/default/equity?limit=2")).body).toHaveLength(2);
  });

  it("ends open streams when it stops, and a stream asked for meanwhile cannot hold it open", async () => {
    const stream = await openStream(platform.baseUrl, { authorization: `Bearer ${TOKEN}` });
    await waitFor(() => find(stream, "hello"), "hello");
    // A dashboard whose kept-alive connection is busy when the server starts closing asks for its
    // stream again over that same connection: a request in progress keeps a connection from being closed.
    const { port } = new URL(platform.baseUrl);
    const socket = net.connect(Number(port), "127.0.0.1");
    await once(socket, "connect");
    socket.write(`GET /api/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n`);
    try {
      const stopping = platform.stop().then(() => "stopped");
      stopped = true;
      await stream.end; // the gateway is stopping now
      socket.write(`Authorization: Bearer ${TOKEN}\r\n\r\n`);
      const [answer] = (await once(socket, "data")) as [Buffer];
      expect(answer.toString().split("\r\n")[0]).toBe("HTTP/1.1 503 Service Unavailable");
      const hung = new Promise((resolve) => setTimeout(() => resolve("still stopping after 10 s"), 10_000).unref());
      expect(await Promise.race([stopping, hung])).toBe("stopped");
    } finally {
      socket.destroy();
    }
  });
});
