import { Client } from "pg";
import { QuestDbMarketStore } from "../../lib/marketdata/questdb-store";
import { marketStoreConformance } from "../conformance/market-store.conformance";
import { infra } from "../helpers/infra";

// Each test gets tables of its own on the shared server (retention drops partitions table-wide); all are dropped after.
const runPrefix = `conformance_${process.pid}_${Date.now()}_`;
let opened = 0;

afterAll(async () => {
  const client = new Client({ connectionString: infra().questdbPgUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ table_name: string }>("SELECT table_name FROM tables() WHERE table_name LIKE $1", [`${runPrefix}%`]);
    for (const { table_name } of rows) await client.query(`DROP TABLE "${table_name}"`);
  } finally {
    await client.end();
  }
});

marketStoreConformance("QuestDB", {
  open: (clock) => QuestDbMarketStore.open({ pgUrl: infra().questdbPgUrl, clock, tablePrefix: `${runPrefix}${++opened}_` }),
});
