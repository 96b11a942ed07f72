import { compareCells, nextSort, pageRows, sortRows } from "../../dashboard/src/lib/table";

describe("dashboard tables", () => {
  it("compares decimal strings as numbers and other text naturally", () => {
    expect(compareCells("10.5", "9.75")).toBeGreaterThan(0);
    expect(compareCells("-2", "1")).toBeLessThan(0);
    expect(compareCells("0.000010", "0.00001")).toBe(0);
    expect(compareCells("order-10", "order-9")).toBeGreaterThan(0);
    expect(compareCells(3, 20)).toBeLessThan(0);
  });

  it("sorts stably in either direction with missing values last", () => {
    const rows = [
      { id: "a", pnl: "5" },
      { id: "b", pnl: undefined },
      { id: "c", pnl: "-12.5" },
      { id: "d", pnl: "5" },
      { id: "e", pnl: "100" },
    ];
    expect(sortRows(rows, (r) => r.pnl, "asc").map((r) => r.id)).toEqual(["c", "a", "d", "e", "b"]);
    expect(sortRows(rows, (r) => r.pnl, "desc").map((r) => r.id)).toEqual(["e", "a", "d", "c", "b"]);
    expect(rows.map((r) => r.id)).toEqual(["a", "b", "c", "d", "e"]); // the input is left alone
  });

  it("sorts a new column descending first and flips the same column", () => {
    expect(nextSort(undefined, "price")).toEqual({ key: "price", direction: "desc" });
    expect(nextSort({ key: "price", direction: "desc" }, "price")).toEqual({ key: "price", direction: "asc" });
    expect(nextSort({ key: "price", direction: "asc" }, "time")).toEqual({ key: "time", direction: "desc" });
  });

  it("pages rows and clamps the page to those that exist", () => {
    const rows = Array.from({ length: 23 }, (_, i) => i);
    expect(pageRows(rows, 0, 10)).toMatchObject({ rows: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], page: 0, pages: 3, from: 1, to: 10, total: 23 });
    expect(pageRows(rows, 2, 10)).toMatchObject({ rows: [20, 21, 22], from: 21, to: 23 });
    expect(pageRows(rows, 7, 10).page).toBe(2);
    expect(pageRows([], 3, 10)).toMatchObject({ rows: [], page: 0, pages: 1, from: 0, to: 0, total: 0 });
  });
});
