/** The readiness verdict from what the gateway asks the platform, with the questions answered in-process and a ManualClock. */
import { ManualClock } from "../../lib/clock";
import { DEFAULT_HEALTH_SETTINGS, LagWatch, assessHealth, type ExchangeHealth, type HealthProbes, type PlatformState } from "../../lib/health";
import type { TopicStats } from "../../lib/bus/types";

const up: PlatformState = { required: ["gateway", "risk", "exchange"], running: ["exchange", "gateway", "risk"], started: true, unrouted: [] };

const exchange = (circuit: ExchangeHealth["circuit"], idleMs = 1000): ExchangeHealth =>
  ({ exchange: "sim", marketData: "sim", tradingMode: "paper", sandbox: false, circuit, streams: [], marketActivity: { uptimeMs: 60_000, instruments: [{ instrumentKey: "binance:BTC/USDT", idleMs }] } }) as ExchangeHealth;

const probes = (overrides: Partial<HealthProbes> = {}): HealthProbes => ({
  exchange: async () => exchange({ state: "closed" } as ExchangeHealth["circuit"]),
  enabledInstruments: async () => ["binance:BTC/USDT"],
  store: async () => undefined,
  busStats: async () => [],
  busKind: "embedded",
  ...overrides,
});

const lagOf = (lag: number): TopicStats[] => [{ topic: "market.raw.data", partitions: 6, messages: 0, groups: [{ group: "features", lag, members: 1 }] }];

describe("health assessment", () => {
  it("is ok and ready when every service runs, every route is there and every question is answered", async () => {
    const verdict = await assessHealth(up, probes(), new LagWatch(new ManualClock(), DEFAULT_HEALTH_SETTINGS), 30_000);
    expect(verdict).toMatchObject({ status: "ok", ready: true, causes: [], exchange: { exchange: "sim" } });
  });

  it("is unavailable while a service is missing or routes are pending, naming the unrouted actions", async () => {
    const state = { ...up, running: ["gateway", "risk"], unrouted: ["risk.listOrders"] };
    const verdict = await assessHealth(state, probes(), new LagWatch(new ManualClock(), DEFAULT_HEALTH_SETTINGS), 30_000);
    expect(verdict).toMatchObject({ status: "unavailable", ready: false });
    expect(verdict.causes.map((c) => c.kind)).toEqual(["service_down", "routes_pending"]);
    expect(verdict.causes[1]!.message).toBe("the gateway is adding the services' routes (risk.listOrders)");
  });

  it("stays ready but degraded for an unreachable store or bus, an open circuit and stale market data", async () => {
    const verdict = await assessHealth(
      up,
      probes({
        exchange: async () => exchange({ state: "open", lastError: "ECONNREFUSED" } as ExchangeHealth["circuit"], 45_000),
        store: async () => Promise.reject(new Error("disk gone")),
        busStats: async () => Promise.reject(new Error("no broker")),
      }),
      new LagWatch(new ManualClock(), DEFAULT_HEALTH_SETTINGS),
      30_000,
    );
    expect(verdict).toMatchObject({ status: "degraded", ready: true });
    expect(verdict.causes.map((c) => [c.kind, c.message])).toEqual([
      ["store_unreachable", "store unreachable: disk gone"],
      ["bus_unreachable", "embedded bus unreachable: no broker"],
      ["exchange_circuit_open", "exchange sim circuit open: ECONNREFUSED"],
      ["market_data_stale", "no market data for binance:BTC/USDT for 45 s"],
    ]);
  });

  it("names a consumer group whose lag grew at every sample, sampled on the clock", async () => {
    const clock = new ManualClock(0);
    const lagWatch = new LagWatch(clock, DEFAULT_HEALTH_SETTINGS);
    let verdict;
    for (const lag of [2000, 3000, 4000, 5000, 6000]) {
      verdict = await assessHealth(up, probes({ busStats: async () => lagOf(lag) }), lagWatch, 30_000);
      clock.advance(DEFAULT_HEALTH_SETTINGS.lagSampleIntervalMs);
    }
    expect(verdict!.causes).toEqual([{ kind: "lag_growing", subject: "market.raw.data/features", message: "consumer group lag on market.raw.data/features grew from 2000 to 6000 in 20 s" }]);
  });
});
