/**
 * Binance public-data kline files (data.binance.vision): CSV lines of 12 columns — open time, open,
 * high, low, close, volume, close time, quote volume, trade count, taker buy base, taker buy quote,
 * ignore — with a header line or none. Times are milliseconds, or microseconds in the spot files
 * since 2025: the file's first row decides (a 16-digit time is microseconds), and every row must agree.
 */
import { MINUTE_MS } from "../types";
import { ImportError, RowError, decimalField, integerField, type SourceRow } from "./candle-rows";

const COLUMNS = 12;
/** Epoch times from 16 digits on are microseconds (milliseconds reach 16 digits only in the year 318,857). */
const MICROSECONDS_FROM = 1e15;

/** The rows of a kline file's text (`file` names it in refusals), each parsed; a bad row throws an ImportError. */
export function* binanceKlineRows(text: string, file: string, instrumentKey: string): Generator<SourceRow> {
  let unit: 1 | 1000 | undefined;
  let line = 0;
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf("\n", start);
    if (end < 0) end = text.length;
    const content = text.charCodeAt(end - 1) === 13 /* \r */ ? text.slice(start, end - 1) : text.slice(start, end);
    start = end + 1;
    line++;
    if (content.length === 0) continue;
    const fields = content.split(",");
    if (line === 1 && !/^[0-9]/.test(fields[0]!)) {
      if (fields[0] === "open_time") continue;
      throw new ImportError(file, line, `not a Binance kline file: the first line is neither a kline nor the header (open_time,open,high,…)`);
    }
    try {
      if (fields.length !== COLUMNS) throw new RowError(`expected ${COLUMNS} columns, found ${fields.length}`);
      const rawOpen = integerField(fields[0]!, "open time");
      const rowUnit = rawOpen >= MICROSECONDS_FROM ? 1000 : 1;
      unit ??= rowUnit;
      if (rowUnit !== unit) throw new RowError(`open time ${fields[0]} is in ${rowUnit === 1000 ? "microseconds" : "milliseconds"}, the file's first row in ${unit === 1000 ? "microseconds" : "milliseconds"}`);
      const rawClose = integerField(fields[6]!, "close time");
      if (rawClose !== rawOpen + MINUTE_MS * unit - 1) throw new RowError(`close time ${fields[6]} is not open time + 1 minute − 1: not a 1-minute kline (only 1m files are imported; the store derives the other timeframes)`);
      if (rawOpen % unit !== 0) throw new RowError(`open time ${fields[0]} is not on a minute`);
      yield {
        line,
        candle: {
          instrumentKey,
          openTime: rawOpen / unit,
          open: decimalField(fields[1]!, "open"),
          high: decimalField(fields[2]!, "high"),
          low: decimalField(fields[3]!, "low"),
          close: decimalField(fields[4]!, "close"),
          volume: decimalField(fields[5]!, "volume"),
          tradeCount: integerField(fields[8]!, "trade count"),
        },
      };
    } catch (err) {
      if (err instanceof RowError) throw new ImportError(file, line, err.message);
      throw err;
    }
  }
}
