import { Dec, dec, isDecimalString } from "../../lib/decimal";
import { MINUTE_MS, minuteOf } from "../../lib/market/candles";
import { simMarketInfo } from "../../lib/market/catalog";
import { Random, seedFrom } from "../../lib/market/random";
import { MarketSimulator } from "../../lib/market/simulator";
import { MarketEventDraft } from "../../schemas";

const T0 = Date.UTC(2024, 0, 1, 12, 0, 0);
const HOUR = 3600_000;

function btc(seed = 42, startTime = T0): MarketSimulator {
  return new MarketSimulator({ exchange: "sim", symbol: "BTC/USDT", seed, startTime });
}

function ofKind<K extends MarketEventDraft["kind"]>(events: MarketEventDraft[], kind: K): Extract<MarketEventDraft, { kind: K }>[] {
  return events.filter((e): e is Extract<MarketEventDraft, { kind: K }> => e.kind === kind);
}

function onStep(value: string, step: string): boolean {
  return dec(value).mod(step).isZero();
}

describe("Random", () => {
  it("is deterministic per seed and uniform in [0, 1)", () => {
    const a = new Random(7);
    const b = new Random(7);
    const xs = Array.from({ length: 10_000 }, () => a.next());
    expect(Array.from({ length: 10_000 }, () => b.next())).toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(mean).toBeGreaterThan(0.49);
    expect(mean).toBeLessThan(0.51);
    expect(new Random(8).next()).not.toBe(new Random(7).next());
  });

  it("draws normals and exponentials with the right moments", () => {
    const rng = new Random(seedFrom("moments"));
    const n = 20_000;
    const normals = Array.from({ length: n }, () => rng.normal());
    const mean = normals.reduce((s, x) => s + x, 0) / n;
    const variance = normals.reduce((s, x) => s + (x - mean) ** 2, 0) / n;
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(variance - 1)).toBeLessThan(0.05);
    const exps = Array.from({ length: n }, () => rng.exponential(4));
    expect(exps.every((x) => x >= 0)).toBe(true);
    expect(Math.abs(exps.reduce((s, x) => s + x, 0) / n - 0.25)).toBeLessThan(0.01);
  });

  it("hashes parts into stable, distinct 32-bit seeds", () => {
    expect(seedFrom("BTC/USDT", 42)).toBe(seedFrom("BTC/USDT", 42));
    expect(seedFrom("BTC/USDT", 42)).not.toBe(seedFrom("BTC/USDT", 43));
    expect(seedFrom("ab", "c")).not.toBe(seedFrom("a", "bc"));
    const seed = seedFrom("x");
    expect(Number.isInteger(seed) && seed >= 0 && seed < 2 ** 32).toBe(true);
  });
});

describe("MarketSimulator live events", () => {
  it("is deterministic: same seed, same events; another seed, other events", () => {
    const a = btc(42).advanceTo(T0 + 20 * MINUTE_MS);
    expect(btc(42).advanceTo(T0 + 20 * MINUTE_MS)).toEqual(a);
    expect(btc(43).advanceTo(T0 + 20 * MINUTE_MS)).not.toEqual(a);
  });

  it("starts with the exact events of seed 42", () => {
    const sim = btc(42);
    const events = sim.advanceTo(T0 + 2000);
    expect(events[0]).toMatchObject({ kind: "ticker", time: T0, last: "60000" });
    expect(events[1]).toMatchObject({ kind: "book", time: T0 });
    expect(ofKind(events, "trade").slice(0, 2)).toEqual([
      { kind: "trade", instrumentKey: "sim:BTC/USDT", exchange: "sim", symbol: "BTC/USDT", time: T0 + 579, tradeId: "1", price: "60028.57", quantity: "0.00866", takerSide: "BUY" },
      { kind: "trade", instrumentKey: "sim:BTC/USDT", exchange: "sim", symbol: "BTC/USDT", time: T0 + 1505, tradeId: "2", price: "60029.72", quantity: "0.00427", takerSide: "SELL" },
    ]);
  });

  it("gives the same events however advanceTo calls are chunked", () => {
    const whole = btc(7);
    const all = whole.advanceTo(T0 + HOUR);

    const chunked = btc(7);
    const pieces: MarketEventDraft[] = [];
    const sizes = new Random(99);
    let t = T0;
    while (t < T0 + HOUR) {
      t = Math.min(T0 + HOUR, t + Math.floor(sizes.next() * 3000)); // includes zero-length steps
      pieces.push(...chunked.advanceTo(t));
    }
    expect(pieces).toEqual(all);
    expect(chunked.now()).toBe(whole.now());
    expect(chunked.lastPrice()).toBe(whole.lastPrice());
    expect(chunked.book()).toEqual(whole.book());
    expect(chunked.regime()).toBe(whole.regime());
  });

  it("emits well-formed events in time order within the advanced window", () => {
    const sim = btc(5);
    const first = sim.advanceTo(T0 + 10 * MINUTE_MS);
    const events = sim.advanceTo(T0 + HOUR);
    expect(sim.now()).toBe(T0 + HOUR);
    expect(events[0].time).toBeGreaterThan(T0 + 10 * MINUTE_MS);
    expect(first[first.length - 1].time).toBeLessThanOrEqual(T0 + 10 * MINUTE_MS);
    for (let i = 1; i < events.length; i++) expect(events[i].time).toBeGreaterThanOrEqual(events[i - 1].time);
    expect(events.every((e) => e.time <= T0 + HOUR && e.instrumentKey === "sim:BTC/USDT" && e.exchange === "sim" && e.symbol === "BTC/USDT")).toBe(true);
    expect(sim.advanceTo(T0)).toEqual([]); // time never goes back
    expect(sim.now()).toBe(T0 + HOUR);
  });

  it("prints trades on the tick and lot grids at a regime-dependent Poisson rate", () => {
    const sim = btc(11);
    const trades = ofKind(sim.advanceTo(T0 + HOUR), "trade");
    expect(trades.length).toBeGreaterThan(0.5 * 3600 * 0.8);
    expect(trades.length).toBeLessThan(3 * 3600 * 1.2);
    const malformed = trades.filter(
      (trade, i) =>
        trade.tradeId !== String(i + 1) ||
        !isDecimalString(trade.price) ||
        !isDecimalString(trade.quantity) ||
        !onStep(trade.price, "0.01") ||
        !onStep(trade.quantity, "0.00001") ||
        dec(trade.quantity).lt("0.00001") ||
        (trade.takerSide !== "BUY" && trade.takerSide !== "SELL"),
    );
    expect(malformed).toEqual([]);
    expect(sim.lastPrice()).toBe(trades[trades.length - 1].price);
    // A random walk, not a constant: an hour of BTC moves by more than a few ticks.
    const prices = trades.map((t) => Number(t.price));
    expect(Math.max(...prices) - Math.min(...prices)).toBeGreaterThan(10);
  });

  it("sends at most one ticker per second, on the second, with bid below ask", () => {
    const events = btc(3).advanceTo(T0 + 10 * MINUTE_MS);
    const tickers = ofKind(events, "ticker");
    expect(tickers.length).toBeGreaterThan(100);
    expect(tickers.length).toBeLessThanOrEqual(601);
    expect(new Set(tickers.map((t) => t.time)).size).toBe(tickers.length);
    for (const ticker of tickers) {
      expect(ticker.time % 1000).toBe(0);
      expect(dec(ticker.bid).lt(ticker.ask)).toBe(true);
      const spreadTicks = dec(ticker.ask).sub(ticker.bid).div("0.01").toNumber();
      expect(spreadTicks).toBeGreaterThanOrEqual(1);
      expect(spreadTicks).toBeLessThanOrEqual(4);
    }
  });

  it("snapshots a 10-level book every 5 seconds, and book() is the current book", () => {
    const sim = btc(3);
    const events = sim.advanceTo(T0 + 5 * MINUTE_MS);
    const books = ofKind(events, "book");
    expect(books.map((b) => b.time)).toEqual(Array.from({ length: 61 }, (_, i) => T0 + i * 5000));
    for (const book of books) {
      expect(book.bids).toHaveLength(10);
      expect(book.asks).toHaveLength(10);
      expect(dec(book.bids[0][0]).lt(book.asks[0][0])).toBe(true);
      for (let i = 1; i < 10; i++) {
        expect(dec(book.bids[i][0]).lt(book.bids[i - 1][0])).toBe(true);
        expect(dec(book.asks[i][0]).gt(book.asks[i - 1][0])).toBe(true);
      }
      for (const [price, quantity] of [...book.bids, ...book.asks]) {
        expect(onStep(price, "0.01") && onStep(quantity, "0.00001") && dec(quantity).gt(0)).toBe(true);
      }
    }
    // The last event at T0 + 5 min is that book: nothing happened after it.
    const last = books[books.length - 1];
    expect(sim.book()).toEqual({ bids: last.bids, asks: last.asks });
  });

  it("closes a 1-minute candle on every minute, consistent with the minute's trades", () => {
    const events = btc(21).advanceTo(T0 + 30 * MINUTE_MS + 30_000);
    const candles = ofKind(events, "candle");
    expect(candles.map((c) => c.openTime)).toEqual(Array.from({ length: 30 }, (_, i) => T0 + i * MINUTE_MS));
    const trades = ofKind(events, "trade");
    for (const candle of candles) {
      expect(candle).toMatchObject({ timeframe: "1m", closed: true, time: candle.openTime + MINUTE_MS - 1, closeTime: candle.openTime + MINUTE_MS - 1 });
      const inMinute = trades.filter((t) => minuteOf(t.time) === candle.openTime);
      const prices = inMinute.map((t) => dec(t.price));
      expect(candle.tradeCount).toBe(inMinute.length);
      expect(candle.open).toBe(inMinute[0].price);
      expect(candle.close).toBe(inMinute[inMinute.length - 1].price);
      expect(candle.high).toBe(Dec.max(...prices).toFixed());
      expect(candle.low).toBe(Dec.min(...prices).toFixed());
      expect(candle.volume).toBe(inMinute.reduce((s, t) => s.add(t.quantity), new Dec(0)).toFixed());
      // Emitted after the minute's last trade and before the next minute's first one.
      const at = events.indexOf(candle);
      expect(events.indexOf(inMinute[inMinute.length - 1])).toBeLessThan(at);
      const next = trades.find((t) => t.time > candle.closeTime);
      if (next) expect(events.indexOf(next)).toBeGreaterThan(at);
    }
  });

  it("switches between volatility regimes over a day", () => {
    const sim = btc(42);
    const seen = new Set<string>();
    for (let h = 1; h <= 48; h++) {
      sim.advanceTo(T0 + h * HOUR);
      seen.add(sim.regime());
    }
    expect([...seen].sort()).toEqual(["calm", "normal", "volatile"]);
  });

  it("advances one simulated hour well under 100 ms", () => {
    btc(1).advanceTo(T0 + HOUR); // warm-up (JIT)
    const times = [2, 3, 4].map((seed) => {
      const sim = btc(seed);
      const started = performance.now();
      sim.advanceTo(T0 + HOUR);
      return performance.now() - started;
    });
    expect(Math.min(...times)).toBeLessThan(100);
  });

  it("simulates any catalogue symbol on its own grid, and honours a given start price and market", () => {
    const doge = new MarketSimulator({ exchange: "sim", symbol: "DOGE/USDT", seed: 1, startTime: T0 });
    const trades = ofKind(doge.advanceTo(T0 + 10 * MINUTE_MS), "trade");
    expect(trades.every((t) => onStep(t.price, "0.00001") && onStep(t.quantity, "1"))).toBe(true);

    const market = { ...simMarketInfo("sim", "FOO/USDT"), tickSize: "0.5", lotSize: "0.25", minQuantity: "0.25" };
    const foo = new MarketSimulator({ exchange: "sim", symbol: "FOO/USDT", seed: 1, startTime: T0, startPrice: "1000.3", market });
    expect(foo.lastPrice()).toBe("1000.5");
    const fooTrades = ofKind(foo.advanceTo(T0 + 10 * MINUTE_MS), "trade");
    expect(fooTrades.length).toBeGreaterThan(0);
    expect(fooTrades.every((t) => onStep(t.price, "0.5") && onStep(t.quantity, "0.25"))).toBe(true);
  });
});

describe("MarketSimulator history", () => {
  it("returns aligned, consecutive closed candles ending before the start, the last closing at the start price", () => {
    const start = T0 + 25_000; // mid-minute: the running minute is not part of history
    const history = btc(42, start).history(500);
    expect(history).toHaveLength(500);
    expect(history[499].openTime).toBe(T0 - MINUTE_MS);
    expect(history[499].closeTime).toBeLessThan(start);
    expect(history[499].close).toBe("60000");
    history.forEach((candle, i) => {
      expect(candle.openTime).toBe(T0 - (500 - i) * MINUTE_MS);
      expect(candle).toMatchObject({ kind: "candle", timeframe: "1m", closed: true, closeTime: candle.openTime + MINUTE_MS - 1, instrumentKey: "sim:BTC/USDT" });
      const [open, high, low, close] = [candle.open, candle.high, candle.low, candle.close].map(dec);
      expect(high.gte(Dec.max(open, close)) && low.lte(Dec.min(open, close))).toBe(true);
      expect([candle.open, candle.high, candle.low, candle.close].every((p) => onStep(p, "0.01"))).toBe(true);
      expect(onStep(candle.volume, "0.00001") && dec(candle.volume).gt(0) && candle.tradeCount > 0).toBe(true);
      if (i > 0) expect(candle.open).toBe(history[i - 1].close);
    });
  });

  it("is deterministic and gives the exact candles of seed 42", () => {
    const history = btc(42).history(100);
    expect(btc(42).history(100)).toEqual(history);
    expect(btc(43).history(100)).not.toEqual(history);
    expect(history.slice(-2).map((c) => [c.open, c.high, c.low, c.close, c.volume, c.tradeCount])).toEqual([
      ["59973.64", "60077.92", "59972.78", "60077.92", "0.38522", 67],
      ["60077.92", "60108.71", "60000", "60000", "0.41306", 158],
    ]);
  });

  it("makes a shorter history the tail of a longer one, and takes an end time", () => {
    const sim = btc(9);
    expect(sim.history(10)).toEqual(sim.history(200).slice(-10));
    const earlier = sim.history(5, T0 - HOUR);
    expect(earlier.map((c) => c.openTime)).toEqual([5, 4, 3, 2, 1].map((k) => T0 - HOUR - k * MINUTE_MS));
    expect(earlier[4].close).toBe("60000");
    expect(sim.history(0)).toEqual([]);
  });

  it("does not disturb the live events, which continue smoothly from it", () => {
    const plain = btc(42).advanceTo(T0 + 10 * MINUTE_MS);
    const sim = btc(42);
    const history = sim.history(300);
    expect(sim.advanceTo(T0 + 10 * MINUTE_MS)).toEqual(plain);
    const firstTrade = ofKind(plain, "trade")[0];
    const lastClose = dec(history[history.length - 1].close);
    expect(dec(firstTrade.price).sub(lastClose).abs().div(lastClose).toNumber()).toBeLessThan(0.005);
    expect(ofKind(plain, "candle")[0].openTime).toBe(history[history.length - 1].openTime + MINUTE_MS);
  });
});
