/**
 * Which files hold 1-minute candles the importer reads, and of which instrument: Binance public-data
 * kline files (`BTCUSDT-1m-2025-01.csv` or `.zip`) and Freqtrade JSON files (`BTC_USDT-1m.json`, `.json.gz`),
 * the symbol told by the name (or `--symbol`). Other intervals are refused: the store derives every
 * timeframe from the 1-minute candles.
 */
import { constants } from "node:buffer";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { gunzipSync } from "node:zlib";
import { unzipSync } from "fflate";
import { instrumentKeyOf } from "../../../schemas";
import { binanceKlineRows } from "./binance-klines";
import { ImportError, type SourceRow } from "./candle-rows";
import { freqtradeRows } from "./freqtrade-json";

export type CandleFileFormat = "binance-csv" | "freqtrade-json";

export interface CandleFile {
  path: string;
  format: CandleFileFormat;
  compression: "zip" | "gzip" | "none";
  /** The unified symbol, e.g. BTC/USDT. */
  symbol: string;
  instrumentKey: string;
}

/**
 * Quote assets Binance lists markets in, longest first, to split a market id (BTCUSDT) into base and
 * quote; a market in another quote needs `--symbol`.
 */
const QUOTE_ASSETS = [
  "FDUSD", "USDT", "USDC", "TUSD", "BUSD", "USDP", "AEUR", "EURI", "BIDR", "IDRT", "BKRW", "BVND",
  "DAI", "BTC", "ETH", "BNB", "EUR", "GBP", "TRY", "BRL", "JPY", "AUD", "RUB", "UAH", "ZAR", "PLN", "RON",
  "ARS", "MXN", "COP", "CZK", "NGN", "XRP", "TRX", "SOL", "PAX", "VAI", "UST", "DOGE", "DOT",
].sort((a, b) => b.length - a.length);

/** A unified spot symbol: what the platform's instrument keys hold. */
const SPOT_SYMBOL = /^[A-Z0-9]+\/[A-Z0-9]+$/;

/** Binance publishes `<zip>.CHECKSUM` beside each zip: its SHA-256 in hex, then the file's name. */
const CHECKSUM_SUFFIX = ".CHECKSUM";

const BINANCE_NAME = /^([A-Z0-9]+)-([0-9]+[smhdwM])-[0-9]{4}(?:-[0-9]{2}){0,2}\.(csv|zip)$/;
const FREQTRADE_NAME = /^([A-Z0-9]+)_([A-Z0-9]+)(?:_([A-Z0-9]+))?-([0-9]+[smhdwM])(-[a-z_]+)?\.json(\.gz)?$/;

/** A market id split by its quote asset: BTCUSDT → BTC/USDT. */
export function symbolOfMarketId(marketId: string): string | undefined {
  const quote = QUOTE_ASSETS.find((q) => marketId.endsWith(q) && marketId.length > q.length);
  return quote && `${marketId.slice(0, -quote.length)}/${quote}`;
}

export interface CandleFileOptions {
  /** The exchange of the instrument key (the platform's `binance:BTC/USDT`). */
  exchange: string;
  /** The unified symbol, when the file's name does not tell it (or tells it wrong). */
  symbol?: string;
}

/**
 * What a file is, from its name: a candle file of one instrument, or undefined when it is not a
 * format the importer reads. A candle file the importer refuses (another interval, futures, a symbol
 * it cannot tell) throws an ImportError saying why.
 */
export function candleFileOf(path: string, options: CandleFileOptions): CandleFile | undefined {
  const name = basename(path);
  const symbol = (found: string | undefined, hint: string): string => {
    const chosen = options.symbol ?? found;
    if (!chosen) throw new ImportError(path, undefined, `cannot tell the symbol from "${hint}": pass --symbol BASE/QUOTE`);
    if (!SPOT_SYMBOL.test(chosen)) throw new ImportError(path, undefined, `symbol "${chosen}" is not a spot symbol BASE/QUOTE (upper-case letters and digits)`);
    return chosen;
  };
  const oneMinute = (interval: string) => {
    if (interval !== "1m") throw new ImportError(path, undefined, `${interval} candles: only 1-minute (1m) files are imported; the store derives 5m…1d from them`);
  };
  const file = (format: CandleFileFormat, compression: CandleFile["compression"], chosen: string): CandleFile => ({
    path,
    format,
    compression,
    symbol: chosen,
    instrumentKey: instrumentKeyOf(options.exchange, chosen),
  });

  const binance = BINANCE_NAME.exec(name);
  if (binance) {
    oneMinute(binance[2]!);
    // data.binance.vision keeps futures klines under data/futures/(um|cm)/…, with names like the spot ones.
    if (path.split(/[\\/]/).includes("futures")) throw new ImportError(path, undefined, "futures klines (a futures/ folder of data.binance.vision): the platform's instruments are spot markets");
    return file("binance-csv", binance[3] === "zip" ? "zip" : "none", symbol(symbolOfMarketId(binance[1]!), binance[1]!));
  }
  const freqtrade = FREQTRADE_NAME.exec(name);
  if (freqtrade) {
    const [, base, quote, settle, interval, kind, gz] = freqtrade;
    if (settle || kind) {
      throw new ImportError(path, undefined, `futures candles (${base}/${quote}${settle ? `:${settle}` : ""}${kind ?? ""}): the platform's instruments are spot markets`);
    }
    oneMinute(interval!);
    return file("freqtrade-json", gz ? "gzip" : "none", symbol(`${base}/${quote}`, name));
  }
  // Any other CSV (a file renamed, or made by another tool in Binance's columns) with the symbol given.
  if (/\.(csv|zip)$/.test(name) && options.symbol) return file("binance-csv", name.endsWith(".zip") ? "zip" : "none", symbol(undefined, name));
  if (/\.(csv|zip)$/.test(name)) throw new ImportError(path, undefined, `cannot tell the symbol from "${name}" (not a Binance SYMBOL-1m-YYYY-MM[-DD] name): pass --symbol BASE/QUOTE`);
  return undefined;
}

/** The candle files of a directory (sorted by name, so months come in order), the files refused (another interval, futures…) and those skipped. */
export function candleFilesIn(dir: string, options: CandleFileOptions): { files: CandleFile[]; refused: ImportError[]; skipped: string[] } {
  const found: ReturnType<typeof candleFilesIn> = { files: [], refused: [], skipped: [] };
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    // A zip's checksum is read with the zip.
    if (!statSync(path).isFile() || name.endsWith(CHECKSUM_SUFFIX)) continue;
    try {
      const file = candleFileOf(path, options);
      if (file) found.files.push(file);
      else found.skipped.push(path);
    } catch (err) {
      if (!(err instanceof ImportError)) throw err;
      found.refused.push(err);
    }
  }
  return found;
}

/** Refuses a file whose `.CHECKSUM` (when there is one beside it) names another SHA-256: a damaged download. */
function checkChecksum(path: string, bytes: Buffer): void {
  const checksumFile = `${path}${CHECKSUM_SUFFIX}`;
  if (!existsSync(checksumFile)) return;
  const expected = /^\s*([0-9a-fA-F]{64})\b/.exec(readFileSync(checksumFile, "utf8"))?.[1]?.toLowerCase();
  if (!expected) throw new ImportError(path, undefined, `${checksumFile} holds no SHA-256`);
  const actual = createHash("sha256").update(bytes).digest("hex");
  if (actual !== expected) throw new ImportError(path, undefined, `SHA-256 ${actual} is not the ${expected} of ${checksumFile}: a damaged download, fetch it again`);
}

/** The file's text: a zip's one CSV, a gzip's content, or the file itself; checked against its checksum file if it has one. */
export function readCandleText(file: CandleFile): string {
  const bytes = readFileSync(file.path);
  checkChecksum(file.path, bytes);
  const text = (content: Uint8Array): string => {
    // A file is parsed from one string: JavaScript's longest is about 512 MB (some 4 instrument-years of klines).
    if (content.length > constants.MAX_STRING_LENGTH) {
      throw new ImportError(file.path, undefined, `${Math.round(content.length / 1e6)} MB of text is more than one file can be (${Math.floor(constants.MAX_STRING_LENGTH / 1e6)} MB): split it, e.g. into Binance's monthly files`);
    }
    return Buffer.from(content.buffer, content.byteOffset, content.length).toString("utf8");
  };
  if (file.compression === "none") return text(bytes);
  const unpack = <T>(what: string, work: () => T): T => {
    try {
      return work();
    } catch (err) {
      throw new ImportError(file.path, undefined, `not a readable ${what}: ${(err as Error).message}`);
    }
  };
  if (file.compression === "gzip") return text(unpack("gzip file", () => gunzipSync(bytes)));
  const entries = unpack("zip file", () => unzipSync(bytes));
  const csvs = Object.keys(entries).filter((name) => name.endsWith(".csv"));
  if (csvs.length !== 1) throw new ImportError(file.path, undefined, `a Binance zip holds one .csv; this one holds ${csvs.length}`);
  return text(entries[csvs[0]!]!);
}

/** The candles of a file's text, parsed by its format; refusals name the file and line. */
export function candleRows(file: CandleFile, text: string): Generator<SourceRow> {
  return file.format === "binance-csv" ? binanceKlineRows(text, file.path, file.instrumentKey) : freqtradeRows(text, file.path, file.instrumentKey);
}
