/** The in-memory window of a time series' newest rows: answers only what the store cannot contradict. */
import { RecentWindow } from "../../lib/store/recent-window";

interface Row {
  k: string;
  t: number;
  v: number;
}

const STEP = 60_000;
const spec = { key: "k", time: "t", step: STEP, capacity: 5, id: (k: string, t: number) => `${k}|${t}` };
const row = (minute: number, k = "a"): Row => ({ k, t: minute * STEP, v: minute });
const minutes = (rows: Row[] | undefined) => rows?.map((r) => r.v);
const newest = (w: RecentWindow<Row>, limit: number, query: Record<string, unknown> = { k: "a" }) => w.answer(w.parse(query, ["-t"], limit, undefined)!);

describe("RecentWindow", () => {
  it("answers the newest rows of a gap-free run, asking for a freshness check when the range is open at the top", () => {
    const w = new RecentWindow<Row>(spec);
    for (let m = 1; m <= 4; m++) w.add(row(m));
    expect(minutes(newest(w, 3)?.rows)).toEqual([4, 3, 2]);
    expect(newest(w, 3)?.nextId).toBe(`a|${5 * STEP}`);
    // Before minute 4: closed at the top, no check needed.
    const closed = w.answer(w.parse({ k: "a", t: { $lt: 4 * STEP } }, ["-t"], 2, undefined)!);
    expect(minutes(closed?.rows)).toEqual([3, 2]);
    expect(closed?.nextId).toBeUndefined();
  });

  it("declines what the store may hold and the window lacks", () => {
    const w = new RecentWindow<Row>(spec);
    for (let m = 1; m <= 4; m++) w.add(row(m));
    expect(newest(w, 10)).toBeUndefined(); // older rows may be in the store
    expect(newest(w, 1, { k: "b" })).toBeUndefined(); // unknown key
    expect(w.parse({ k: "a", v: 3 }, ["-t"], 2, undefined)).toBeUndefined(); // another field
    expect(w.parse({ k: "a" }, ["-t"], 2, 1)).toBeUndefined(); // an offset
    expect(w.parse({ k: "a" }, ["-v"], 2, undefined)).toBeUndefined(); // another sort
    expect(w.answer(w.parse({ k: "a", t: { $gt: 0 } }, ["t"], 2, undefined)!)).toBeUndefined(); // ascending from before the window
    expect(minutes(w.answer(w.parse({ k: "a", t: { $gt: 2 * STEP } }, ["t"], 5, undefined)!)?.rows)).toEqual([3, 4]);
  });

  it("starts the run over at a gap, keeps at most `capacity` rows, ignores rows it already holds", () => {
    const w = new RecentWindow<Row>(spec);
    for (let m = 1; m <= 8; m++) w.add(row(m));
    expect(minutes(newest(w, 5)?.rows)).toEqual([8, 7, 6, 5, 4]);
    expect(newest(w, 6)).toBeUndefined();
    w.add({ ...row(7), v: -1 });
    expect(minutes(newest(w, 2)?.rows)).toEqual([8, 7]);
    w.add(row(10)); // minute 9 is not known: the run restarts at 10
    expect(minutes(newest(w, 1)?.rows)).toEqual([10]);
    expect(newest(w, 2)).toBeUndefined();
  });

  it("learns the store's newest rows, trims on retention and forgets", () => {
    const w = new RecentWindow<Row>(spec);
    w.add(row(9));
    w.add(row(10));
    w.learnNewest("a", [row(10), row(9), row(8), row(7), row(5)]); // stops at the gap before 7
    expect(minutes(newest(w, 4)?.rows)).toEqual([10, 9, 8, 7]);
    expect(newest(w, 5)).toBeUndefined();
    w.removeBefore("a", 9 * STEP);
    expect(minutes(newest(w, 2)?.rows)).toEqual([10, 9]);
    expect(newest(w, 3)).toBeUndefined();
    w.forget("a");
    expect(newest(w, 1)).toBeUndefined();
  });
});
