import { dec } from "../../lib/decimal";
import { simMarketInfo, simStartPrice } from "../../lib/market/catalog";
import { VenueError } from "../../lib/errors";

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof VenueError ? err.code : `not a VenueError: ${String(err)}`;
  }
  return undefined;
}

describe("simMarketInfo", () => {
  it("lists the known markets with their exact rules", () => {
    expect(simMarketInfo("sim", "BTC/USDT")).toEqual({
      exchange: "sim",
      symbol: "BTC/USDT",
      base: "BTC",
      quote: "USDT",
      tickSize: "0.01",
      lotSize: "0.00001",
      minQuantity: "0.00001",
      minNotional: "5",
      makerFee: "0.001",
      takerFee: "0.001",
    });
    expect(simMarketInfo("paper", "ETH/USDT")).toMatchObject({ exchange: "paper", tickSize: "0.01", lotSize: "0.0001", minNotional: "5" });
    expect(simMarketInfo("sim", "SOL/USDT")).toMatchObject({ tickSize: "0.01", lotSize: "0.001" });
    expect(simMarketInfo("sim", "XRP/USDT")).toMatchObject({ tickSize: "0.0001", lotSize: "0.1" });
    expect(simMarketInfo("sim", "DOGE/USDT")).toMatchObject({ tickSize: "0.00001", lotSize: "1", minQuantity: "1" });
    expect(simMarketInfo("sim", "ADA/USDT")).toMatchObject({ base: "ADA", quote: "USDT", tickSize: "0.0001" });
    expect(simMarketInfo("sim", "BNB/USDT")).toMatchObject({ tickSize: "0.01", lotSize: "0.001" });
  });

  it("derives generic rules for any well-formed symbol, deterministically", () => {
    const info = simMarketInfo("sim", "FOO/USDT");
    expect(info).toEqual({
      exchange: "sim",
      symbol: "FOO/USDT",
      base: "FOO",
      quote: "USDT",
      tickSize: "0.00001",
      lotSize: "1",
      minQuantity: "1",
      minNotional: "5",
      makerFee: "0.001",
      takerFee: "0.001",
    });
    expect(simMarketInfo("sim", "FOO/USDT")).toEqual(info);
    expect(simMarketInfo("sim", "UNI/USDT")).toMatchObject({ tickSize: "0.0001", lotSize: "0.1" });
  });

  it("uses a small minimum order value for non-dollar quotes", () => {
    expect(simMarketInfo("sim", "ETH/BTC")).toMatchObject({ base: "ETH", quote: "BTC", minNotional: "0.0001" });
  });

  it.each(["btc/usdt", "BTCUSDT", "B/USDT", "BTC/USDT/X", "BTC/ABCDEFGHIJK", "BTC/BTC", "BTC-USDT", ""])(
    "refuses the malformed symbol %j with unknown_symbol",
    (symbol) => {
      expect(codeOf(() => simMarketInfo("sim", symbol))).toBe("unknown_symbol");
    },
  );
});

describe("simStartPrice", () => {
  it("starts the known markets at round prices", () => {
    expect(simStartPrice("BTC/USDT")).toBe("60000");
    expect(simStartPrice("ETH/USDT")).toBe("3000");
    expect(simStartPrice("SOL/USDT")).toBe("150");
  });

  it("derives other prices from the symbol, on the tick and between 0.1 and 500", () => {
    expect(simStartPrice("FOO/USDT")).toBe("0.62389");
    expect(simStartPrice("UNI/USDT")).toBe("3.0165");
    for (const base of ["AAA", "LINK", "DOT", "AVAX", "ARB", "OP", "WIF", "ZZZ", "QUX"]) {
      const symbol = `${base}/USDT`;
      const price = dec(simStartPrice(symbol));
      expect(price.gte(0.1) && price.lte(500)).toBe(true);
      expect(price.mod(simMarketInfo("sim", symbol).tickSize).isZero()).toBe(true);
      expect(simStartPrice(symbol)).toBe(simStartPrice(symbol));
    }
  });

  it("refuses a malformed symbol", () => {
    expect(codeOf(() => simStartPrice("not a symbol"))).toBe("unknown_symbol");
  });
});
