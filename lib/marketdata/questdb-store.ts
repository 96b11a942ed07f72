/**
 * The distributed mode's market data store: QuestDB over its PostgreSQL wire protocol (`pg`).
 *
 * Tables are WAL tables with a designated timestamp and `DEDUP UPSERT KEYS`: a row whose key is stored
 * already replaces it, the last of a batch too. Writes are batched multi-row INSERTs with bound
 * parameters (cast to DECIMAL(18,8) and TIMESTAMP in the statement). WAL tables apply a commit
 * asynchronously, so a write waits until the table's applied transaction (`writerTxn` in `wal_tables()`)
 * has caught up with the one its commit made: a read after a write sees it.
 * Retention drops whole partitions, the only delete QuestDB has: days of trades and books, months of
 * candles (monthly partitions keep ten years of candles to 120 partitions and few memory maps).
 */
import { Pool, type PoolClient } from "pg";
import { sleep, type Clock } from "../clock";
import type { BookLevel, Side } from "../../schemas";
import { CoverageCollector, canonicalDecimal, checkBooks, checkCandles, checkRange, checkTimeframe, checkTrades, keysetPages } from "./rows";
import { DEFAULT_PAGE_SIZE, MINUTE_MS, TIMEFRAME_MS, retentionBoundary, type InstrumentCoverage, type MarketDataKind, type MarketDataStore, type MinuteCandle, type StoredBook, type StoredTrade, type TimeRange, type Timeframe, type TimeframeCandle } from "./types";
import { DECIMAL, MARKET_TABLES, bookValues, candleValues, timeColumnOf, tradeValues, type ColumnKind, type ColumnValues, type MarketTable } from "./tables";

/**
 * Rows per INSERT statement. Measured on 50,000 candles: 250 rows a statement wrote 40k rows/s, 4,000
 * rows 11k rows/s (QuestDB compiles a long VALUES list slowly). A write of several statements is not
 * atomic when the server fails midway; repeating it is harmless, since writes are idempotent.
 */
const INSERT_BATCH = 250;
const APPLY_TIMEOUT_MS = 30_000;

/** QuestDB's type of each kind of column; the time column is the designated timestamp `ts` (microseconds). */
const QUESTDB_TYPES: Record<ColumnKind, string> = { instrument: "SYMBOL", time: "TIMESTAMP", decimal: DECIMAL, integer: "LONG", text: "VARCHAR", side: "SYMBOL" };

interface TableShape {
  kind: MarketDataKind;
  /** Column definitions in insert order; `ts` is the designated timestamp. */
  columns: Array<[name: string, type: string]>;
  dedupKeys: string[];
  partition: "DAY" | "MONTH";
}

const shapeOf = (table: MarketTable): TableShape => {
  const time = timeColumnOf(table);
  const nameOf = (name: string) => (name === time ? "ts" : name);
  return {
    kind: table.kind,
    columns: table.columns.map(([name, kind]) => [nameOf(name), QUESTDB_TYPES[kind]]),
    dedupKeys: table.key.map(nameOf),
    partition: table.partition,
  };
};

const SHAPES: Record<MarketDataKind, TableShape> = {
  candles: shapeOf(MARKET_TABLES.candles),
  trades: shapeOf(MARKET_TABLES.trades),
  books: shapeOf(MARKET_TABLES.books),
};

/** QuestDB timestamps are microseconds; the API's times are milliseconds. */
const micros = (ms: number): string => `${ms}000`;
const millis = (microsText: string): number => Number(microsText) / 1000;
const placeholder = (type: string, n: number): string => (type === DECIMAL ? `$${n}::${DECIMAL}` : type === "TIMESTAMP" ? `$${n}::TIMESTAMP` : `$${n}`);

export interface QuestDbStoreOptions {
  /** PostgreSQL wire URL, e.g. postgresql://admin:quest@127.0.0.1:8812/qdb */
  pgUrl: string;
  clock: Clock;
  /** Prefix of the three table names (several stores on one server: tests, environments). */
  tablePrefix?: string;
}

export class QuestDbMarketStore implements MarketDataStore {
  private constructor(
    private readonly pool: Pool,
    private readonly clock: Clock,
    private readonly tables: Record<MarketDataKind, string>,
  ) {}

  static async open({ pgUrl, clock, tablePrefix = "" }: QuestDbStoreOptions): Promise<QuestDbMarketStore> {
    const pool = new Pool({ connectionString: pgUrl, max: 4 });
    const tables = { candles: `${tablePrefix}candles`, trades: `${tablePrefix}trades`, books: `${tablePrefix}books` };
    try {
      for (const shape of Object.values(SHAPES)) {
        const columns = shape.columns.map(([name, type]) => `${name} ${type}`).join(", ");
        await pool.query(
          `CREATE TABLE IF NOT EXISTS ${tables[shape.kind]} (${columns}) TIMESTAMP(ts) PARTITION BY ${shape.partition} WAL DEDUP UPSERT KEYS(${shape.dedupKeys.join(", ")})`,
        );
      }
    } catch (err) {
      await pool.end();
      throw err;
    }
    return new QuestDbMarketStore(pool, clock, tables);
  }

  async writeCandles(candles: readonly MinuteCandle[]): Promise<void> {
    checkCandles(candles);
    return this.insert(SHAPES.candles, candles, candleValues);
  }

  async writeTrades(trades: readonly StoredTrade[]): Promise<void> {
    checkTrades(trades);
    return this.insert(SHAPES.trades, trades, tradeValues);
  }

  async writeBooks(books: readonly StoredBook[]): Promise<void> {
    checkBooks(books);
    return this.insert(SHAPES.books, books, bookValues);
  }

  readCandles(instrumentKey: string, range: TimeRange, pageSize = DEFAULT_PAGE_SIZE): AsyncIterable<MinuteCandle[]> {
    return keysetPages<MinuteCandle>(async (last, limit) => {
      // Rows as arrays: pg builds no object per row (a year of candles read in 2.4 s instead of 6.2 s here).
      const { rows } = await this.pool.query<string[]>({
        text: `SELECT ts::long, open, high, low, close, volume, trade_count FROM ${this.tables.candles}
               WHERE instrument = $1 AND ts >= $2::TIMESTAMP AND ts < $3::TIMESTAMP ORDER BY ts LIMIT ${limit}`,
        values: [instrumentKey, micros(last ? last.openTime + 1 : range.from), micros(range.to)],
        rowMode: "array",
      });
      return rows.map(([ts, open, high, low, close, volume, tradeCount]) => ({
        instrumentKey,
        openTime: millis(ts),
        open: canonicalDecimal(open),
        high: canonicalDecimal(high),
        low: canonicalDecimal(low),
        close: canonicalDecimal(close),
        volume: canonicalDecimal(volume),
        tradeCount: Number(tradeCount),
      }));
    }, range, pageSize);
  }

  readTrades(instrumentKey: string, range: TimeRange, pageSize = DEFAULT_PAGE_SIZE): AsyncIterable<StoredTrade[]> {
    return keysetPages<StoredTrade>(async (last, limit) => {
      const after = last ? "AND (ts > $4::TIMESTAMP OR (ts = $4::TIMESTAMP AND trade_id > $5))" : "";
      const { rows } = await this.pool.query<Record<string, string>>(
        `SELECT ts::long ts, trade_id, price, quantity, taker_side FROM ${this.tables.trades}
         WHERE instrument = $1 AND ts >= $2::TIMESTAMP AND ts < $3::TIMESTAMP ${after} ORDER BY ts, trade_id LIMIT ${limit}`,
        [instrumentKey, micros(range.from), micros(range.to), ...(last ? [micros(last.time), last.tradeId] : [])],
      );
      return rows.map((r) => ({
        instrumentKey,
        time: millis(r.ts),
        tradeId: r.trade_id,
        price: canonicalDecimal(r.price),
        quantity: canonicalDecimal(r.quantity),
        takerSide: r.taker_side as Side,
      }));
    }, range, pageSize);
  }

  readBooks(instrumentKey: string, range: TimeRange, pageSize = DEFAULT_PAGE_SIZE): AsyncIterable<StoredBook[]> {
    return keysetPages<StoredBook>(async (last, limit) => {
      const { rows } = await this.pool.query<Record<string, string>>(
        `SELECT ts::long ts, bids, asks FROM ${this.tables.books}
         WHERE instrument = $1 AND ts >= $2::TIMESTAMP AND ts < $3::TIMESTAMP ORDER BY ts LIMIT ${limit}`,
        [instrumentKey, micros(last ? last.time + 1 : range.from), micros(range.to)],
      );
      return rows.map((r) => ({ instrumentKey, time: millis(r.ts), bids: JSON.parse(r.bids) as BookLevel[], asks: JSON.parse(r.asks) as BookLevel[] }));
    }, range, pageSize);
  }

  async resample(instrumentKey: string, timeframe: Timeframe, range: TimeRange): Promise<TimeframeCandle[]> {
    checkTimeframe(timeframe);
    checkRange(range);
    // Calendar alignment in UTC: every timeframe divides a day, so buckets fall where epoch-aligned ones do.
    const { rows } = await this.pool.query<Record<string, string>>(
      `SELECT ts::long ts, first(open) open, max(high) high, min(low) low, last(close) close, sum(volume) volume, sum(trade_count) trade_count
       FROM ${this.tables.candles} WHERE instrument = $1 AND ts >= $2::TIMESTAMP AND ts < $3::TIMESTAMP
       SAMPLE BY ${timeframe} ALIGN TO CALENDAR`,
      [instrumentKey, micros(range.from), micros(range.to)],
    );
    const span = TIMEFRAME_MS[timeframe];
    return rows.map((r) => ({
      instrumentKey,
      timeframe,
      openTime: millis(r.ts),
      closeTime: millis(r.ts) + span - 1,
      open: canonicalDecimal(r.open),
      high: canonicalDecimal(r.high),
      low: canonicalDecimal(r.low),
      close: canonicalDecimal(r.close),
      volume: canonicalDecimal(r.volume),
      tradeCount: Number(r.trade_count),
    }));
  }

  async coverage(instrumentKey?: string): Promise<InstrumentCoverage[]> {
    const only = instrumentKey === undefined ? "" : "WHERE instrument = $1";
    const params = instrumentKey === undefined ? [] : [instrumentKey];
    const coverage = new CoverageCollector();
    for (const shape of Object.values(SHAPES)) {
      const { rows } = await this.pool.query<Record<string, string>>(
        `SELECT instrument, min(ts)::long first, max(ts)::long last, count() n FROM ${this.tables[shape.kind]} ${only} GROUP BY instrument`,
        params,
      );
      for (const r of rows) coverage.held(shape.kind, r.instrument, { first: millis(r.first), last: millis(r.last), rows: Number(r.n) });
    }
    const { rows: gaps } = await this.pool.query<Record<string, string>>(
      `SELECT instrument, previous, t FROM (
         SELECT instrument, ts::long t, lag(ts::long) OVER (PARTITION BY instrument ORDER BY ts) previous FROM ${this.tables.candles} ${only})
       WHERE t - previous > ${MINUTE_MS * 1000} ORDER BY instrument, t`,
      params,
    );
    for (const r of gaps) coverage.gap(r.instrument, { from: millis(r.previous) + MINUTE_MS, to: millis(r.t) });
    return coverage.list();
  }

  async deleteOlderThan(kind: MarketDataKind, maxAgeMs: number): Promise<void> {
    const boundary = retentionBoundary(kind, this.clock.now(), maxAgeMs);
    const table = this.tables[kind];
    const client = await this.pool.connect();
    try {
      // QuestDB refuses a DROP PARTITION that matches no partition: ask first.
      const { rows } = await client.query(`SELECT count() n FROM table_partitions('${table}') WHERE maxTimestamp < $1::TIMESTAMP`, [micros(boundary)]);
      if (Number(rows[0].n) === 0) return;
      await client.query(`ALTER TABLE ${table} DROP PARTITION WHERE ts < ${micros(boundary)}`);
      await this.awaitApplied(client, table);
    } finally {
      client.release();
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  private async insert<T>(shape: TableShape, rows: readonly T[], values: (row: T) => ColumnValues): Promise<void> {
    if (rows.length === 0) return;
    // The time column takes microseconds.
    const bound = (row: T) => values(row).map((v, c) => (shape.columns[c]![1] === "TIMESTAMP" ? micros(v as number) : v));
    const table = this.tables[shape.kind];
    const width = shape.columns.length;
    const client = await this.pool.connect();
    try {
      for (let start = 0; start < rows.length; start += INSERT_BATCH) {
        const batch = rows.slice(start, start + INSERT_BATCH);
        const tuples = batch.map((_, i) => `(${shape.columns.map(([, type], c) => placeholder(type, i * width + c + 1)).join(", ")})`);
        await client.query(`INSERT INTO ${table} VALUES ${tuples.join(", ")}`, batch.flatMap(bound));
      }
      await this.awaitApplied(client, table);
    } finally {
      client.release();
    }
  }

  /** Waits until the table has applied every WAL transaction committed so far (ours included). */
  private async awaitApplied(client: PoolClient, table: string): Promise<void> {
    let target: number | undefined;
    for (let waited = 0, wait = 2; ; waited += wait, wait = Math.min(wait * 2, 50)) {
      const { rows } = await client.query(`SELECT writerTxn, sequencerTxn, suspended FROM wal_tables() WHERE name = $1`, [table]);
      const [{ writerTxn, sequencerTxn, suspended }] = rows as Array<{ writerTxn: string; sequencerTxn: string; suspended: boolean }>;
      if (suspended) throw new Error(`QuestDB suspended table ${table}: its WAL could not be applied`);
      target ??= Number(sequencerTxn);
      if (Number(writerTxn) >= target) return;
      if (waited > APPLY_TIMEOUT_MS) throw new Error(`QuestDB did not apply the writes to ${table} within ${APPLY_TIMEOUT_MS} ms`);
      await sleep(wait);
    }
  }
}
