import { ManualClock } from "../../lib/clock";
import type { MarketEventDraft } from "../../schemas";
import { StreamActivity, streamChanges } from "../../lib/venue/stream-activity";

const BTC = "sim:BTC/USDT";
const ETH = "sim:ETH/USDT";

function trade(instrumentKey: string, time: number, price: string): MarketEventDraft {
  const [exchange, symbol] = instrumentKey.split(":") as [string, string];
  return { kind: "trade", instrumentKey, exchange, symbol, time, tradeId: `t${time}`, price, quantity: "1", takerSide: "BUY" };
}

describe("stream activity", () => {
  it("stamps events with the clock's time, a late historical batch with its own market time", () => {
    const clock = new ManualClock(10_000);
    const streams = new StreamActivity(clock);
    expect(streams.received([trade(BTC, 9_000, "1")], false)[0]!.receivedAt).toBe(10_000);
    expect(streams.received([trade(BTC, 9_000, "1")], true)[0]!.receivedAt).toBe(9_000);
    // Market time ahead of the clock (a venue's clock skew) is capped at the clock.
    expect(streams.received([trade(BTC, 12_000, "1")], true)[0]!.receivedAt).toBe(10_000);
  });

  it("reports each stream's silence and the facade's uptime by the clock", () => {
    const clock = new ManualClock(1_000);
    const streams = new StreamActivity(clock);
    streams.started(BTC);
    clock.advance(500);
    streams.started(ETH);
    clock.advance(2_000);
    streams.received([trade(BTC, 3_400, "100")], false);
    clock.advance(100);
    expect(streams.report()).toEqual({
      uptimeMs: 2_600,
      instruments: [
        { instrumentKey: BTC, lastEventTime: 3_400, idleMs: 100 },
        { instrumentKey: ETH, lastEventTime: undefined, idleMs: 2_100 },
      ],
    });
    streams.stopped(ETH);
    expect(streams.report().instruments.map((i) => i.instrumentKey)).toEqual([BTC]);
  });

  it("keeps what a restart needs: which instruments stream and where each continues", () => {
    const clock = new ManualClock(0);
    const before = new StreamActivity(clock);
    before.started(BTC);
    before.started(ETH);
    before.received([trade(BTC, 5, "101.5")], false);
    before.stopped(ETH);
    const after = new StreamActivity(clock, before.saved());
    expect(after.streaming()).toEqual([BTC]);
    expect(after.resumePoint(BTC)).toEqual({ price: "101.5" });
    expect(after.resumePoint(ETH)).toBeUndefined();
  });

  it("starts the enabled instruments not streaming and stops the disabled ones streaming", () => {
    const instruments = [
      { instrumentKey: "a", enabled: true },
      { instrumentKey: "b", enabled: true },
      { instrumentKey: "c", enabled: false },
      { instrumentKey: "d", enabled: false },
    ];
    expect(streamChanges(instruments, ["b", "c", "z"])).toEqual({ start: ["a"], stop: ["c"] });
  });
});
