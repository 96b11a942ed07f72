/**
 * Sorting and paging of the dashboard's tables. Decimal strings (prices, quantities, P&L) are
 * compared as numbers, exactly, with decimal.js; missing values sort last in either direction.
 */
import Decimal from "decimal.js";

export type SortDirection = "asc" | "desc";
export type CellValue = string | number | boolean | null | undefined;

export interface SortState {
  key: string;
  direction: SortDirection;
}

const DECIMAL_RE = /^-?[0-9]+(\.[0-9]+)?$/;

/** Ascending order of two cell values; undefined/null/"" are not compared here (see sortRows). */
export function compareCells(a: Exclude<CellValue, null | undefined>, b: Exclude<CellValue, null | undefined>): number {
  if (typeof a === "number" && typeof b === "number") return a - b;
  if (typeof a === "boolean" && typeof b === "boolean") return Number(a) - Number(b);
  const sa = String(a);
  const sb = String(b);
  if (DECIMAL_RE.test(sa) && DECIMAL_RE.test(sb)) return new Decimal(sa).cmp(new Decimal(sb));
  return sa.localeCompare(sb, "en", { numeric: true, sensitivity: "base" });
}

const isMissing = (v: CellValue): v is null | undefined | "" => v === null || v === undefined || v === "";

/** A sorted copy; stable, so equal rows keep the order the server gave them (newest first). */
export function sortRows<Row>(rows: readonly Row[], valueOf: (row: Row) => CellValue, direction: SortDirection): Row[] {
  const sign = direction === "asc" ? 1 : -1;
  return rows
    .map((row, index) => ({ row, index, value: valueOf(row) }))
    .sort((x, y) => {
      const xm = isMissing(x.value);
      const ym = isMissing(y.value);
      if (xm || ym) return xm === ym ? x.index - y.index : xm ? 1 : -1;
      return sign * compareCells(x.value as never, y.value as never) || x.index - y.index;
    })
    .map((entry) => entry.row);
}

/** Clicking a column header: a new column sorts descending first (newest, largest), the same column flips. */
export function nextSort(current: SortState | undefined, key: string): SortState {
  if (current?.key === key) return { key, direction: current.direction === "asc" ? "desc" : "asc" };
  return { key, direction: "desc" };
}

export interface PageSlice<Row> {
  rows: Row[];
  /** 0-based page index, clamped to the pages that exist. */
  page: number;
  pages: number;
  /** 1-based positions of the first and last row shown, 0 when empty. */
  from: number;
  to: number;
  total: number;
}

export function pageRows<Row>(rows: readonly Row[], page: number, pageSize: number): PageSlice<Row> {
  const total = rows.length;
  const pages = Math.max(1, Math.ceil(total / pageSize));
  const current = Math.min(Math.max(0, page), pages - 1);
  const start = current * pageSize;
  const slice = rows.slice(start, start + pageSize);
  return { rows: slice, page: current, pages, from: slice.length > 0 ? start + 1 : 0, to: start + slice.length, total };
}

/** A column of a DataTable: what it sorts by (`value`) and what it shows (`text`, else the value). */
export interface Column<Row> {
  key: string;
  label: string;
  value(row: Row): CellValue;
  text?(row: Row): string;
  /** CSS classes of the cell, e.g. gain/loss tones. */
  tone?(row: Row): string;
  numeric?: boolean;
  sortable?: boolean;
  wrap?: boolean;
}
