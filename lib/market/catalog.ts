/**
 * The market simulator's catalogue: trading rules and start prices of the simulated markets.
 * A few well-known symbols carry Binance-like rules; any other well-formed `BASE/QUOTE` symbol gets
 * rules derived from a deterministic start price, so every instrument a user registers can trade.
 */
import ccxt from "ccxt";
import { Dec, roundToStep, str } from "../decimal";
import { VenueError } from "../errors";
import type { MarketInfo } from "../../schemas";
import { Random, seedFrom } from "./random";

export const SYMBOL_RE = /^([A-Z0-9]{2,10})\/([A-Z0-9]{2,10})$/;
const FEE = "0.001";
/** Quotes whose unit is worth about one US dollar: minimum order value 5, as on Binance. */
const USD_QUOTES = new Set(["USDT", "USDC", "BUSD", "FDUSD", "TUSD", "DAI", "USD", "EUR"]);
/** Minimum order value for any other quote (BTC, ETH, …), in quote units. */
const OTHER_QUOTE_MIN_NOTIONAL = "0.0001";
const GENERIC_PRICE_MIN = 0.1;
const GENERIC_PRICE_MAX = 500;

interface KnownMarket {
  tickSize: string;
  lotSize: string;
  startPrice: string;
}

const KNOWN: Record<string, KnownMarket> = {
  "BTC/USDT": { tickSize: "0.01", lotSize: "0.00001", startPrice: "60000" },
  "ETH/USDT": { tickSize: "0.01", lotSize: "0.0001", startPrice: "3000" },
  "SOL/USDT": { tickSize: "0.01", lotSize: "0.001", startPrice: "150" },
  "BNB/USDT": { tickSize: "0.01", lotSize: "0.001", startPrice: "550" },
  "XRP/USDT": { tickSize: "0.0001", lotSize: "0.1", startPrice: "0.55" },
  "DOGE/USDT": { tickSize: "0.00001", lotSize: "1", startPrice: "0.12" },
  "ADA/USDT": { tickSize: "0.0001", lotSize: "0.1", startPrice: "0.45" },
};

function parseSymbol(symbol: string): { base: string; quote: string } {
  const match = SYMBOL_RE.exec(symbol);
  if (!match || match[1] === match[2]) {
    throw new VenueError("unknown_symbol", `unknown symbol "${symbol}": expected BASE/QUOTE in upper case`);
  }
  return { base: match[1], quote: match[2] };
}

/** Log-uniform in [0.1, 500), from a hash of the symbol. */
function genericPrice(symbol: string): number {
  const u = new Random(seedFrom("sim-start-price", symbol)).next();
  return GENERIC_PRICE_MIN * Math.pow(GENERIC_PRICE_MAX / GENERIC_PRICE_MIN, u);
}

/** About five significant digits of price, and a lot worth about a tenth of one price unit. */
function genericRules(price: number): { tickSize: string; lotSize: string } {
  const magnitude = Math.floor(Math.log10(price));
  return {
    tickSize: str(new Dec(10).pow(magnitude - 4)),
    lotSize: str(new Dec(10).pow(-magnitude - 1)),
  };
}

export const KNOWN_EXCHANGES: ReadonlySet<string> = new Set(ccxt.exchanges);

/**
 * The simulator simulates any market, but only of an exchange that exists (ccxt's list), so
 * registrations cannot make up exchanges; a well-formed symbol is checked with the market itself.
 */
export function requireKnownExchange(exchange: string): void {
  if (!KNOWN_EXCHANGES.has(exchange)) {
    throw new VenueError("unknown_exchange", `unknown exchange "${exchange}": the simulator takes the ids of ccxt's exchanges (binance, kraken, okx, …)`);
  }
}

export function simMarketInfo(exchange: string, symbol: string): MarketInfo {
  const { base, quote } = parseSymbol(symbol);
  const known = KNOWN[symbol];
  const { tickSize, lotSize } = known ?? genericRules(genericPrice(symbol));
  return {
    exchange,
    symbol,
    base,
    quote,
    tickSize,
    lotSize,
    minQuantity: lotSize,
    minNotional: USD_QUOTES.has(quote) ? "5" : OTHER_QUOTE_MIN_NOTIONAL,
    makerFee: FEE,
    takerFee: FEE,
  };
}

/** The simulator's default start price of a symbol, on the symbol's tick. */
export function simStartPrice(symbol: string): string {
  parseSymbol(symbol);
  const known = KNOWN[symbol];
  if (known) return known.startPrice;
  const price = genericPrice(symbol);
  return str(roundToStep(price, genericRules(price).tickSize, "nearest"));
}
