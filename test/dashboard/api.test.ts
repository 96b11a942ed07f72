import { ApiClient, ApiError, describeError, fieldErrorsOf } from "../../dashboard/src/lib/api";

function fakeFetch(status: number, body: unknown) {
  const calls: Array<{ url: string; init: RequestInit }> = [];
  const fetch = (async (url: string, init: RequestInit) => {
    calls.push({ url, init });
    return new Response(body === undefined ? "" : JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
  }) as unknown as typeof globalThis.fetch;
  return { calls, fetch };
}

describe("the dashboard's API client", () => {
  it("sends the signed-in token, JSON bodies and encoded paths and queries", async () => {
    const server = fakeFetch(200, []);
    const api = new ApiClient({ token: () => "t0k", fetch: server.fetch });
    await api.decisions("default", { outcome: "rejected", reason: "halted", limit: 500 });
    await api.unregisterInstrument("binance:BTC/USDT");
    await api.setLimits("p-1", { maxDrawdown: "0.3", maxOpenOrders: 3 });
    await api.setTrader("alice", { allowance: "5000", ceilings: { maxDrawdown: null } });
    expect(server.calls.map((c) => `${c.init.method} ${c.url}`)).toEqual([
      "GET /api/portfolios/default/decisions?outcome=rejected&reason=halted&limit=500",
      "DELETE /api/instruments/binance%3ABTC%2FUSDT",
      "PATCH /api/portfolios/p-1/limits",
      "PATCH /api/traders/alice",
    ]);
    expect(JSON.parse(server.calls[3]!.init.body as string)).toEqual({ allowance: "5000", ceilings: { maxDrawdown: null } });
    expect(server.calls[0]!.init.headers).toEqual({ accept: "application/json", authorization: "Bearer t0k" });
    expect(JSON.parse(server.calls[2]!.init.body as string)).toEqual({ maxDrawdown: "0.3", maxOpenOrders: 3 });
  });

  it("asks for bars of a timeframe before or after a time, and for the store's coverage", async () => {
    const server = fakeFetch(200, []);
    const api = new ApiClient({ token: () => "t", fetch: server.fetch });
    await api.candles("binance:BTC/USDT", { timeframe: "1h", limit: 1000, before: 1735689600000 });
    await api.indicators("binance:BTC/USDT", { timeframe: "5m", limit: 500, after: 1735689599999 });
    await api.coverage();
    await api.coverage("binance:BTC/USDT");
    expect(server.calls.map((c) => c.url)).toEqual([
      "/api/market/candles?instrument=binance%3ABTC%2FUSDT&timeframe=1h&limit=1000&before=1735689600000",
      "/api/market/indicators?instrument=binance%3ABTC%2FUSDT&timeframe=5m&limit=500&after=1735689599999",
      "/api/market/coverage",
      "/api/market/coverage?instrument=binance%3ABTC%2FUSDT",
    ]);
  });

  it("turns a 422 into an error carrying each field's reason", async () => {
    const server = fakeFetch(422, {
      name: "ValidationError",
      message: "Parameters validation error!",
      code: 422,
      data: [
        { type: "stringPattern", field: "symbol", message: "The 'symbol' field fails to match the required pattern." },
        { field: "symbol", message: "a second reason for the same field" },
        { field: "portfolioId", message: 'portfolio "nope" does not exist' },
      ],
    });
    const api = new ApiClient({ token: () => "t", fetch: server.fetch });
    const err = (await api.registerInstrument({ exchange: "binance", symbol: "btcusdt" }).catch((e) => e)) as ApiError;
    expect(err).toBeInstanceOf(ApiError);
    expect(err.status).toBe(422);
    expect(err.fields).toEqual({ symbol: "The 'symbol' field fails to match the required pattern.", portfolioId: 'portfolio "nope" does not exist' });
    expect(describeError(err)).toBe("Parameters validation error! (HTTP 422)");
  });

  it("reports a refused token to the session, except while checking a token at sign-in", async () => {
    const server = fakeFetch(401, { message: "missing or wrong bearer token" });
    let signedOut = 0;
    const api = new ApiClient({ token: () => "old", fetch: server.fetch, onUnauthorized: () => signedOut++ });
    await expect(api.portfolios()).rejects.toMatchObject({ status: 401 });
    expect(signedOut).toBe(1);
    await expect(api.portfoliosFor("wrong")).resolves.toBeUndefined();
    expect(signedOut).toBe(1);
    expect(server.calls[1]!.init.headers).toMatchObject({ authorization: "Bearer wrong" });
  });

  it("tells a platform it cannot reach from a refused token", async () => {
    const api = new ApiClient({ token: () => "t", fetch: (async () => Promise.reject(new TypeError("fetch failed"))) as unknown as typeof fetch });
    const err = (await api.portfoliosFor("t").catch((e) => e)) as ApiError;
    expect(err.status).toBe(0);
    expect(describeError(err)).toBe("cannot reach the platform");
    await expect(new ApiClient({ token: () => "t", fetch: fakeFetch(200, [{ portfolioId: "alice" }]).fetch }).portfoliosFor("t")).resolves.toEqual([{ portfolioId: "alice" }]);
  });

  it("reads field errors from any body shape without throwing", () => {
    expect(fieldErrorsOf(undefined)).toEqual({});
    expect(fieldErrorsOf({ data: "x" })).toEqual({});
    expect(fieldErrorsOf({ data: [null, { field: 1 }, { field: "a", message: "bad" }] })).toEqual({ a: "bad" });
  });
});
