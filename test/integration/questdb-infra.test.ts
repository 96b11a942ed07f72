/**
 * The QuestDB of test/global-setup.ts (scripts/infra/questdb.sh) answers over both protocols the market
 * data store uses: rows written over the PostgreSQL wire protocol are read back over HTTP, into a
 * table shaped like the store's (designated timestamp, day partitions, WAL, deduplication on time and
 * instrument). Also runs docker-compose.yml's QuestDB health check against this real server.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { randomUUID } from "node:crypto";
import { Client } from "pg";
import { parse } from "yaml";
import { infra } from "../helpers/infra";
import { freePort } from "../helpers/ports";
import { waitFor } from "../helpers/wait";

const table = `infra_check_${randomUUID().slice(0, 8)}`;

async function httpQuery(sql: string): Promise<{ dataset: unknown[][] }> {
  const res = await fetch(`${infra().questdbHttpUrl}/exec?query=${encodeURIComponent(sql)}`);
  const body = (await res.json()) as { dataset: unknown[][]; error?: string };
  if (!res.ok) throw new Error(`QuestDB HTTP ${res.status}: ${body.error}`);
  return body;
}

describe("QuestDB test server", () => {
  const pg = new Client({ connectionString: infra().questdbPgUrl });

  beforeAll(() => pg.connect());
  afterAll(async () => {
    await pg.query(`DROP TABLE IF EXISTS ${table}`);
    await pg.end();
  });

  it("keeps one row per (ts, instrument) written over the PG wire, and serves it over HTTP", async () => {
    await pg.query(
      `CREATE TABLE ${table} (ts TIMESTAMP, instrument SYMBOL, close DECIMAL(18,8), volume DOUBLE)
       TIMESTAMP(ts) PARTITION BY DAY WAL DEDUP UPSERT KEYS(ts, instrument)`,
    );
    await pg.query(
      `INSERT INTO ${table} VALUES ('2025-01-01T00:00:00.000000Z', 'BTC/USDT', 93500.5m, 1.5),
       ('2025-01-01T00:01:00.000000Z', 'BTC/USDT', 93510.25m, 2.0), ('2025-01-02T00:00:00.000000Z', 'ETH/USDT', 3350.125m, 10.0)`,
    );
    // A redelivery of the first candle with corrected values: the upsert replaces it.
    await pg.query(`INSERT INTO ${table} VALUES ('2025-01-01T00:00:00.000000Z', 'BTC/USDT', 93499.00000001m, 1.75)`);

    // WAL tables apply their writes asynchronously: wait until the last one is visible.
    const rows = await waitFor(async () => {
      const { dataset } = await httpQuery(`SELECT ts, instrument, close, volume FROM ${table} ORDER BY instrument, ts`);
      return dataset.length === 3 && dataset[0]![3] === 1.75 ? dataset : undefined;
    }, "QuestDB to apply the WAL", 20_000);
    expect(rows).toEqual([
      ["2025-01-01T00:00:00.000000Z", "BTC/USDT", "93499.00000001", 1.75],
      ["2025-01-01T00:01:00.000000Z", "BTC/USDT", "93510.25000000", 2.0],
      ["2025-01-02T00:00:00.000000Z", "ETH/USDT", "3350.12500000", 10.0],
    ]);
    const partitions = await pg.query(`SELECT name FROM table_partitions('${table}') ORDER BY name`);
    expect(partitions.rows.map((r) => r.name)).toEqual(["2025-01-01", "2025-01-02"]);
  });

  it("passes docker-compose.yml's health check, which fails where nothing listens", async () => {
    const compose = parse(fs.readFileSync(path.join(__dirname, "..", "..", "docker-compose.yml"), "utf8")) as {
      services: { questdb: { healthcheck: { test: string[] } } };
    };
    const check = compose.services.questdb.healthcheck.test[1]!;
    const hex = (port: number) => port.toString(16).toUpperCase().padStart(4, "0");
    // The compose file checks the image's default ports; point it at this server's.
    const checkPorts = (http: number, pgPort: number) =>
      check.replace(":2328 ", `:${hex(http)} `).replace(":226C ", `:${hex(pgPort)} `);
    const run = (script: string) => {
      try {
        execFileSync("sh", ["-c", script], { stdio: "ignore" });
        return 0;
      } catch (err) {
        return (err as { status: number }).status;
      }
    };
    const httpPort = Number(new URL(infra().questdbHttpUrl).port);
    const pgPort = Number(new URL(infra().questdbPgUrl).port);
    expect(run(checkPorts(httpPort, pgPort))).toBe(0);
    expect(run(checkPorts(httpPort, await freePort()))).not.toBe(0);
  });
});
