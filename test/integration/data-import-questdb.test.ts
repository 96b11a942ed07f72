/** `npm run data -- import` on QuestDB (the distributed mode's store): the suite test/unit/data-import.test.ts runs on the embedded store. */
import { openMarketStore } from "../../lib/marketdata/open";
import { dataImportConformance } from "../conformance/data-import.conformance";
import { dropQuestDbTables, infra } from "../helpers/infra";

// Each store opened gets tables of its own on the shared server; all are dropped after.
const runPrefix = `data_import_${process.pid}_${Date.now()}_`;
let opened = 0;
afterAll(() => dropQuestDbTables(runPrefix));

dataImportConformance("QuestDB", {
  open: (clock) => openMarketStore({ kind: "questdb", pgUrl: infra().questdbPgUrl, tablePrefix: `${runPrefix}${++opened}_` }, clock),
});
