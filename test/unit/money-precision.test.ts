/**
 * Money at a defined precision: every quote-currency figure of a book is rounded once, half to even,
 * to MONEY_SCALE (12) places where it is computed, so the books reconcile to the last digit, a replay
 * of the fills reproduces every figure, and no served value carries residue digits.
 *
 * The reference is an independent implementation of the documented rules on exact fractions of
 * BigInts (no decimal.js), rounding each figure once from its exact value.
 */
import { DECIMAL_PATTERN, Dec, MONEY_SCALE, dec, money, moneyProduct, str } from "../../lib/decimal";
import { simMarketInfo } from "../../lib/market/catalog";
import { Random } from "../../lib/market/random";
import { replayFills } from "../../lib/risk/accounting";
import { Portfolio } from "../../lib/risk/portfolio";
import { DEFAULT_LIMITS } from "../../lib/risk/rules";
import type { Fill, PortfolioRecord, PortfolioSnapshot, Side } from "../../schemas";

// ---------------------------------------------------------------------------------------------
// Exact fractions and the reference book

const TEN_TO_SCALE = 10n ** BigInt(MONEY_SCALE);

function gcd(a: bigint, b: bigint): bigint {
  let [x, y] = [a < 0n ? -a : a, b < 0n ? -b : b];
  while (y !== 0n) [x, y] = [y, x % y];
  return x;
}

/** n / d in lowest terms, d > 0. */
class Fraction {
  readonly n: bigint;
  readonly d: bigint;

  constructor(n: bigint, d = 1n) {
    if (d === 0n) throw new RangeError("zero denominator");
    const sign = d < 0n ? -1n : 1n;
    const g = gcd(n, d) || 1n;
    this.n = (sign * n) / g;
    this.d = (sign * d) / g;
  }

  static parse(decimal: string): Fraction {
    const negative = decimal.startsWith("-");
    const [whole, fraction = ""] = decimal.replace("-", "").split(".");
    const magnitude = BigInt(whole + fraction);
    return new Fraction(negative ? -magnitude : magnitude, 10n ** BigInt(fraction.length));
  }

  add(o: Fraction): Fraction {
    return new Fraction(this.n * o.d + o.n * this.d, this.d * o.d);
  }

  sub(o: Fraction): Fraction {
    return new Fraction(this.n * o.d - o.n * this.d, this.d * o.d);
  }

  mul(o: Fraction): Fraction {
    return new Fraction(this.n * o.n, this.d * o.d);
  }

  div(o: Fraction): Fraction {
    return new Fraction(this.n * o.d, this.d * o.n);
  }

  abs(): Fraction {
    return new Fraction(this.n < 0n ? -this.n : this.n, this.d);
  }

  eq(o: Fraction): boolean {
    return this.n === o.n && this.d === o.d;
  }

  isZero(): boolean {
    return this.n === 0n;
  }

  /** Nearest multiple of 10^-12, ties to the even one: floor(x·10^12 + ½), one less on an odd tie. */
  round(): Fraction {
    const twice = 2n * this.n * TEN_TO_SCALE + this.d; // (x·10^12 + ½) · 2d
    const divisor = 2n * this.d;
    let units = twice / divisor;
    if (twice % divisor !== 0n && twice < 0n) units -= 1n; // floor, not truncation
    const tie = twice % divisor === 0n;
    if (tie && units % 2n !== 0n) units -= 1n;
    return new Fraction(units, TEN_TO_SCALE);
  }

  /** Canonical wire form of a fraction whose denominator divides 10^k. */
  toString(): string {
    let places = 0;
    let scale = 1n;
    while (scale % this.d !== 0n) {
      scale *= 10n;
      places += 1;
      if (places > 200) throw new Error(`${this.n}/${this.d} is not a finite decimal`);
    }
    const units = (this.n * scale) / this.d;
    const magnitude = (units < 0n ? -units : units).toString().padStart(places + 1, "0");
    const whole = magnitude.slice(0, magnitude.length - places);
    const fraction = magnitude.slice(magnitude.length - places).replace(/0+$/, "");
    const text = fraction ? `${whole}.${fraction}` : whole;
    return units < 0n ? `-${text}` : text;
  }
}

const ZERO = new Fraction(0n);
const q = (decimal: string) => Fraction.parse(decimal);

interface ReferencePosition {
  quantity: Fraction;
  cost: Fraction;
  realized: Fraction;
  fees: Fraction;
}

/** The documented rules (README "Money and precision"), applied fill by fill on exact fractions. */
class ReferenceBook {
  cash: Fraction;
  readonly positions = new Map<string, ReferencePosition>();

  constructor(readonly startCash: Fraction) {
    this.cash = startCash;
  }

  apply(fill: Fill, base: string): void {
    const p = this.positions.get(fill.instrumentKey) ?? { quantity: ZERO, cost: ZERO, realized: ZERO, fees: ZERO };
    const [price, quantity, fee] = [q(fill.price), q(fill.quantity), q(fill.fee)];
    const notional = quantity.mul(price).round();
    if (fill.side === "BUY") {
      p.quantity = p.quantity.add(quantity);
      p.cost = p.cost.add(notional);
      this.cash = this.cash.sub(notional);
    } else {
      const released = quantity.eq(p.quantity) ? p.cost : p.cost.mul(quantity).div(p.quantity).round();
      p.quantity = p.quantity.sub(quantity);
      p.cost = p.cost.sub(released);
      p.realized = p.realized.add(notional.sub(released));
      this.cash = this.cash.add(notional);
    }
    if (!fee.isZero() && fill.feeCurrency === base) {
      const feeValue = fee.mul(price).round();
      const released = fee.eq(p.quantity) ? p.cost : p.cost.mul(fee).div(p.quantity).round();
      p.quantity = p.quantity.sub(fee);
      p.cost = p.cost.sub(released);
      p.realized = p.realized.add(feeValue.sub(released));
      p.fees = p.fees.add(feeValue);
    } else if (!fee.isZero()) {
      const feeValue = fee.round();
      this.cash = this.cash.sub(feeValue);
      p.fees = p.fees.add(feeValue);
    }
    this.positions.set(fill.instrumentKey, p);
  }

  /** The served figures at `marks`, as strings. */
  value(marks: Record<string, string>) {
    let marketValue = ZERO;
    let exposure = ZERO;
    let unrealized = ZERO;
    let realized = ZERO;
    let fees = ZERO;
    const positions: Record<string, Record<string, string>> = {};
    for (const [key, p] of this.positions) {
      const mark = marks[key] === undefined ? undefined : q(marks[key]).round();
      const averageCost = p.quantity.isZero() ? ZERO : p.cost.div(p.quantity).round();
      const value = mark === undefined ? p.cost : p.quantity.mul(mark).round();
      marketValue = marketValue.add(value);
      exposure = exposure.add(value.abs());
      unrealized = unrealized.add(value.sub(p.cost));
      realized = realized.add(p.realized);
      fees = fees.add(p.fees);
      positions[key] = {
        quantity: p.quantity.toString(),
        costBasis: p.cost.toString(),
        averageCost: averageCost.toString(),
        markPrice: (mark ?? averageCost).toString(),
        marketValue: value.toString(),
        unrealizedPnl: value.sub(p.cost).toString(),
        realizedPnl: p.realized.toString(),
        fees: p.fees.toString(),
      };
    }
    return {
      cash: this.cash.toString(),
      equity: this.cash.add(marketValue).toString(),
      realizedPnl: realized.toString(),
      unrealizedPnl: unrealized.toString(),
      fees: fees.toString(),
      exposure: exposure.toString(),
      positions,
    };
  }
}

// ---------------------------------------------------------------------------------------------
// Realistic random fills

interface TestMarket {
  key: string;
  base: string;
  quote: string;
  tickSize: string;
  lotSize: string;
  startPrice: string;
}

/** The simulator's markets (Binance's tick and lot sizes) and where their prices start. */
const START_PRICES: Record<string, string> = { "BTC/USDT": "60242.57", "XRP/USDT": "0.5513", "DOGE/USDT": "0.12345" };
const MARKETS: TestMarket[] = [
  ...Object.entries(START_PRICES).map(([symbol, startPrice]) => {
    const { base, quote, tickSize, lotSize } = simMarketInfo("sim", symbol);
    return { key: `sim:${symbol}`, base, quote, tickSize, lotSize, startPrice };
  }),
  // Tick 1e-8 × lot 1e-6: a fill's notional has 14 places, so even cash is rounded.
  { key: "sim:FINE/USDT", base: "FINE", quote: "USDT", tickSize: "0.00000001", lotSize: "0.000001", startPrice: "3.71234567" },
];
const MARKET = Object.fromEntries(MARKETS.map((m) => [m.key, m]));
const marketOf = (key: string) => MARKET[key];

const FEE_RATE = dec("0.001");

/**
 * Fills on random walks with calm stretches, flat stretches and jumps of ±30 %: buys, partial sells
 * and sells that close the position; fees of 0.1 % at 8 places (half to even, as the paper broker
 * charges them), in the quote currency or, when `baseFees`, sometimes in the base currency.
 */
function randomFills(seed: number, count: number, baseFees: boolean): Fill[] {
  const random = new Random(seed);
  const prices = Object.fromEntries(MARKETS.map((m) => [m.key, dec(m.startPrice)]));
  const held = Object.fromEntries(MARKETS.map((m) => [m.key, dec(0)]));
  const fills: Fill[] = [];
  let time = 1_767_225_600_000;
  for (let i = 0; fills.length < count; i++) {
    const market = MARKETS[Math.floor(random.next() * MARKETS.length)];
    const roll = random.next();
    const move = roll < 0.2 ? 0 : roll < 0.25 ? (random.next() < 0.5 ? -0.3 : 0.3) : 0.01 * random.normal();
    const price = Dec.max(dec(prices[market.key]).mul(Math.exp(move).toFixed(12)).toNearest(market.tickSize, 1), market.tickSize);
    prices[market.key] = price;
    time += random.next() < 0.1 ? 3_600_000 : 60_000; // now and then a gap of an hour

    const side: Side = held[market.key].gt(0) && random.next() < 0.45 ? "SELL" : "BUY";
    const inBase = baseFees && random.next() < 0.4;
    const lot = dec(market.lotSize);
    let quantity: Dec;
    if (side === "BUY") {
      // Orders of about 10 to 2000 USDT.
      const notional = dec(10).mul(Math.pow(200, random.next()).toFixed(6));
      quantity = Dec.max(notional.div(price).toNearest(lot, 1), lot);
    } else {
      const sellable = inBase ? held[market.key].div(FEE_RATE.add(1)) : held[market.key];
      quantity = random.next() < 0.3 ? sellable : sellable.mul(random.next().toFixed(6));
      quantity = inBase ? quantity.toNearest(lot, 1) : quantity.eq(sellable) ? quantity : quantity.toNearest(lot, 1);
      if (!quantity.gt(0)) continue;
    }
    const fee = (inBase ? quantity.mul(FEE_RATE) : quantity.mul(price).mul(FEE_RATE)).toDecimalPlaces(8, Dec.ROUND_HALF_EVEN);
    const after = side === "BUY" ? held[market.key].add(quantity) : held[market.key].sub(quantity);
    if (inBase && fee.gt(after)) continue;
    held[market.key] = inBase ? after.sub(fee) : after;
    fills.push({
      fillId: `sim:paper-${seed}-${String(i).padStart(6, "0")}`,
      clientOrderId: `c${seed}-${i}`,
      venueOrderId: `v${seed}-${i}`,
      portfolioId: "p1",
      instrumentKey: market.key,
      side,
      price: str(price),
      quantity: str(quantity),
      fee: str(fee),
      feeCurrency: inBase ? market.base : market.quote,
      liquidity: "taker",
      time,
    });
  }
  return fills;
}

/** The last fill price per instrument up to and including fill `index`: the marks a live book would see. */
function marksAt(fills: Fill[], index: number): Record<string, string> {
  const marks: Record<string, string> = {};
  for (const fill of fills.slice(0, index + 1)) marks[fill.instrumentKey] = fill.price;
  return marks;
}

function record(startCash: string): PortfolioRecord {
  return {
    portfolioId: "p1", name: "p1", startCash, limits: { ...DEFAULT_LIMITS }, halted: false,
    dayKey: "2026-01-01", dayStartEquity: startCash, peakEquity: startCash, createdAt: 0, updatedAt: 0,
  };
}

const START_CASH = "1000000";
const NOW = 1_767_225_600_000;
const MONEY_FIELDS = ["cash", "equity", "realizedPnl", "unrealizedPnl", "fees", "exposure"] as const;
const POSITION_MONEY_FIELDS = ["averageCost", "markPrice", "marketValue", "unrealizedPnl", "realizedPnl", "fees"] as const;

function placesOf(value: string): number {
  return value.split(".")[1]?.length ?? 0;
}

/** Exact sum of decimal strings, without decimal.js. */
function exactSum(values: string[]): Fraction {
  return values.reduce((acc, v) => acc.add(q(v)), ZERO);
}

// ---------------------------------------------------------------------------------------------

describe("money helpers", () => {
  it("round to 12 places half to even", () => {
    expect(str(money("60242.57391932570740517760385310054184226"))).toBe("60242.573919325707");
    expect(str(money("0.0000000000005"))).toBe("0");
    expect(str(money("0.0000000000015"))).toBe("0.000000000002");
    expect(str(money("-0.0000000000025"))).toBe("-0.000000000002");
    expect(str(money("-0.00000000000250001"))).toBe("-0.000000000003");
  });

  it("round a product or quotient once from its exact value, not from 40 significant digits", () => {
    // Cut to 40 digits first, this would become the tie 1.0000000000015 and round up to …002.
    expect(str(moneyProduct("1.0000000000014999999999999999999999999999999999", "1"))).toBe("1.000000000001");
    // 302 / 3 = 100.666…; 1 / 8 × 10^-12 is exactly half a unit: even.
    expect(str(moneyProduct("302", "1", "3"))).toBe("100.666666666667");
    expect(str(moneyProduct("0.000000000001", "5", "10"))).toBe("0");
    expect(str(moneyProduct("0.000000000003", "-5", "10"))).toBe("-0.000000000002");
    expect(() => moneyProduct("1", "1", "0")).toThrow(RangeError);
  });

  it("agree with the fraction reference on wide random products", () => {
    const random = new Random(5);
    for (let i = 0; i < 2000; i++) {
      const digits = (n: number) => Array.from({ length: n }, () => Math.floor(random.next() * 10)).join("");
      const a = `${random.next() < 0.3 ? "-" : ""}${digits(1 + Math.floor(random.next() * 25))}.${digits(1 + Math.floor(random.next() * 20))}`;
      const b = `${digits(1 + Math.floor(random.next() * 20))}.${digits(1 + Math.floor(random.next() * 20))}`;
      const c = `${1 + Math.floor(random.next() * 1000)}.${digits(1 + Math.floor(random.next() * 10))}`;
      expect(str(moneyProduct(a, b, c))).toBe(q(a).mul(q(b)).div(q(c)).round().toString());
    }
  });
});

describe.each([
  ["quote fees", 17, false],
  ["quote and base fees", 29, true],
])("a book of 600 random fills (%s)", (_label, seed, baseFees) => {
  const fills = randomFills(seed as number, 600, baseFees as boolean);
  const portfolio = new Portfolio(record(START_CASH), [], [], marketOf);
  const reference = new ReferenceBook(q(START_CASH));
  const snapshots: PortfolioSnapshot[] = [];
  const references: ReturnType<ReferenceBook["value"]>[] = [];
  for (const [index, fill] of fills.entries()) {
    portfolio.applyFill(fill);
    reference.apply(fill, marketOf(fill.instrumentKey).base);
    const marks = marksAt(fills, index);
    snapshots.push(portfolio.snapshot(marks, "fill", NOW));
    references.push(reference.value(marks));
  }

  it("is realistic: trades every market, sells out, and moves cash by amounts that need rounding", () => {
    expect(new Set(fills.map((f) => f.instrumentKey)).size).toBe(MARKETS.length);
    expect(fills.filter((f) => f.side === "SELL").length).toBeGreaterThan(150);
    expect(snapshots.some((s) => s.positions.some((p) => p.quantity === "0"))).toBe(true);
    expect(fills.some((f) => placesOf(str(dec(f.price).mul(f.quantity))) > MONEY_SCALE)).toBe(true);
    expect(fills.some((f) => f.feeCurrency !== "USDT")).toBe(baseFees);
  });

  it("serves exactly the figures of the independent fraction reference, after every fill", () => {
    const differences: unknown[] = [];
    for (const [index, snapshot] of snapshots.entries()) {
      const expected = references[index];
      for (const field of MONEY_FIELDS) if (snapshot[field] !== expected[field]) differences.push({ index, field, served: snapshot[field], expected: expected[field] });
      for (const position of snapshot.positions) {
        const { costBasis: _cost, ...served } = expected.positions[position.instrumentKey];
        for (const [field, value] of Object.entries(served)) {
          const actual = position[field as keyof typeof position];
          if (actual !== value) differences.push({ index, instrumentKey: position.instrumentKey, field, served: actual, expected: value });
        }
      }
    }
    expect(differences).toEqual([]);
    const book = portfolio.book;
    for (const [key, position] of Object.entries(book.positions)) expect(position.costBasis).toBe(references.at(-1)!.positions[key].costBasis);
  });

  it("has cash + Σ market value = equity and equity − start cash = realized + unrealized − fees, to the last digit", () => {
    for (const snapshot of snapshots) {
      const marketValues = exactSum(snapshot.positions.map((p) => p.marketValue));
      expect(q(snapshot.cash).add(marketValues).toString()).toBe(snapshot.equity);
      const pnl = q(snapshot.realizedPnl).add(q(snapshot.unrealizedPnl)).sub(q(snapshot.fees));
      expect(q(snapshot.equity).sub(q(START_CASH)).toString()).toBe(pnl.toString());
    }
    // And what is not in the market is in the cost basis: cash − start + Σ cost = realized − fees.
    const book = portfolio.book;
    const cost = exactSum(Object.values(book.positions).map((p) => p.costBasis));
    expect(q(book.cash).sub(q(book.startCash)).add(cost).toString()).toBe(q(book.realizedPnl).sub(q(book.fees)).toString());
  });

  it("serves no figure with more than 12 places, and quantities as the fills made them", () => {
    const decimal = new RegExp(DECIMAL_PATTERN);
    const offending: string[] = [];
    for (const snapshot of snapshots) {
      const served = [...MONEY_FIELDS.map((f) => snapshot[f]), ...snapshot.positions.flatMap((p) => POSITION_MONEY_FIELDS.map((f) => p[f]))];
      offending.push(...served.filter((value) => !decimal.test(value) || placesOf(value) > MONEY_SCALE));
      for (const position of snapshot.positions) {
        const lot = dec(MARKET[position.instrumentKey].lotSize);
        // With quote fees every quantity is a whole number of lots; base fees are at 8 places.
        const exact = baseFees ? placesOf(position.quantity) <= 8 : dec(position.quantity).mod(lot).isZero();
        if (!exact) offending.push(`${position.instrumentKey} quantity ${position.quantity}`);
      }
    }
    expect(offending).toEqual([]);
  });

  it("replays its fills, in any order and from any restart point, into the identical book and figures", () => {
    const marks = marksAt(fills, fills.length - 1);
    const live = portfolio.snapshot(marks, "mark", NOW);
    const random = new Random(seed as number);
    for (let attempt = 0; attempt < 3; attempt++) {
      const shuffled = [...fills];
      for (let i = shuffled.length - 1; i > 0; i--) {
        const j = Math.floor(random.next() * (i + 1));
        [shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]];
      }
      const rebuilt = new Portfolio(record(START_CASH), shuffled, [], marketOf);
      expect(rebuilt.book).toEqual(portfolio.book);
      expect(rebuilt.snapshot(marks, "mark", NOW)).toEqual(live);
    }
    // A restart after fill k: the book is rebuilt from the first k fills, then the rest arrive live.
    for (const k of [1, 150, 333, 599]) {
      const restarted = new Portfolio(record(START_CASH), fills.slice(0, k), [], marketOf);
      expect(restarted.snapshot(marksAt(fills, k - 1), "mark", NOW)).toEqual({ ...snapshots[k - 1], cause: "mark" });
      for (const fill of fills.slice(k)) restarted.applyFill(fill);
      expect(restarted.book).toEqual(replayFills("p1", START_CASH, fills, marketOf));
      expect(restarted.snapshot(marks, "mark", NOW)).toEqual(live);
    }
  });
});

describe("figures at marks finer than the scale", () => {
  it("takes the mark at 12 places and values, and serves, from that", () => {
    const fill: Fill = {
      fillId: "sim:1", clientOrderId: "c1", venueOrderId: "v1", portfolioId: "p1", instrumentKey: "sim:FINE/USDT", side: "BUY",
      price: "3", quantity: "3", fee: "0", feeCurrency: "USDT", liquidity: "taker", time: 1,
    };
    const portfolio = new Portfolio(record("100"), [fill], [], marketOf);
    const snapshot = portfolio.snapshot({ "sim:FINE/USDT": "3.3333333333333333333" }, "mark", NOW);
    expect(snapshot.positions[0]).toMatchObject({ markPrice: "3.333333333333", marketValue: "9.999999999999", unrealizedPnl: "0.999999999999" });
    expect(snapshot.equity).toBe("100.999999999999");
  });
});
