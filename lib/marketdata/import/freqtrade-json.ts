/**
 * Freqtrade's JSON candle files (`user_data/data/<exchange>/BTC_USDT-1m.json`, or `.json.gz`): one
 * array of [open time in ms, open, high, low, close, volume], the values JSON numbers. A number
 * becomes the shortest decimal that reads back as the same double — what Freqtrade held — so 0.1
 * is "0.1", never the binary expansion (lib/venue/ccxt-convert's `decimalOf`, as for ccxt's numbers).
 */
import { decimalOf } from "../../venue/ccxt-convert";
import { ImportError, RowError, decimalField, type SourceRow } from "./candle-rows";

const FIELDS = ["open time", "open", "high", "low", "close", "volume"] as const;

/** The candles of a Freqtrade JSON file's text (`file` names it in refusals); a bad one throws an ImportError with its line. */
export function* freqtradeRows(text: string, file: string, instrumentKey: string): Generator<SourceRow> {
  let rows: unknown;
  try {
    rows = JSON.parse(text);
  } catch (err) {
    throw new ImportError(file, undefined, `not JSON: ${(err as Error).message}`);
  }
  if (!Array.isArray(rows)) throw new ImportError(file, 1, "not a Freqtrade candle file: expected an array of [time, open, high, low, close, volume]");
  const lines = new RowLines(text);
  for (let i = 0; i < rows.length; i++) {
    const row: unknown = rows[i];
    try {
      if (!Array.isArray(row) || row.length !== FIELDS.length) throw new RowError(`candle ${i + 1} is not [time, open, high, low, close, volume]`);
      row.forEach((value, f) => {
        if (typeof value !== "number" || !Number.isFinite(value)) throw new RowError(`${FIELDS[f]} ${JSON.stringify(value)} is not a number`);
      });
      const [time, open, high, low, close, volume] = row as number[];
      if (!Number.isSafeInteger(time) || time < 0) throw new RowError(`open time ${time} is not epoch milliseconds`);
      yield {
        line: lines.of(i),
        candle: {
          instrumentKey,
          openTime: time!,
          open: decimalField(decimalOf(open)!, "open"),
          high: decimalField(decimalOf(high)!, "high"),
          low: decimalField(decimalOf(low)!, "low"),
          close: decimalField(decimalOf(close)!, "close"),
          volume: decimalField(decimalOf(volume)!, "volume"),
          // Freqtrade keeps no trade count.
          tradeCount: 0,
        },
      };
    } catch (err) {
      if (err instanceof RowError) throw new ImportError(file, lines.of(i), err.message);
      throw err;
    }
  }
}

/**
 * The line on which each candle starts. Freqtrade writes the whole array on one line, other tools a
 * candle a line; the text is scanned once, forwards, as the candles are asked for in order.
 */
class RowLines {
  private index = -1;
  private position = 0;
  private line = 1;
  private depth = 0;

  constructor(private readonly text: string) {}

  /** The line of candle `index` (0-based); indexes are asked in increasing order. */
  of(index: number): number {
    const text = this.text;
    for (; this.index < index && this.position < text.length; this.position++) {
      const c = text.charCodeAt(this.position);
      if (c === 10 /* \n */) this.line++;
      else if (c === 91 /* [ */ && ++this.depth === 2) this.index++;
      else if (c === 93 /* ] */) this.depth--;
    }
    return this.line;
  }
}
