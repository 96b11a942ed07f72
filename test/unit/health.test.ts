/** The health verdict: readiness, and each cause of degradation, from plain inputs and a ManualClock. */
import { ManualClock } from "../../lib/clock";
import { LagWatch, marketDataCauses, missingServiceCauses, verdictOf, answerWithin } from "../../lib/health";
import type { TopicStats } from "../../lib/bus/types";
import type { HealthCause } from "../../schemas";

const lagOf = (lag: number): TopicStats[] => [{ topic: "market.raw.data", partitions: 6, messages: 0, groups: [{ group: "features", lag, members: 1 }] }];

describe("health verdict", () => {
  it("is ok without causes, degraded but ready with pipeline causes, unavailable while a service or route is missing", () => {
    expect(verdictOf([])).toEqual({ status: "ok", ready: true, causes: [] });
    const stale: HealthCause = { kind: "market_data_stale", subject: "binance:BTC/USDT", message: "no market data" };
    expect(verdictOf([stale])).toMatchObject({ status: "degraded", ready: true });
    const down = missingServiceCauses(["gateway", "risk", "exchange"], ["gateway", "risk"]);
    expect(down).toEqual([{ kind: "service_down", subject: "exchange", message: "service exchange is not running" }]);
    expect(verdictOf([stale, ...down])).toMatchObject({ status: "unavailable", ready: false });
    expect(verdictOf([{ kind: "routes_pending", message: "adding routes" }])).toMatchObject({ status: "unavailable", ready: false });
  });
});

describe("market data freshness", () => {
  const activity = {
    uptimeMs: 90_000,
    instruments: [
      { instrumentKey: "binance:BTC/USDT", lastEventTime: 1, idleMs: 2_000 },
      { instrumentKey: "binance:ETH/USDT", lastEventTime: 1, idleMs: 45_000 },
    ],
  };

  it("names each enabled instrument whose stream went quiet or that the facade does not stream", () => {
    const causes = marketDataCauses(["binance:BTC/USDT", "binance:ETH/USDT", "binance:SOL/USDT"], activity, 30_000);
    expect(causes.map((c) => [c.kind, c.subject])).toEqual([
      ["market_data_stale", "binance:ETH/USDT"],
      ["market_data_stale", "binance:SOL/USDT"],
    ]);
    expect(causes[0]!.message).toBe("no market data for binance:ETH/USDT for 45 s");
    expect(causes[1]!.message).toBe("binance:SOL/USDT is enabled but not streaming (facade up 90 s)");
  });

  it("gives a facade that just started the limit's time to start its streams, and ignores disabled instruments", () => {
    expect(marketDataCauses(["binance:SOL/USDT"], { uptimeMs: 10_000, instruments: [] }, 30_000)).toEqual([]);
    expect(marketDataCauses([], activity, 30_000)).toEqual([]);
  });
});

describe("consumer lag watch", () => {
  const settings = { lagThreshold: 1000, lagSamples: 4, lagSampleIntervalMs: 5000 };

  it("flags a lag above the threshold that grew at every one of the last samples", () => {
    const clock = new ManualClock(0);
    const watch = new LagWatch(clock, settings);
    for (const lag of [1200, 1500, 1900]) {
      watch.record(lagOf(lag));
      clock.advance(5000);
    }
    expect(watch.causes()).toEqual([]); // three samples are not yet a trend
    watch.record(lagOf(2600));
    expect(watch.causes()).toEqual([
      { kind: "lag_growing", subject: "market.raw.data/features", message: "consumer group lag on market.raw.data/features grew from 1200 to 2600 in 15 s" },
    ]);
  });

  it("does not flag a lag that fell in between, a lag under the threshold, or samples taken too close together", () => {
    const clock = new ManualClock(0);
    const dipping = new LagWatch(clock, settings);
    for (const lag of [5000, 6000, 5500, 7000]) {
      dipping.record(lagOf(lag));
      clock.advance(5000);
    }
    expect(dipping.causes()).toEqual([]);

    const small = new LagWatch(clock, settings);
    for (const lag of [10, 20, 30, 40]) {
      small.record(lagOf(lag));
      clock.advance(5000);
    }
    expect(small.causes()).toEqual([]);

    const hurried = new LagWatch(clock, settings);
    for (const lag of [2000, 3000, 4000, 5000]) {
      hurried.record(lagOf(lag));
      clock.advance(1000); // under the sample interval: one sample kept
    }
    expect(hurried.causes()).toEqual([]);
  });

  it("forgets a group that is gone", () => {
    const clock = new ManualClock(0);
    const watch = new LagWatch(clock, settings);
    for (const lag of [2000, 3000, 4000, 5000]) {
      watch.record(lagOf(lag));
      clock.advance(5000);
    }
    expect(watch.causes()).toHaveLength(1);
    watch.record([]);
    expect(watch.causes()).toEqual([]);
  });
});

describe("answerWithin", () => {
  it("passes a prompt answer through and turns a late one into an error naming what was late", async () => {
    await expect(answerWithin(Promise.resolve(7), 1000, "the store")).resolves.toBe(7);
    await expect(answerWithin(new Promise(() => undefined), 20, "the store")).rejects.toThrow("the store did not answer within 20 ms");
  });
});
