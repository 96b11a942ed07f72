/**
 * A deterministic, seeded market for one instrument. The mid price follows a geometric random walk
 * in simulated time whose volatility switches between regimes (a continuous-time Markov chain), with
 * rare jumps that decay back. Trades arrive as a Poisson process and print at the bid or the ask;
 * tickers, order-book snapshots and 1-minute candles are derived from that state.
 *
 * Determinism: every random draw happens while processing a scheduled event, in time order, so the
 * event sequence depends on the seed alone and not on how `advanceTo` calls are chunked.
 */
import { Dec, dec, roundToStep, str } from "../decimal";
import { BookLevel, MarketEventDraft, MarketInfo, Side, instrumentKeyOf } from "../../schemas";
import { CandleBuilder, CandleEventDraft, MINUTE_MS, minuteOf } from "./candles";
import { simMarketInfo, simStartPrice } from "./catalog";
import { Random, seedFrom } from "./random";

// Bound once: global lookups are slow in vm sandboxes (jest runs tests in one), and these are hot.
const { ceil, exp, floor, log, max, min, round, sqrt } = Math;

export type Regime = "calm" | "normal" | "volatile";

interface RegimeParams {
  /** Annualised volatility of the log price. */
  volatility: number;
  tradesPerSecond: number;
  spreadTicks: number;
  meanDurationMs: number;
  /** Where the chain goes when it leaves this regime, with probabilities. */
  next: [Regime, number][];
}

const REGIMES: Record<Regime, RegimeParams> = {
  calm: { volatility: 0.35, tradesPerSecond: 0.5, spreadTicks: 1, meanDurationMs: 40 * MINUTE_MS, next: [["normal", 0.85], ["volatile", 0.15]] },
  normal: { volatility: 0.7, tradesPerSecond: 1.2, spreadTicks: 2, meanDurationMs: 60 * MINUTE_MS, next: [["calm", 0.6], ["volatile", 0.4]] },
  volatile: { volatility: 1.6, tradesPerSecond: 3, spreadTicks: 4, meanDurationMs: 15 * MINUTE_MS, next: [["normal", 0.8], ["calm", 0.2]] },
};
const INITIAL_REGIME: [Regime, number][] = [["calm", 0.3], ["normal", 0.5], ["volatile", 0.2]];

const YEAR_MS = 365 * 24 * 3600 * 1000;
/** Annualised drift of the log price. */
const DRIFT = 0.05;
const JUMP_MEAN_INTERVAL_MS = 4 * 3600 * 1000;
/** Standard deviation of a jump of the log price. */
const JUMP_SIZE = 0.01;
/** Time constant of the exponential decay of a jump. */
const JUMP_REVERSION_MS = 20 * MINUTE_MS;
const TICKER_INTERVAL_MS = 1000;
const BOOK_INTERVAL_MS = 5000;
const BOOK_DEPTH = 10;
/** Distance between book levels as a fraction of the mid (one basis point), at least one tick. */
const BOOK_LEVEL_SPACING = 0.0001;
/** Median trade value as a multiple of the market's minimum order value (or of one lot's value). */
const MEDIAN_TRADE_MIN_NOTIONALS = 40;
const TRADE_SIZE_SIGMA = 1;
const BOOK_SIZE_SIGMA = 0.4;
const HISTORY_STEPS_PER_MINUTE = 20;

export interface MarketSimulatorOptions {
  exchange: string;
  symbol: string;
  seed: number;
  /** Simulated epoch ms at which live events start. */
  startTime: number;
  /** Defaults to the catalogue's start price. */
  startPrice?: string;
  /** Defaults to the catalogue's rules. */
  market?: MarketInfo;
}

export interface BookSnapshot {
  bids: BookLevel[];
  asks: BookLevel[];
}

/** Scheduled sources of events, in the order they are processed when due at the same millisecond. */
const SOURCES = ["trade", "jump", "regime", "candle", "ticker", "book"] as const;
type Source = (typeof SOURCES)[number];

/**
 * `units × step` as a canonical decimal string. Steps are nearly always powers of ten, and
 * formatting the integer directly keeps the simulator fast; other steps go through Dec.
 */
function stepFormatter(step: Dec): (units: number) => string {
  const text = str(step);
  const fraction = /^0\.(0*)1$/.exec(text);
  if (fraction) {
    const decimals = fraction[1].length + 1;
    const scale = 10 ** decimals;
    return (units) => {
      const whole = floor(units / scale);
      let rest = units - whole * scale;
      if (rest === 0) return `${whole}`;
      let digits = decimals;
      while (rest % 10 === 0) {
        rest /= 10;
        digits--;
      }
      return `${whole}.${`${rest}`.padStart(digits, "0")}`;
    };
  }
  if (/^10*$/.test(text)) return (units) => `${units * step.toNumber()}`;
  return (units) => str(step.mul(units));
}

function pick<T>(rng: Random, weighted: [T, number][]): T {
  let u = rng.next();
  for (const [value, weight] of weighted) {
    u -= weight;
    if (u < 0) return value;
  }
  return weighted[weighted.length - 1][0];
}

export class MarketSimulator {
  readonly exchange: string;
  readonly symbol: string;
  readonly instrumentKey: string;
  readonly market: MarketInfo;

  private readonly seed: number;
  private readonly startTime: number;
  private readonly initialRegime: Regime;
  private readonly rng: Random;
  private readonly candles: CandleBuilder;
  private readonly tick: Dec;
  private readonly lot: Dec;
  /** Ticks to a price string, lots to a quantity string. */
  private readonly price: (ticks: number) => string;
  private readonly quantity: (lots: number) => string;
  /** Value of one lot at a price of one tick, as a float: trade and book sizes are analytics. */
  private readonly lotTickValue: number;
  /** Value of the median trade, in quote units. */
  private readonly medianNotional: number;
  private readonly minLots: number;
  private readonly startTicks: number;

  private time: number;
  private currentRegime: Regime;
  /** Random-walk part of ln(mid in ticks); the jump offset is added on top and decays. */
  private logMid: number;
  private jumpOffset = 0;
  private priceTime: number;
  private midTicks: number;
  private bidTicks = 0;
  private askTicks = 0;
  private last: string;
  private tradeSeq = 0;
  /** Book quantities in lots per level, redrawn at each snapshot; prices follow the quotes. */
  private bookLots: { bids: number[]; asks: number[] };
  private tickerDue = true;
  private readonly due: Record<Source, number>;

  constructor(options: MarketSimulatorOptions) {
    const { exchange, symbol, seed, startTime } = options;
    this.exchange = exchange;
    this.symbol = symbol;
    this.instrumentKey = instrumentKeyOf(exchange, symbol);
    this.market = options.market ?? simMarketInfo(exchange, symbol);
    this.seed = seed;
    this.startTime = startTime;
    this.tick = dec(this.market.tickSize);
    this.lot = dec(this.market.lotSize);
    this.price = stepFormatter(this.tick);
    this.quantity = stepFormatter(this.lot);
    const start = roundToStep(options.startPrice ?? simStartPrice(symbol), this.tick, "nearest");
    if (start.lte(0)) throw new Error(`start price of ${symbol} must be at least one tick`);
    this.startTicks = start.div(this.tick).toNumber();
    this.lotTickValue = this.tick.mul(this.lot).toNumber();
    this.last = str(start);
    this.minLots = max(1, dec(this.market.minQuantity).div(this.lot).ceil().toNumber());
    this.medianNotional = MEDIAN_TRADE_MIN_NOTIONALS * max(Number(this.market.minNotional), this.lot.mul(start).toNumber());
    this.candles = new CandleBuilder(this.instrumentKey, exchange, symbol);

    this.rng = new Random(seedFrom(seed, symbol));
    this.initialRegime = pick(this.rng, INITIAL_REGIME);
    this.currentRegime = this.initialRegime;
    this.time = startTime;
    this.priceTime = startTime;
    this.logMid = log(this.startTicks);
    this.midTicks = this.startTicks;
    this.requote();
    this.bookLots = this.drawBookLots();
    this.due = {
      trade: startTime + this.tradeInterval(),
      jump: startTime + ceil(this.rng.exponential(1 / JUMP_MEAN_INTERVAL_MS)),
      regime: startTime + this.regimeDuration(),
      candle: minuteOf(startTime) + MINUTE_MS - 1,
      // An initial ticker and book at the start time, then on the 1 s and 5 s grids.
      ticker: startTime,
      book: startTime,
    };
  }

  now(): number {
    return this.time;
  }

  lastPrice(): string {
    return this.last;
  }

  regime(): Regime {
    return this.currentRegime;
  }

  /** The current top of the book, best level first. */
  book(): BookSnapshot {
    const step = max(1, round(this.midTicks * BOOK_LEVEL_SPACING));
    const bids: BookLevel[] = [];
    const asks: BookLevel[] = [];
    for (let i = 0; i < BOOK_DEPTH; i++) {
      const bid = this.bidTicks - i * step;
      if (bid > 0) bids.push([this.price(bid), this.quantity(this.bookLots.bids[i])]);
      asks.push([this.price(this.askTicks + i * step), this.quantity(this.bookLots.asks[i])]);
    }
    return { bids, asks };
  }

  /** Every event due after the previous call and at or before `time`, in time order. */
  advanceTo(time: number): MarketEventDraft[] {
    const events: MarketEventDraft[] = [];
    for (;;) {
      let source: Source = SOURCES[0];
      for (const s of SOURCES) if (this.due[s] < this.due[source]) source = s;
      const at = this.due[source];
      if (at > time) break;
      this.time = at;
      this.handle(source, at, events);
    }
    this.time = max(this.time, time);
    return events;
  }

  /**
   * `count` closed 1-minute candles ending before `endTime`, oldest first. They are drawn backwards
   * from the start price, so the newest one closes exactly at it and `history(n)` is the tail of
   * `history(m)` for m > n. History has its own random stream: calling it never changes live events.
   */
  history(count: number, endTime: number = this.startTime): CandleEventDraft[] {
    const lastOpen = minuteOf(endTime) - MINUTE_MS;
    const rng = new Random(seedFrom(this.seed, this.symbol, "history", lastOpen));
    const candles: CandleEventDraft[] = new Array(max(0, count));
    const stepMs = MINUTE_MS / HISTORY_STEPS_PER_MINUTE;
    const logPoints = new Array<number>(HISTORY_STEPS_PER_MINUTE + 1);
    let regime = this.initialRegime;
    let closeLog = log(this.startTicks);
    for (let i = count - 1; i >= 0; i--) {
      const params = REGIMES[regime];
      const variance = (params.volatility * params.volatility * stepMs) / YEAR_MS;
      const drift = (DRIFT * stepMs) / YEAR_MS - variance / 2;
      logPoints[HISTORY_STEPS_PER_MINUTE] = closeLog;
      for (let k = HISTORY_STEPS_PER_MINUTE - 1; k >= 0; k--) {
        logPoints[k] = logPoints[k + 1] - (drift + sqrt(variance) * rng.normal());
      }
      const ticks = logPoints.map((l) => max(1, round(exp(l))));
      const closeTicks = ticks[HISTORY_STEPS_PER_MINUTE];
      const expectedTrades = params.tradesPerSecond * (MINUTE_MS / 1000);
      const tradeCount = max(1, round(expectedTrades + sqrt(expectedTrades) * rng.normal()));
      // The sum of the trades' lognormal sizes, approximated by its mean times a little noise.
      const meanLots = this.medianLots(closeTicks) * exp((TRADE_SIZE_SIGMA * TRADE_SIZE_SIGMA) / 2);
      const volumeLots = max(tradeCount * this.minLots, floor(tradeCount * meanLots * exp(0.3 * rng.normal() - 0.045)));
      const openTime = lastOpen - (count - 1 - i) * MINUTE_MS;
      candles[i] = {
        kind: "candle",
        instrumentKey: this.instrumentKey,
        exchange: this.exchange,
        symbol: this.symbol,
        time: openTime + MINUTE_MS - 1,
        timeframe: "1m",
        openTime,
        closeTime: openTime + MINUTE_MS - 1,
        open: this.price(ticks[0]),
        high: this.price(max(...ticks)),
        low: this.price(min(...ticks)),
        close: this.price(closeTicks),
        volume: this.quantity(volumeLots),
        tradeCount,
        closed: true,
      };
      closeLog = logPoints[0];
      // The regime chain run backwards: leave the regime with the probability of a switch within a minute.
      if (rng.next() < 1 - exp(-MINUTE_MS / params.meanDurationMs)) regime = pick(rng, params.next);
    }
    return candles;
  }

  private handle(source: Source, at: number, events: MarketEventDraft[]): void {
    switch (source) {
      case "trade":
        this.evolve(at);
        this.emitTrade(at, events);
        this.due.trade = at + this.tradeInterval();
        break;
      case "jump":
        this.evolve(at);
        this.jumpOffset += JUMP_SIZE * this.rng.normal();
        this.requote();
        this.due.jump = at + ceil(this.rng.exponential(1 / JUMP_MEAN_INTERVAL_MS));
        break;
      case "regime":
        this.evolve(at); // the old regime's volatility applies up to the switch
        this.currentRegime = pick(this.rng, REGIMES[this.currentRegime].next);
        this.requote();
        this.due.regime = at + this.regimeDuration();
        break;
      case "candle":
        events.push(...this.candles.closeUpTo(at));
        this.due.candle = at + MINUTE_MS;
        break;
      case "ticker":
        if (this.tickerDue) {
          events.push({ kind: "ticker", ...this.header(at), bid: this.price(this.bidTicks), ask: this.price(this.askTicks), last: this.last, bidQuantity: this.quantity(this.bookLots.bids[0]), askQuantity: this.quantity(this.bookLots.asks[0]) });
          this.tickerDue = false;
        }
        this.due.ticker = floor(at / TICKER_INTERVAL_MS) * TICKER_INTERVAL_MS + TICKER_INTERVAL_MS;
        break;
      case "book":
        this.bookLots = this.drawBookLots();
        this.tickerDue = true; // the top quantities changed
        events.push({ kind: "book", ...this.header(at), ...this.book() });
        this.due.book = floor(at / BOOK_INTERVAL_MS) * BOOK_INTERVAL_MS + BOOK_INTERVAL_MS;
        break;
    }
  }

  private emitTrade(at: number, events: MarketEventDraft[]): void {
    const takerSide: Side = this.rng.next() < 0.5 ? "BUY" : "SELL";
    const lots = max(this.minLots, floor(this.medianLots(this.midTicks) * exp(TRADE_SIZE_SIGMA * this.rng.normal())));
    const trade = {
      kind: "trade" as const,
      ...this.header(at),
      tradeId: `${++this.tradeSeq}`,
      price: this.price(takerSide === "BUY" ? this.askTicks : this.bidTicks),
      quantity: this.quantity(lots),
      takerSide,
    };
    this.last = trade.price;
    this.tickerDue = true;
    events.push(trade);
    events.push(...this.candles.onTrade(trade));
  }

  /** Moves the mid from the last update to `at` under the current regime. */
  private evolve(at: number): void {
    const dt = at - this.priceTime;
    if (dt <= 0) return;
    const volatility = REGIMES[this.currentRegime].volatility;
    const variance = (volatility * volatility * dt) / YEAR_MS;
    this.logMid += (DRIFT * dt) / YEAR_MS - variance / 2 + sqrt(variance) * this.rng.normal();
    this.jumpOffset *= exp(-dt / JUMP_REVERSION_MS);
    this.priceTime = at;
    this.requote();
  }

  private requote(): void {
    const spread = REGIMES[this.currentRegime].spreadTicks;
    this.midTicks = max(spread + 1, round(exp(this.logMid + this.jumpOffset)));
    const bid = this.midTicks - floor(spread / 2);
    if (bid !== this.bidTicks || bid + spread !== this.askTicks) this.tickerDue = true;
    this.bidTicks = bid;
    this.askTicks = bid + spread;
  }

  private drawBookLots(): { bids: number[]; asks: number[] } {
    const median = this.medianLots(this.midTicks);
    const level = (i: number) => max(this.minLots, floor(median * (3 + i) * exp(BOOK_SIZE_SIGMA * this.rng.normal())));
    const bids: number[] = [];
    const asks: number[] = [];
    for (let i = 0; i < BOOK_DEPTH; i++) {
      bids.push(level(i));
      asks.push(level(i));
    }
    return { bids, asks };
  }

  /** Lots in a trade of median value at a price of `ticks`. */
  private medianLots(ticks: number): number {
    return this.medianNotional / (ticks * this.lotTickValue);
  }

  private tradeInterval(): number {
    return max(1, round(1000 * this.rng.exponential(REGIMES[this.currentRegime].tradesPerSecond)));
  }

  private regimeDuration(): number {
    return ceil(this.rng.exponential(1 / REGIMES[this.currentRegime].meanDurationMs));
  }

  private header(time: number) {
    return { instrumentKey: this.instrumentKey, exchange: this.exchange, symbol: this.symbol, time };
  }
}
