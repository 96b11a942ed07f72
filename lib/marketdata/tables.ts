/**
 * The market data tables, declared once for both stores: each column's name and what it holds. Each
 * store maps the kinds to its SQL types (DuckDB, QuestDB); QuestDB names the time column `ts`, its
 * designated timestamp.
 */
import type { FeaturesComputed } from "../../schemas";
import type { MarketDataKind, MinuteCandle, StoredBook, StoredTrade } from "./types";

/** Prices and quantities: exact decimals, 10 integer and 8 fractional digits (larger values are refused). */
export const DECIMAL_SCALE = 8;
export const DECIMAL = `DECIMAL(18,${DECIMAL_SCALE})`;

export type ColumnKind = "instrument" | "time" | "decimal" | "integer" | "text" | "side";

export interface MarketTable {
  kind: MarketDataKind;
  /** Columns in the order rows are written. */
  columns: ReadonlyArray<readonly [name: string, kind: ColumnKind]>;
  /** What makes a row unique: a rewrite of the same key replaces the row. */
  key: readonly string[];
  /** The unit retention drops (QuestDB's partitions): days of trades and books, months of candles and indicators. */
  partition: "DAY" | "MONTH";
}

export const MARKET_TABLES: Record<MarketDataKind, MarketTable> = {
  candles: {
    kind: "candles",
    columns: [["instrument", "instrument"], ["open_time", "time"], ["open", "decimal"], ["high", "decimal"], ["low", "decimal"], ["close", "decimal"], ["volume", "decimal"], ["trade_count", "integer"]],
    key: ["instrument", "open_time"],
    partition: "MONTH",
  },
  indicators: {
    kind: "indicators",
    // The feature vector as JSON text: its values are plain numbers, which JSON writes and reads back exactly;
    // close and received times are epoch milliseconds like the key's open time.
    columns: [["instrument", "instrument"], ["open_time", "time"], ["close_time", "integer"], ["close", "decimal"], ["features", "text"], ["received_at", "integer"]],
    key: ["instrument", "open_time"],
    partition: "MONTH",
  },
  trades: {
    kind: "trades",
    columns: [["instrument", "instrument"], ["time", "time"], ["trade_id", "text"], ["price", "decimal"], ["quantity", "decimal"], ["taker_side", "side"]],
    key: ["instrument", "time", "trade_id"],
    partition: "DAY",
  },
  books: {
    kind: "books",
    // The levels as JSON text: exact strings, and a snapshot is only ever read whole.
    columns: [["instrument", "instrument"], ["time", "time"], ["bids", "text"], ["asks", "text"]],
    key: ["instrument", "time"],
    partition: "DAY",
  },
};

/** The name of the table's time column (retention and coverage go by it). */
export const timeColumnOf = (table: MarketTable): string => table.columns.find(([, kind]) => kind === "time")![0];

/** A row's column values in the table's column order: times and counts as numbers, the rest as text. */
export type ColumnValues = Array<string | number>;

export const candleValues = (c: MinuteCandle): ColumnValues => [c.instrumentKey, c.openTime, c.open, c.high, c.low, c.close, c.volume, c.tradeCount];
export const indicatorValues = (r: FeaturesComputed): ColumnValues => [r.instrumentKey, r.openTime, r.closeTime, r.close, JSON.stringify(r.features), r.receivedAt];
export const tradeValues = (t: StoredTrade): ColumnValues => [t.instrumentKey, t.time, t.tradeId, t.price, t.quantity, t.takerSide];
export const bookValues = (b: StoredBook): ColumnValues => [b.instrumentKey, b.time, JSON.stringify(b.bids), JSON.stringify(b.asks)];
