import { ManualClock } from "../../lib/clock";
import { SimulatedFeed } from "../../lib/venue/sim-feed";
import type { MarketEventDraft } from "../../schemas";

describe("SimulatedFeed", () => {
  it("stops its clock where the simulators last advanced, so a restart from the saved time leaves no gap", async () => {
    const clock = new ManualClock(1_700_000_000_000);
    const feed = new SimulatedFeed({ speed: 60, seed: 7, clock, tickMs: 10 });
    const events: MarketEventDraft[] = [];
    feed.onEvents((batch) => events.push(...batch));
    await feed.subscribe("sim:BTC/USDT");
    clock.advance(5_000); // 300 simulated seconds
    await new Promise((resolve) => setTimeout(resolve, 40));
    const advancedTo = feed.now();
    clock.advance(2_000); // real time passes after the last advance, before the stop
    await feed.stop();
    expect(events.length).toBeGreaterThan(0);
    const newest = Math.max(...events.map((e) => e.time));
    expect(feed.now()).toBe(advancedTo);
    expect(advancedTo - newest).toBeLessThan(60_000);
    clock.advance(10_000);
    expect(feed.now()).toBe(advancedTo);
  });
});
