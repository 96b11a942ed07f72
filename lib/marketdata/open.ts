/** The market data store the configuration names: DuckDB in a file (embedded), or a QuestDB server (distributed). */
import type { Clock } from "../clock";
import { DuckDbMarketStore } from "./duckdb-store";
import { QuestDbMarketStore } from "./questdb-store";
import type { MarketDataStore } from "./types";

export type MarketStoreOptions =
  /** The embedded store: the DuckDB file at `path`; several opens in one process share it. */
  | { kind: "duckdb"; path: string }
  /**
   * QuestDB, read over its PostgreSQL wire protocol (postgresql://admin:quest@127.0.0.1:8812/qdb) and written
   * in its line protocol over HTTP (`httpUrl`, by default the HTTP port the server reports on the same host);
   * `tablePrefix` starts each table's name.
   */
  | { kind: "questdb"; pgUrl: string; httpUrl?: string; tablePrefix?: string };

export function openMarketStore(options: MarketStoreOptions, clock: Clock): Promise<MarketDataStore> {
  switch (options.kind) {
    case "duckdb":
      return DuckDbMarketStore.open(options.path, clock);
    case "questdb":
      return QuestDbMarketStore.open({ pgUrl: options.pgUrl, httpUrl: options.httpUrl, clock, tablePrefix: options.tablePrefix });
  }
}
