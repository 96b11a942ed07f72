/** `npm run data -- import` on the embedded store (DuckDB files in a temp directory); test/integration/data-import-questdb.test.ts runs the same on QuestDB. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openMarketStore } from "../../lib/marketdata/open";
import { dataImportConformance } from "../conformance/data-import.conformance";

const dir = mkdtempSync(join(tmpdir(), "data-import-store-"));
let opened = 0;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

dataImportConformance("embedded (DuckDB)", {
  open: (clock) => openMarketStore({ kind: "duckdb", path: join(dir, `market-${++opened}.duckdb`) }, clock),
});
