/**
 * The candle files `npm run data -- import` reads, parsed and checked without a store: the fixtures of
 * test/fixtures/market-data were written by scripts/reference/make-market-data-fixtures.py (Python's csv
 * text, zipfile, gzip and json), not by this code.
 */
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { candleFileOf, candleFilesIn, candleRows, readCandleText, symbolOfMarketId, type CandleFile } from "../../lib/marketdata/import/candle-files";
import { CandleSequence, ImportError, compareDecimals, type SourceRow } from "../../lib/marketdata/import/candle-rows";
import type { MinuteCandle } from "../../lib/marketdata/types";

const FIXTURES = join(__dirname, "..", "fixtures", "market-data");
const binance = { exchange: "binance" };

function fileOf(relative: string, options: { exchange: string; symbol?: string } = binance): CandleFile {
  const file = candleFileOf(join(FIXTURES, relative), options);
  if (!file) throw new Error(`${relative} is not a candle file`);
  return file;
}

/** Every candle of the file, checked as the importer checks them. */
function parsed(file: CandleFile, text = readCandleText(file)): MinuteCandle[] {
  const sequence = new CandleSequence(file.path);
  const candles: MinuteCandle[] = [];
  for (const row of candleRows(file, text)) if (sequence.accept(row)) candles.push(row.candle);
  return candles;
}

const withoutTradeCount = (candles: MinuteCandle[]) => candles.map(({ tradeCount: _, ...rest }) => rest);

describe("candle file names", () => {
  it("split a Binance market id by its quote asset", () => {
    expect(symbolOfMarketId("BTCUSDT")).toBe("BTC/USDT");
    expect(symbolOfMarketId("ETHBTC")).toBe("ETH/BTC");
    expect(symbolOfMarketId("BTCFDUSD")).toBe("BTC/FDUSD");
    expect(symbolOfMarketId("1000SATSUSDC")).toBe("1000SATS/USDC");
    expect(symbolOfMarketId("USDT")).toBeUndefined();
    expect(symbolOfMarketId("FOOXYZ")).toBeUndefined();
  });

  it("tell the format, compression and instrument", () => {
    expect(fileOf("BTCUSDT-1m-2024-12-31.csv")).toMatchObject({ format: "binance-csv", compression: "none", symbol: "BTC/USDT", instrumentKey: "binance:BTC/USDT" });
    expect(fileOf("zipped/BTCUSDT-1m-2024-12-31.zip")).toMatchObject({ format: "binance-csv", compression: "zip" });
    expect(fileOf("freqtrade/BTC_USDT-1m.json", { exchange: "kraken" })).toMatchObject({ format: "freqtrade-json", compression: "none", instrumentKey: "kraken:BTC/USDT" });
    expect(fileOf("freqtrade/ETH_USDT-1m.json.gz")).toMatchObject({ format: "freqtrade-json", compression: "gzip", symbol: "ETH/USDT" });
    // --symbol wins over the name, and names a CSV whose name says nothing.
    expect(candleFileOf("/x/BTCUSDT-1m-2025-01.csv", { exchange: "binance", symbol: "BTC/USDC" })?.instrumentKey).toBe("binance:BTC/USDC");
    expect(candleFileOf("/x/history.csv", { exchange: "binance", symbol: "SOL/USDT" })?.instrumentKey).toBe("binance:SOL/USDT");
    expect(candleFileOf("/x/BTCUSDT-1m-2025-01.zip.CHECKSUM", binance)).toBeUndefined();
    expect(candleFileOf("/x/notes.txt", binance)).toBeUndefined();
  });

  it.each([
    ["/x/BTCUSDT-1h-2025-01.zip", "1h candles: only 1-minute (1m) files are imported"],
    ["/x/BTC_USDT-5m.json", "5m candles: only 1-minute (1m) files are imported"],
    ["/x/BTC_USDT_USDT-1m-futures.json", "futures candles (BTC/USDT:USDT-futures): the platform's instruments are spot markets"],
    ["/data/futures/um/monthly/klines/BTCUSDT/1m/BTCUSDT-1m-2025-01.zip", "futures klines (a futures/ folder of data.binance.vision): the platform's instruments are spot markets"],
    ["/x/FOOXYZ-1m-2025-01.csv", 'cannot tell the symbol from "FOOXYZ": pass --symbol BASE/QUOTE'],
    ["/x/history.csv", 'cannot tell the symbol from "history.csv"'],
  ])("refuse %s, saying why", (path, reason) => {
    expect(() => candleFileOf(path, binance)).toThrow(ImportError);
    expect(() => candleFileOf(path, binance)).toThrow(`${path}: ${reason}`);
  });

  it("refuse a --symbol that is not BASE/QUOTE", () => {
    expect(() => candleFileOf("/x/a.csv", { exchange: "binance", symbol: "btc-usdt" })).toThrow('symbol "btc-usdt" is not a spot symbol BASE/QUOTE');
  });

  it("of a directory: its candle files sorted, the rest skipped", () => {
    const found = candleFilesIn(FIXTURES, binance);
    expect(found.files.map((f) => f.path.slice(FIXTURES.length + 1))).toEqual(["BTCUSDT-1m-2024-12-31.csv", "ETHUSDT-1m-2025-01-01.csv", "ETHUSDT-1m-2025-01-02.zip"]);
    expect(found.refused).toEqual([]);
  });
});

describe("candle files parsed", () => {
  it("read a Binance CSV in milliseconds without a header, values as written without the padding zeros", () => {
    const candles = parsed(fileOf("BTCUSDT-1m-2024-12-31.csv"));
    expect(candles).toHaveLength(240);
    // The file's first and last lines, by eye:
    // 1735603200000,93500.50000000,93579.74000000,93292.44000000,93363.75000000,21.39675000,1735603259999,…,130,…
    expect(candles[0]).toEqual({ instrumentKey: "binance:BTC/USDT", openTime: 1_735_603_200_000, open: "93500.5", high: "93579.74", low: "93292.44", close: "93363.75", volume: "21.39675", tradeCount: 130 });
    expect(candles[239]!.openTime).toBe(Date.UTC(2024, 11, 31, 3, 59));
    expect(candles.every((c, i) => c.openTime === 1_735_603_200_000 + i * 60_000)).toBe(true);
  });

  it("read the same day from the zip and from Freqtrade's JSON (which has no trade counts)", () => {
    const csv = parsed(fileOf("BTCUSDT-1m-2024-12-31.csv"));
    expect(parsed(fileOf("zipped/BTCUSDT-1m-2024-12-31.zip"))).toEqual(csv);
    const json = parsed(fileOf("freqtrade/BTC_USDT-1m.json"));
    expect(withoutTradeCount(json)).toEqual(withoutTradeCount(csv));
    expect(json.every((c) => c.tradeCount === 0)).toBe(true);
  });

  it("check a zip against the .CHECKSUM Binance publishes beside it, which a directory import does not list", () => {
    expect(candleFilesIn(join(FIXTURES, "zipped"), binance)).toEqual({ files: [fileOf("zipped/BTCUSDT-1m-2024-12-31.zip")], refused: [], skipped: [] });
    const dir = mkdtempSync(join(tmpdir(), "data-files-"));
    try {
      const zip = join(dir, "BTCUSDT-1m-2024-12-31.zip");
      copyFileSync(join(FIXTURES, "zipped", "BTCUSDT-1m-2024-12-31.zip"), zip);
      writeFileSync(`${zip}.CHECKSUM`, `${"0".repeat(64)}  BTCUSDT-1m-2024-12-31.zip\n`);
      const file = candleFileOf(zip, binance)!;
      expect(() => readCandleText(file)).toThrow(
        `${zip}: SHA-256 be4d06c17293ae611d5a8aa355841551cdbb052ef09eb9622a8264e267f818d5 is not the ${"0".repeat(64)} of ${zip}.CHECKSUM: a damaged download, fetch it again`,
      );
      writeFileSync(`${zip}.CHECKSUM`, "not a checksum");
      expect(() => readCandleText(file)).toThrow(`${zip}.CHECKSUM holds no SHA-256`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("read microsecond times (spot files since 2025), with a header line and without, and gzipped JSON", () => {
    const withHeader = parsed(fileOf("ETHUSDT-1m-2025-01-01.csv"));
    expect(withHeader).toHaveLength(180);
    // 1735689600000000,3350.25000000,3359.54000000,3350.06000000,3356.36000000,7.11958000,1735689659999999,…,379,…
    expect(withHeader[0]).toEqual({ instrumentKey: "binance:ETH/USDT", openTime: 1_735_689_600_000, open: "3350.25", high: "3359.54", low: "3350.06", close: "3356.36", volume: "7.11958", tradeCount: 379 });
    expect(withoutTradeCount(parsed(fileOf("freqtrade/ETH_USDT-1m.json.gz")))).toEqual(withoutTradeCount(withHeader));
    const zipped = parsed(fileOf("ETHUSDT-1m-2025-01-02.zip"));
    expect(zipped).toHaveLength(120);
    expect(zipped[0]!.openTime).toBe(Date.UTC(2025, 0, 2));
  });

  it("turn JSON numbers into their shortest decimal: 0.1 is 0.1, 1e-7 is 0.0000001, never float noise", () => {
    const file = candleFileOf("/x/BTC_USDT-1m.json", binance)!;
    // 0.30000000000000004 is the double 0.1 + 0.2: its shortest form has 17 places, more than the store's 8.
    expect(() => parsed(file, "[[60000, 0.1, 0.30000000000000004, 0.1, 0.2, 1e-7]]")).toThrow(
      "/x/BTC_USDT-1m.json:1: high must be a decimal string of at most 10 integer digits and 8 decimal places",
    );
    const [ok] = parsed(file, "[[60000, 0.1, 0.3, 0.1, 0.2, 1e-7]]");
    expect(ok).toMatchObject({ open: "0.1", high: "0.3", low: "0.1", close: "0.2", volume: "0.0000001" });
  });
});

describe("malformed candle files are refused with file, line and reason", () => {
  const header = "open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,taker_buy_quote_volume,ignore";
  const line = (t: number, o: string, h: string, l: string, c: string, v = "1.5", close = t + 59_999, n = "10") => [t, o, h, l, c, v, close, "0", n, "0", "0", "0"].join(",");
  const T = 1_735_603_200_000;
  const good = [line(T, "100", "101", "99", "100.5"), line(T + 60_000, "100.5", "102", "100", "101")];
  const file = candleFileOf("/data/BTCUSDT-1m-2024-12-31.csv", binance)!;
  const refusal = (lines: string[]) => {
    try {
      parsed(file, lines.join("\n"));
    } catch (err) {
      expect(err).toBeInstanceOf(ImportError);
      return (err as Error).message;
    }
    throw new Error("not refused");
  };

  it.each([
    ["a wrong column count", [...good, "1735603320000,1,2,3"], 3, "expected 12 columns, found 4"],
    ["a price that is not a number", [...good, line(T + 120_000, "101", "abc", "100", "101")], 3, 'high "abc" is not a decimal number'],
    ["a negative volume", [...good, line(T + 120_000, "101", "102", "100", "101", "-2")], 3, "volume -2 is negative"],
    ["a high below the open", [...good, line(T + 120_000, "101", "100.9", "100", "100.5")], 3, "high 100.9 is below the open 101 or the close 100.5"],
    ["a high below the close", [line(T, "100", "100.5", "99", "100.50000001")], 1, "high 100.5 is below the open 100 or the close 100.50000001"],
    ["a low above the close", [...good, line(T + 120_000, "101", "102", "100.6", "100.5")], 3, "low 100.6 is above the open 101 or the close 100.5"],
    ["a time not on a minute", [...good, line(T + 150_000, "101", "102", "100", "101")], 3, "open time 2024-12-31T00:02:30.000Z is not on a minute"],
    ["times going back", [...good, line(T, "101", "102", "100", "101")], 3, "open time 2024-12-31T00:00:00.000Z is before the previous candle's (line 2): times must increase"],
    ["a minute twice with other values", [...good, line(T + 60_000, "100.5", "102", "100", "101.5")], 3, "a second candle for 2024-12-31T00:01:00.000Z with other values than line 2"],
    ["another interval's kline", [...good, line(T + 120_000, "101", "102", "100", "101", "1", T + 120_000 + 299_999)], 3, "is not open time + 1 minute − 1: not a 1-minute kline"],
    ["microseconds after milliseconds", [...good, line((T + 120_000) * 1000, "101", "102", "100", "101", "1", (T + 180_000) * 1000 - 1)], 3, "is in microseconds, the file's first row in milliseconds"],
    ["more decimal places than the store keeps", [...good, line(T + 120_000, "101", "102", "100", "101.000000001")], 3, "close must be a decimal string of at most 10 integer digits and 8 decimal places"],
    ["a price too large for the store", [...good, line(T + 120_000, "101", "12345678901", "100", "101")], 3, "high must be a decimal string of at most 10 integer digits and 8 decimal places"],
    ["a first line that is neither header nor kline", ["time,o,h,l,c", ...good], 1, "not a Binance kline file"],
    ["a trade count that is not whole", [...good, line(T + 120_000, "101", "102", "100", "101", "1", T + 179_999, "1.5")], 3, 'trade count "1.5" is not a whole number'],
  ])("%s", (_, lines, at, reason) => {
    const message = refusal(lines as string[]);
    expect(message.startsWith(`/data/BTCUSDT-1m-2024-12-31.csv:${at}: `)).toBe(true);
    expect(message).toContain(reason);
  });

  it("counts the header line and skips blank lines and CRLF line ends", () => {
    expect(refusal([header, good[0]!, "", good[1]!, line(T, "1", "1", "1", "1")].map((l) => `${l}\r`))).toMatch(/csv:5: open time .* is before the previous candle's \(line 4\)/);
  });

  it("skips a minute repeated with the same values", () => {
    const rows: SourceRow[] = [...candleRows(file, [...good, good[1]!].join("\n"))];
    const sequence = new CandleSequence(file.path);
    expect(rows.map((row) => sequence.accept(row))).toEqual([true, true, false]);
    expect([sequence.accepted, sequence.repeats]).toEqual([2, 1]);
  });

  it("names the line of a bad candle in a Freqtrade file written a candle a line", () => {
    const json = candleFileOf("/data/BTC_USDT-1m.json", binance)!;
    const text = `[\n[${T},1,1,1,1,1],\n[${T + 60_000},1,1,1,"1",1]\n]`;
    expect(() => parsed(json, text)).toThrow('/data/BTC_USDT-1m.json:3: close "1" is not a number');
    expect(() => parsed(json, "{}")).toThrow("not a Freqtrade candle file");
    expect(() => parsed(json, "[[1,2")).toThrow("/data/BTC_USDT-1m.json: not JSON");
  });
});

describe("decimal comparison", () => {
  it.each([
    ["1", "1", 0],
    ["10", "9.99999999", 1],
    ["0.5", "0.49", 1],
    ["1234567890.12345678", "1234567890.12345679", -1],
    ["2", "2.00000001", -1],
  ])("%s vs %s", (a, b, sign) => {
    expect(Math.sign(compareDecimals(a, b))).toBe(sign);
    expect(Math.sign(compareDecimals(b, a))).toBe(-sign || 0);
  });
});
