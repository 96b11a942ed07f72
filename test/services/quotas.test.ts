/**
 * One trader token cannot take the platform down: a trader attempts 400 registrations of made-up
 * instruments, those past the quota are refused, and meanwhile another trader's orders keep
 * filling and the API keeps answering. The quotas are the defaults (INSTRUMENTS_PER_TRADER 10).
 */
import { startPlatform, waitFor, TOKEN, type Platform } from "../helpers/platform";
import { publishSignal, signal } from "../helpers/signals";

jest.setTimeout(240_000);

const MALLORY = "mallory-token-0123456789";
const BOB = "bob-token-0123456789ab";
const ATTEMPTS = 400;
const INSTRUMENTS_PER_TRADER = 10;

describe("quotas under a registration flood", () => {
  let platform: Platform;

  beforeAll(async () => {
    platform = await startPlatform({
      services: ["exchange", "ingestion", "risk", "execution", "gateway"],
      // A simulated minute a second: the streams the flood starts run as they would in production, not 3000× faster.
      config: { traderTokens: { mallory: MALLORY, bob: BOB }, simSpeed: 60 },
    });
    await waitFor(async () => (await platform.api("GET", "/api/portfolios", undefined, BOB)).status === 200, "bob's portfolio route");
    expect((await platform.api("POST", "/api/instruments", { exchange: "binance", symbol: "BTC/USDT" }, BOB)).status).toBe(201);
    // No strategy runs here: bob's signals are the test's own, and a loaded machine must not make them stale.
    expect((await platform.api("PATCH", "/api/portfolios/bob/limits", { maxDataAgeMs: 600_000 }, TOKEN)).status).toBe(200);
  });

  afterAll(async () => {
    await platform?.stop();
  });

  it("refuses registrations past the quota while another trader's orders keep filling and the API keeps answering", async () => {
    const answers: Array<{ status: number; type?: string; message?: string }> = [];
    let flooding = true;
    const flood = (async () => {
      try {
        for (let i = 0; i < ATTEMPTS; i++) {
          const symbol = `Q${String(i).padStart(4, "0")}/USDT`;
          const res = await platform.api("POST", "/api/instruments", { exchange: "binance", symbol }, MALLORY);
          answers.push({ status: res.status, type: res.body?.type, message: res.body?.message });
        }
      } finally {
        flooding = false;
      }
    })();

    // Meanwhile bob trades: a BUY and a SELL of BTC/USDT, each filled, round after round, and reads his portfolio.
    let rounds = 0;
    let slowest = 0;
    const fillsOf = async () => {
      const started = Date.now();
      const res = await platform.api("GET", "/api/portfolios/bob/fills?limit=1000", undefined, BOB);
      slowest = Math.max(slowest, Date.now() - started);
      expect(res.status).toBe(200);
      return res.body as Array<{ side: string }>;
    };
    while (flooding || rounds < 2) {
      for (const action of ["BUY", "SELL"] as const) {
        const before = (await fillsOf()).filter((f) => f.side === action).length;
        await publishSignal(platform.bus, signal(`bob-${rounds}-${action}`, { action }));
        await waitFor(async () => (await fillsOf()).filter((f) => f.side === action).length > before, `bob's ${action} of round ${rounds} filled`, 60_000);
      }
      rounds++;
    }
    await flood;

    expect(answers).toHaveLength(ATTEMPTS);
    expect(answers.filter((a) => a.status >= 500)).toEqual([]);
    const accepted = answers.filter((a) => a.status === 201);
    expect(accepted).toHaveLength(INSTRUMENTS_PER_TRADER);
    // Every refusal is a 429; the first ones past the quota name it (later ones may meet the gateway's own rate limit).
    expect(answers.slice(INSTRUMENTS_PER_TRADER).every((a) => a.status === 429)).toBe(true);
    expect(answers[INSTRUMENTS_PER_TRADER]).toEqual({ status: 429, type: "QUOTA_EXCEEDED", message: "a trader's portfolios trade at most 10 instruments (INSTRUMENTS_PER_TRADER)" });
    expect(rounds).toBeGreaterThanOrEqual(2);
    expect(slowest).toBeLessThan(10_000);

    const instruments = (await platform.api("GET", "/api/instruments", undefined, TOKEN)).body as Array<{ instrumentKey: string; enabled: boolean }>;
    expect(instruments.filter((i) => i.enabled)).toHaveLength(INSTRUMENTS_PER_TRADER + 1);
    const streams = await platform.broker.call<string[]>("exchange.status").then((s) => (s as unknown as { streams: string[] }).streams);
    expect(streams.length).toBeLessThanOrEqual(INSTRUMENTS_PER_TRADER + 1);
    // Bob's book: every BUY was followed by a SELL, each filled.
    const fills = await fillsOf();
    expect(fills.filter((f) => f.side === "BUY").length).toBeGreaterThanOrEqual(rounds);
  });
});
