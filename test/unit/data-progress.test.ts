/** lib/progress.ts: the bar long commands draw on stderr, on a driven clock. */
import { ManualClock } from "../../lib/clock";
import { Progress, formatDuration } from "../../lib/progress";

function output(isTTY: boolean) {
  const writes: string[] = [];
  return { writes, isTTY, write: (text: string) => writes.push(text) };
}

describe("progress", () => {
  it("shows done/total, percentage, rate and ETA from the clock", () => {
    const clock = new ManualClock(1_000_000);
    const progress = new Progress({ label: "import BTC/USDT", unit: "candles", total: 525_600, clock, output: output(true) });
    clock.advance(2000);
    progress.advance(131_400);
    // 131,400 in 2 s = 65,700 a second; 394,200 left take 6 s.
    expect(progress.line()).toBe("import BTC/USDT  [######------------------]  131,400/525,600 candles  25.0%  65,700 candles/s  ETA 0:06");
  });

  it("redraws a terminal's line in place at most every 100 ms", () => {
    const clock = new ManualClock(0);
    const out = output(true);
    const progress = new Progress({ label: "x", unit: "rows", total: 100, clock, output: out });
    progress.advance(1); // at 0 ms: too soon
    clock.advance(50);
    progress.advance(1);
    expect(out.writes).toEqual([]);
    clock.advance(50);
    progress.advance(1);
    clock.advance(99);
    progress.advance(1);
    clock.advance(1);
    progress.advance(1);
    expect(out.writes).toHaveLength(2);
    expect(out.writes.every((w) => w.startsWith("\r") && w.endsWith("\x1b[K"))).toBe(true);
    expect(out.writes[1]).toContain("5/100 rows");
    progress.finish();
    expect(out.writes[2]).toBe("\rx  5 rows in 0:00  25 rows/s\x1b[K\n");
  });

  it("writes one plain line every 5 s to a log", () => {
    const clock = new ManualClock(0);
    const out = output(false);
    const progress = new Progress({ label: "download binance BTC/USDT", unit: "minutes", total: 1000, clock, output: out });
    for (let second = 1; second <= 12; second++) {
      clock.advance(1000);
      progress.advance(10);
    }
    expect(out.writes).toEqual([
      "download binance BTC/USDT  [#-----------------------]  50/1,000 minutes  5.0%  10 minutes/s  ETA 1:35\n",
      "download binance BTC/USDT  [##----------------------]  100/1,000 minutes  10.0%  10 minutes/s  ETA 1:30\n",
    ]);
  });

  it("has no bar or ETA without a total", () => {
    const clock = new ManualClock(0);
    const progress = new Progress({ label: "x", unit: "rows", clock, output: output(false) });
    clock.advance(4000);
    progress.advance(2000);
    expect(progress.line()).toBe("x  2,000 rows  500 rows/s");
  });

  it.each([
    [0, "0:00"],
    [59_400, "0:59"],
    [61_000, "1:01"],
    [3_600_000, "1:00:00"],
    [3_725_000, "1:02:05"],
  ])("formats %d ms as %s", (ms, text) => expect(formatDuration(ms)).toBe(text));
});
