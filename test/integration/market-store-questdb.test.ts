import { ManualClock } from "../../lib/clock";
import { openMarketStore } from "../../lib/marketdata/open";
import { marketStoreConformance } from "../conformance/market-store.conformance";
import { dropQuestDbTables, infra } from "../helpers/infra";
import { freePort } from "../helpers/ports";

// Each test gets tables of its own on the shared server (retention drops partitions table-wide); all are dropped after.
const runPrefix = `conformance_${process.pid}_${Date.now()}_`;
let opened = 0;

afterAll(() => dropQuestDbTables(runPrefix));

// Writes go to the line protocol endpoint the server reports (`httpUrl` left out).
marketStoreConformance("QuestDB", {
  open: (clock) => openMarketStore({ kind: "questdb", pgUrl: infra().questdbPgUrl, tablePrefix: `${runPrefix}${++opened}_` }, clock),
});

describe("QuestDB market data store endpoints", () => {
  const candle = { instrumentKey: "binance:BTC/USDT", openTime: 60_000, open: "1.5", high: "2", low: "1", close: "1.75", volume: "10.00000001", tradeCount: 3 };

  it("writes through the HTTP endpoint it is given", async () => {
    const store = await openMarketStore({ kind: "questdb", pgUrl: infra().questdbPgUrl, httpUrl: infra().questdbHttpUrl, tablePrefix: `${runPrefix}given_` }, new ManualClock());
    try {
      await store.writeCandles([candle]);
      expect(await store.recentCandles(candle.instrumentKey, "1m", { limit: 5 })).toEqual([{ ...candle, timeframe: "1m", closeTime: 119_999 }]);
    } finally {
      await store.close();
    }
  });

  it("fails a write, saying so, when the HTTP endpoint it is given does not answer", async () => {
    // A port nothing listens on: the PostgreSQL side works, the line protocol side cannot.
    const port = await freePort();
    const store = await openMarketStore({ kind: "questdb", pgUrl: infra().questdbPgUrl, httpUrl: `http://127.0.0.1:${port}`, tablePrefix: `${runPrefix}unreachable_` }, new ManualClock());
    try {
      await expect(store.writeCandles([candle])).rejects.toThrow(`line protocol endpoint http://127.0.0.1:${port}/write?precision=ms did not answer: connect ECONNREFUSED`);
      expect(await store.coverage()).toEqual([]);
    } finally {
      await store.close();
    }
  });
});
