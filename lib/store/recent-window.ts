/**
 * The newest rows of a time series per key (e.g. 1-minute candles per instrument), kept in memory
 * in front of the store, so history reads answer in microseconds whatever the store's state. It
 * matters on FerretDB 1.x (SQLite), which pushes no filter but an `_id` equality down: every other
 * query reads and sorts the whole collection, seconds on a loaded machine.
 *
 * A key's window is a gap-free run of rows whose times are consecutive multiples of `step`, so the
 * store can hold nothing inside the run that the window lacks (one row per step). Only rows known
 * to be in the store are added (after the write, or from a store answer). Whether the store holds
 * rows newer than the window (written by another member of a scaled-out service) is checked by
 * the collection with one `_id` lookup before an answer that depends on it.
 */

export interface RecentSpec {
  /** Field holding the series key (e.g. instrumentKey). */
  key: string;
  /** Numeric field holding the row's time, a multiple of `step` (e.g. openTime). */
  time: string;
  step: number;
  /** Rows kept per key. */
  capacity: number;
  /** The document id of the row of `key` at `time`: the collection looks the next row up by id. */
  id(key: string, time: number): string;
}

/** A time range in the store's query language: `{ $lt, $lte, $gt, $gte }` on the time field. */
type Range = Partial<Record<"$lt" | "$lte" | "$gt" | "$gte", number>>;

interface WindowQuery {
  key: string;
  range: Range;
  descending: boolean;
  limit: number;
}

interface WindowAnswer<T> {
  rows: T[];
  /** The answer is right only if the store holds no row after the window's newest: check `nextId` first. */
  nextId?: string;
}

const RANGE_OPS = new Set(["$lt", "$lte", "$gt", "$gte"]);

export class RecentWindow<T extends object> {
  private readonly rows = new Map<string, T[]>();

  constructor(readonly spec: RecentSpec) {}

  private timeOf(row: T): number {
    return (row as Record<string, unknown>)[this.spec.time] as number;
  }

  private keyOf(row: T): unknown {
    return (row as Record<string, unknown>)[this.spec.key];
  }

  private aligned(time: unknown): time is number {
    return typeof time === "number" && Number.isInteger(time / this.spec.step);
  }

  /** A row just written to the store. */
  add(row: T): void {
    const key = this.keyOf(row);
    const time = this.timeOf(row);
    if (typeof key !== "string") return;
    if (!this.aligned(time)) {
      this.rows.delete(key);
      return;
    }
    const run = this.rows.get(key);
    if (!run || run.length === 0) {
      this.rows.set(key, [row]);
      return;
    }
    const oldest = this.timeOf(run[0]!);
    const newest = this.timeOf(run[run.length - 1]!);
    if (time === newest + this.spec.step) {
      run.push(row);
      if (run.length > this.spec.capacity) run.shift();
    } else if (time === oldest - this.spec.step && run.length < this.spec.capacity) {
      run.unshift(row);
    } else if (time > newest) {
      // A gap: what lies between is unknown, so the run starts over.
      this.rows.set(key, [row]);
    }
  }

  /** The store's newest rows of `key`, newest first (an unbounded newest-first read): they seed or extend the window. */
  learnNewest(key: string, newestFirst: T[]): void {
    const learned: T[] = [];
    for (const row of newestFirst) {
      const time = this.timeOf(row);
      if (!this.aligned(time)) break;
      if (learned.length > 0 && time !== this.timeOf(learned[0]!) - this.spec.step) break;
      learned.unshift(row);
      if (learned.length === this.spec.capacity) break;
    }
    if (learned.length === 0) return;
    const run = this.rows.get(key);
    const learnedNewest = this.timeOf(learned[learned.length - 1]!);
    if (!run || run.length === 0 || learnedNewest >= this.timeOf(run[run.length - 1]!)) {
      // The store's newest rows: newer than or the same as the window's.
      this.rows.set(key, learned);
      return;
    }
    // Older rows joining the window's start: prepend those before it.
    const oldest = this.timeOf(run[0]!);
    if (learnedNewest < oldest - this.spec.step) return;
    const before = learned.filter((r) => this.timeOf(r) < oldest);
    this.rows.set(key, [...before, ...run].slice(-this.spec.capacity));
  }

  /** Rows older than `cutoff` were removed from the store. */
  removeBefore(key: string, cutoff: number): void {
    const run = this.rows.get(key);
    if (!run) return;
    const kept = run.filter((r) => this.timeOf(r) >= cutoff);
    if (kept.length > 0) this.rows.set(key, kept);
    else this.rows.delete(key);
  }

  forget(key?: string): void {
    if (key === undefined) this.rows.clear();
    else this.rows.delete(key);
  }

  /**
   * The query as the window sees it: the key and time range of `{ [key]: "…", [time]?: { $lt … } }`,
   * else undefined (a query the window cannot answer).
   */
  parse(query: Record<string, unknown>, sort: string[] | undefined, limit: number | undefined, offset: number | undefined): WindowQuery | undefined {
    const { key: keyField, time: timeField } = this.spec;
    if (!limit || offset || !sort || sort.length !== 1 || sort[0]!.replace(/^-/, "") !== timeField) return undefined;
    const key = query[keyField];
    if (typeof key !== "string") return undefined;
    if (Object.keys(query).some((f) => f !== keyField && f !== timeField)) return undefined;
    let range: Range = {};
    if (timeField in query) {
      const bounds = query[timeField];
      if (typeof bounds !== "object" || bounds === null) return undefined;
      const entries = Object.entries(bounds);
      if (entries.some(([op, v]) => !RANGE_OPS.has(op) || typeof v !== "number")) return undefined;
      range = bounds as Range;
    }
    return { key, range, descending: sort[0]!.startsWith("-"), limit };
  }

  /** The answer from memory, or undefined when the store may hold rows the window lacks. */
  answer(q: WindowQuery): WindowAnswer<T> | undefined {
    const run = this.rows.get(q.key);
    if (!run || run.length === 0) return undefined;
    const low = q.range.$gt !== undefined ? q.range.$gt + 1 : (q.range.$gte ?? -Infinity);
    const high = q.range.$lt !== undefined ? q.range.$lt - 1 : (q.range.$lte ?? Infinity);
    const oldest = this.timeOf(run[0]!);
    const newest = this.timeOf(run[run.length - 1]!);
    const inRange = run.filter((r) => this.timeOf(r) >= low && this.timeOf(r) <= high);
    const nextId = this.spec.id(q.key, newest + this.spec.step);
    if (q.descending) {
      if (high < oldest) return undefined;
      // Enough rows, or the range starts inside the window: nothing older is missing.
      if (inRange.length < q.limit && low < oldest) return undefined;
      const rows = inRange.slice(-q.limit).reverse();
      return high > newest ? { rows, nextId } : { rows };
    }
    if (low < oldest) return undefined;
    const rows = inRange.slice(0, q.limit);
    return rows.length < q.limit && high > newest ? { rows, nextId } : { rows };
  }
}
