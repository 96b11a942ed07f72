import { applyFill, emptyBook, replayFills, valueBook, type PortfolioBook } from "../../lib/risk/accounting";
import { dec, str, sum, type Dec } from "../../lib/decimal";
import { Random } from "../../lib/market/random";
import type { Fill, Side } from "../../schemas";

const BTC = "sim:BTC/USDT";
const ETH = "sim:ETH/USDT";
const SOL = "sim:SOL/USDT";
const MARKETS: Record<string, { base: string; quote: string }> = {
  [BTC]: { base: "BTC", quote: "USDT" },
  [ETH]: { base: "ETH", quote: "USDT" },
  [SOL]: { base: "SOL", quote: "USDT" },
};
const marketOf = (instrumentKey: string) => MARKETS[instrumentKey];

let fillSeq = 0;
function fill(side: Side, quantity: string, price: string, fee = "0", overrides: Partial<Fill> = {}): Fill {
  fillSeq += 1;
  return {
    fillId: `sim:${String(fillSeq).padStart(6, "0")}`,
    clientOrderId: `c${fillSeq}`,
    venueOrderId: `v${fillSeq}`,
    portfolioId: "p1",
    instrumentKey: BTC,
    side,
    price,
    quantity,
    fee,
    feeCurrency: "USDT",
    liquidity: "taker",
    time: 1_000 + fillSeq,
    ...overrides,
  };
}

function applyAll(book: PortfolioBook, fills: Fill[]): PortfolioBook {
  return fills.reduce((b, f) => applyFill(b, f, marketOf(f.instrumentKey)), book);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null) {
    Object.values(value).forEach(deepFreeze);
    Object.freeze(value);
  }
  return value;
}

/** cash + Σ costBasis − startCash − (realizedPnl − fees): zero when the books reconcile. */
function reconciliationGap(book: PortfolioBook) {
  const costOfHoldings = sum(Object.values(book.positions).map((p) => p.costBasis));
  return dec(book.cash).add(costOfHoldings).sub(book.startCash).sub(dec(book.realizedPnl).sub(book.fees));
}

/** Seeded, so the property checks are reproducible. */
function rng(seed: number): () => number {
  const random = new Random(seed);
  return () => random.next();
}

/** Random valid fills: buys, and sells of at most what is held, each fee 0.1 % in quote or (if allowed) in base. */
function randomFills(seed: number, count: number, baseFees: boolean): Fill[] {
  const random = rng(seed);
  const held: Record<string, Dec> = { [BTC]: dec(0), [ETH]: dec(0), [SOL]: dec(0) };
  const keys = Object.keys(held);
  const fills: Fill[] = [];
  for (let i = 0; i < count; i++) {
    const instrumentKey = keys[Math.floor(random() * keys.length)];
    const price = dec(Math.floor(random() * 1_000_000) + 1).div(100);
    const side: Side = held[instrumentKey].gt(0) && random() < 0.45 ? "SELL" : "BUY";
    const inBase = baseFees && random() < 0.5;
    let quantity = dec(Math.floor(random() * 100_000) + 1).div(10_000);
    if (side === "SELL") {
      // Leave room for a base fee of 0.1 % on top of the quantity sold; sometimes sell out entirely.
      const sellable = inBase ? held[instrumentKey].div("1.001").toDecimalPlaces(8, 1) : held[instrumentKey];
      quantity = random() < 0.25 ? sellable : quantity.gt(sellable) ? sellable : quantity;
      if (!quantity.gt(0)) continue;
    }
    const fee = inBase ? quantity.mul("0.001") : quantity.mul(price).mul("0.001");
    held[instrumentKey] =
      side === "BUY" ? held[instrumentKey].add(quantity).sub(inBase ? fee : 0) : held[instrumentKey].sub(quantity).sub(inBase ? fee : 0);
    fills.push({
      fillId: `sim:r${seed}-${String(i).padStart(5, "0")}`,
      clientOrderId: `c${i}`,
      venueOrderId: `v${i}`,
      portfolioId: "p1",
      instrumentKey,
      side,
      price: str(price),
      quantity: str(quantity),
      fee: str(fee),
      feeCurrency: inBase ? marketOf(instrumentKey).base : "USDT",
      liquidity: "taker",
      time: 1_700_000_000_000 + i * 1000,
    });
  }
  return fills;
}

function shuffle<T>(items: T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

describe("emptyBook", () => {
  it("starts with all the cash and nothing else", () => {
    expect(emptyBook("p1", "10000.00")).toEqual({
      portfolioId: "p1",
      startCash: "10000",
      cash: "10000",
      realizedPnl: "0",
      fees: "0",
      positions: {},
      fillCount: 0,
    });
  });
});

describe("applyFill, quote fees (worked example)", () => {
  const start = emptyBook("p1", "10000");
  const f1 = fill("BUY", "0.5", "100", "0.05");
  const f2 = fill("BUY", "0.5", "110", "0.055");
  const f3 = fill("SELL", "0.6", "120", "0.072");
  const f4 = fill("SELL", "0.4", "100", "0.04");
  const b1 = applyFill(start, f1, MARKETS[BTC]);
  const b2 = applyFill(b1, f2, MARKETS[BTC]);
  const b3 = applyFill(b2, f3, MARKETS[BTC]);
  const b4 = applyFill(b3, f4, MARKETS[BTC]);

  it("buy 0.5 @ 100 fee 0.05: cash 9949.95, average cost 100", () => {
    expect(b1).toEqual({
      ...start,
      cash: "9949.95",
      fees: "0.05",
      positions: { [BTC]: { instrumentKey: BTC, quantity: "0.5", costBasis: "50", averageCost: "100", realizedPnl: "0", fees: "0.05" } },
      fillCount: 1,
      lastFillTime: f1.time,
    });
  });

  it("buy 0.5 @ 110 fee 0.055: the average cost is the weighted 105, fees stay out of it", () => {
    expect(b2.cash).toBe("9894.895");
    expect(b2.fees).toBe("0.105");
    expect(b2.positions[BTC]).toEqual({ instrumentKey: BTC, quantity: "1", costBasis: "105", averageCost: "105", realizedPnl: "0", fees: "0.105" });
  });

  it("sell 0.6 @ 120 fee 0.072: realizes (120 − 105) × 0.6 = 9, releases 0.6 of the cost, the average cost stays", () => {
    expect(b3.cash).toBe("9966.823");
    expect(b3.realizedPnl).toBe("9");
    expect(b3.fees).toBe("0.177");
    expect(b3.positions[BTC]).toEqual({ instrumentKey: BTC, quantity: "0.4", costBasis: "42", averageCost: "105", realizedPnl: "9", fees: "0.177" });
  });

  it("sell the last 0.4 @ 100 fee 0.04: realizes −2, closes the position and resets its average cost", () => {
    expect(b4.cash).toBe("10006.783");
    expect(b4.realizedPnl).toBe("7");
    expect(b4.fees).toBe("0.217");
    expect(b4.positions[BTC]).toEqual({ instrumentKey: BTC, quantity: "0", costBasis: "0", averageCost: "0", realizedPnl: "7", fees: "0.217" });
    expect(b4.fillCount).toBe(4);
    expect(b4.lastFillTime).toBe(f4.time);
    // Flat: the cash gained is exactly realized minus fees.
    expect(str(dec(b4.cash).sub(b4.startCash))).toBe("6.783");
  });

  it("a re-opened position starts from a fresh average cost but keeps its history", () => {
    const b5 = applyFill(b4, fill("BUY", "0.2", "90"), MARKETS[BTC]);
    expect(b5.positions[BTC]).toEqual({ instrumentKey: BTC, quantity: "0.2", costBasis: "18", averageCost: "90", realizedPnl: "7", fees: "0.217" });
  });

  it("portfolio realizedPnl and fees are the sums over positions", () => {
    const withEth = applyAll(b3, [
      fill("BUY", "2", "2000", "4", { instrumentKey: ETH }),
      fill("SELL", "1", "2100", "2.1", { instrumentKey: ETH }),
    ]);
    expect(withEth.positions[ETH]).toEqual({ instrumentKey: ETH, quantity: "1", costBasis: "2000", averageCost: "2000", realizedPnl: "100", fees: "6.1" });
    expect(withEth.realizedPnl).toBe(str(sum(Object.values(withEth.positions).map((p) => p.realizedPnl))));
    expect(withEth.fees).toBe(str(sum(Object.values(withEth.positions).map((p) => p.fees))));
    expect(withEth.realizedPnl).toBe("109");
    expect(withEth.fees).toBe("6.277");
  });

  it("is pure: the input book is not modified", () => {
    const frozen = deepFreeze(emptyBook("p1", "10000"));
    const copy = JSON.parse(JSON.stringify(frozen));
    const next = applyFill(frozen, fill("BUY", "1", "100", "0.1"), MARKETS[BTC]);
    expect(frozen).toEqual(copy);
    expect(next).not.toBe(frozen);
  });

  it("serves a non-terminating average cost at 12 places, half to even, and keeps the exact cost", () => {
    const book = applyAll(emptyBook("p1", "1000"), [fill("BUY", "1", "100"), fill("BUY", "2", "101")]);
    expect(book.positions[BTC].averageCost).toBe("100.666666666667"); // 302 / 3
    expect(book.positions[BTC].costBasis).toBe("302");
  });

  it("lastFillTime is the latest fill time even when fills arrive out of order", () => {
    const book = applyAll(emptyBook("p1", "1000"), [fill("BUY", "1", "100", "0", { time: 5000 }), fill("BUY", "1", "100", "0", { time: 3000 })]);
    expect(book.lastFillTime).toBe(5000);
  });
});

describe("applyFill, base fees", () => {
  it("a buy fee in base reduces the quantity and adds its quote value to fees", () => {
    const book = applyFill(emptyBook("p1", "10000"), fill("BUY", "1", "100", "0.001", { feeCurrency: "BTC" }), MARKETS[BTC]);
    expect(book.cash).toBe("9900");
    expect(book.fees).toBe("0.1");
    expect(book.realizedPnl).toBe("0");
    expect(book.positions[BTC]).toEqual({ instrumentKey: BTC, quantity: "0.999", costBasis: "99.9", averageCost: "100", realizedPnl: "0", fees: "0.1" });
  });

  it("fee units are disposed of at the fill price, so the books still reconcile when the cost differs", () => {
    const book = applyAll(emptyBook("p1", "10000"), [
      fill("BUY", "1", "100", "0", { feeCurrency: "BTC" }),
      fill("BUY", "1", "110", "0.01", { feeCurrency: "BTC" }),
    ]);
    // Average over the gross 2 units: 105; the 0.01 fee units (cost 105) paid at 110 realize 0.05.
    expect(book.positions[BTC]).toEqual({ instrumentKey: BTC, quantity: "1.99", costBasis: "208.95", averageCost: "105", realizedPnl: "0.05", fees: "1.1" });
    expect(book.cash).toBe("9790");
    expect(str(reconciliationGap(book))).toBe("0");
  });

  it("a sell fee in base comes on top of the quantity sold", () => {
    const book = applyAll(emptyBook("p1", "10000"), [
      fill("BUY", "1", "105"),
      fill("SELL", "0.5", "120", "0.001", { feeCurrency: "BTC" }),
    ]);
    expect(book.cash).toBe("9955");
    expect(book.positions[BTC]).toEqual({ instrumentKey: BTC, quantity: "0.499", costBasis: "52.395", averageCost: "105", realizedPnl: "7.515", fees: "0.12" });
    expect(str(reconciliationGap(book))).toBe("0");
  });

  it("a zero fee may name any currency", () => {
    const book = applyFill(emptyBook("p1", "1000"), fill("BUY", "1", "100", "0", { feeCurrency: "BNB" }), MARKETS[BTC]);
    expect(book.cash).toBe("900");
    expect(book.fees).toBe("0");
  });
});

describe("applyFill refusals", () => {
  const holding = applyFill(emptyBook("p1", "10000"), fill("BUY", "1", "100"), MARKETS[BTC]);

  it("refuses to sell more than is held", () => {
    expect(() => applyFill(holding, fill("SELL", "1.00000001", "100"), MARKETS[BTC])).toThrow(/exceeds the 1 held/);
    expect(() => applyFill(emptyBook("p1", "1"), fill("SELL", "1", "100"), MARKETS[BTC])).toThrow(/exceeds/);
  });

  it("refuses a sell whose base fee would take the position below zero", () => {
    expect(() => applyFill(holding, fill("SELL", "1", "100", "0.001", { feeCurrency: "BTC" }), MARKETS[BTC])).toThrow(/exceeds/);
  });

  it("refuses a non-zero fee in a currency it cannot value", () => {
    expect(() => applyFill(holding, fill("BUY", "1", "100", "0.01", { feeCurrency: "BNB" }), MARKETS[BTC])).toThrow(/BNB/);
  });

  it.each([
    ["zero quantity", { quantity: "0" }],
    ["negative quantity", { quantity: "-1" }],
    ["zero price", { price: "0" }],
    ["negative fee", { fee: "-0.1" }],
  ])("refuses a fill with a %s", (_label, overrides) => {
    expect(() => applyFill(holding, fill("BUY", "1", "100", "0", overrides), MARKETS[BTC])).toThrow(/positive/);
  });
});

describe("replayFills", () => {
  const fills = [
    fill("BUY", "0.5", "100", "0.05"),
    fill("BUY", "2", "2000", "4", { instrumentKey: ETH }),
    fill("BUY", "0.5", "110", "0.055"),
    fill("SELL", "0.6", "120", "0.072"),
    fill("SELL", "1.5", "1900", "2.85", { instrumentKey: ETH }),
  ];

  it("equals applying the fills one by one", () => {
    expect(replayFills("p1", "10000", fills, marketOf)).toEqual(applyAll(emptyBook("p1", "10000"), fills));
  });

  it("is independent of the order the fills come in", () => {
    const expected = replayFills("p1", "10000", fills, marketOf);
    const random = rng(7);
    for (let i = 0; i < 20; i++) expect(replayFills("p1", "10000", shuffle(fills, random), marketOf)).toEqual(expected);
  });

  it("breaks time ties by fillId", () => {
    const buy = fill("BUY", "1", "100", "0", { fillId: "sim:a", time: 10 });
    const sell = fill("SELL", "1", "110", "0", { fillId: "sim:b", time: 10 });
    const book = replayFills("p1", "1000", [sell, buy], marketOf);
    expect(book.realizedPnl).toBe("10");
    expect(book.positions[BTC].quantity).toBe("0");
  });

  it("of no fills is the empty book", () => {
    expect(replayFills("p1", "500", [], marketOf)).toEqual(emptyBook("p1", "500"));
  });
});

describe("valueBook", () => {
  const book = applyAll(emptyBook("p1", "10000"), [
    fill("BUY", "0.5", "100", "0.05"),
    fill("BUY", "0.5", "110", "0.055"),
    fill("SELL", "0.6", "120", "0.072"),
    fill("BUY", "2", "2000", "4", { instrumentKey: ETH }),
  ]);
  // cash 9966.823 − 4000 − 4 = 5962.823; BTC 0.4 @ 105; ETH 2 @ 2000.

  it("values positions at their marks", () => {
    expect(valueBook(book, { [BTC]: "130", [ETH]: "1900.5" })).toEqual({
      equity: "9815.823", // 5962.823 + 52 + 3801
      cash: "5962.823",
      unrealizedPnl: "-189", // 0.4 × 25 + 2 × −99.5
      realizedPnl: "9",
      fees: "4.177",
      exposure: "3853",
      positions: [
        { instrumentKey: BTC, quantity: "0.4", costBasis: "42", averageCost: "105", realizedPnl: "9", fees: "0.177", markPrice: "130", marketValue: "52", unrealizedPnl: "10" },
        { instrumentKey: ETH, quantity: "2", costBasis: "4000", averageCost: "2000", realizedPnl: "0", fees: "4", markPrice: "1900.5", marketValue: "3801", unrealizedPnl: "-199" },
      ],
    });
  });

  it("values a position without a mark at its average cost", () => {
    const valuation = valueBook(book, { [ETH]: "2100" });
    expect(valuation.positions[0]).toMatchObject({ instrumentKey: BTC, markPrice: "105", marketValue: "42", unrealizedPnl: "0" });
    expect(valuation.equity).toBe("10204.823"); // 5962.823 + 42 + 4200
    expect(valuation.unrealizedPnl).toBe("200");
    expect(valuation.exposure).toBe("4242");
  });

  it("with no marks at all, equity is start cash + realized − fees", () => {
    const valuation = valueBook(book, {});
    expect(valuation.equity).toBe(str(dec(book.startCash).add(book.realizedPnl).sub(book.fees)));
    expect(valuation.unrealizedPnl).toBe("0");
  });

  it("keeps closed positions, at zero value", () => {
    const closed = applyFill(book, fill("SELL", "0.4", "100", "0.04"), MARKETS[BTC]);
    const valuation = valueBook(closed, { [BTC]: "999", [ETH]: "2000" });
    expect(valuation.positions[0]).toMatchObject({ instrumentKey: BTC, quantity: "0", marketValue: "0", unrealizedPnl: "0", realizedPnl: "7" });
    expect(valuation.exposure).toBe("4000");
  });

  it("of an empty book is its cash", () => {
    expect(valueBook(emptyBook("p1", "10000"), {})).toEqual({
      equity: "10000",
      cash: "10000",
      unrealizedPnl: "0",
      realizedPnl: "0",
      fees: "0",
      exposure: "0",
      positions: [],
    });
  });
});

describe("properties over random fills", () => {
  it.each([
    ["quote fees", 11, false],
    ["quote and base fees", 23, true],
  ])("cash + Σ costBasis − startCash == realized − fees to the last digit after every fill (%s)", (_label, seed, baseFees) => {
    const fills = randomFills(seed as number, 400, baseFees as boolean);
    expect(fills.length).toBeGreaterThan(300);
    expect(fills.some((f) => f.side === "SELL")).toBe(true);
    let book = emptyBook("p1", "1000000");
    for (const f of fills) {
      book = applyFill(book, f, marketOf(f.instrumentKey));
      expect(str(reconciliationGap(book))).toBe("0");
    }
    // And equity reconciles with the P&L at any marks.
    const marks = { [BTC]: "12345.67", [ETH]: "2345.6", [SOL]: "45.678" };
    const valuation = valueBook(book, marks);
    const pnl = dec(valuation.realizedPnl).add(valuation.unrealizedPnl).sub(valuation.fees);
    expect(str(dec(valuation.equity).sub(book.startCash).sub(pnl))).toBe("0");
  });

  it("replay of shuffled random fills equals incremental application", () => {
    const fills = randomFills(5, 300, true);
    const incremental = applyAll(emptyBook("p1", "1000000"), fills);
    const random = rng(99);
    for (let i = 0; i < 5; i++) expect(replayFills("p1", "1000000", shuffle(fills, random), marketOf)).toEqual(incremental);
    expect(incremental.fillCount).toBe(fills.length);
    expect(incremental.realizedPnl).toBe(str(sum(Object.values(incremental.positions).map((p) => p.realizedPnl))));
    expect(incremental.fees).toBe(str(sum(Object.values(incremental.positions).map((p) => p.fees))));
  });
});
