/** The partition and deduplication keys: `instrument_key`, `risk_key` (the portfolio key is the portfolio id). */
import { Type } from "@sinclair/typebox";

/** `<exchange>:<symbol>`, the symbol being ccxt's unified symbol, e.g. `binance:BTC/USDT`. */
export const InstrumentKey = Type.String({ pattern: "^[a-z0-9_-]+:[A-Z0-9]+/[A-Z0-9]+$" });

export function instrumentKeyOf(exchange: string, symbol: string): string {
  return `${exchange}:${symbol}`;
}

export function parseInstrumentKey(instrumentKey: string): { exchange: string; symbol: string } {
  const at = instrumentKey.indexOf(":");
  if (at <= 0 || at === instrumentKey.length - 1) throw new Error(`invalid instrument key "${instrumentKey}"`);
  return { exchange: instrumentKey.slice(0, at), symbol: instrumentKey.slice(at + 1) };
}

/** `<portfolio_id>:<instrument_id>`: the deduplication key of a risk decision. */
export function riskKeyOf(portfolioId: string, symbol: string): string {
  return `${portfolioId}:${symbol}`;
}
