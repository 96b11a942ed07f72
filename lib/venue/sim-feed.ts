/**
 * The simulated market-data feed: one deterministic MarketSimulator per instrument, all on one
 * simulated clock that runs SIM_SPEED simulated seconds per real second. Any exchange id is
 * simulated (registering `binance:BTC/USDT` simulates that market with the catalogue's rules).
 */
import { wallClock, type Clock } from "../clock";
import { MarketSimulator } from "../market/simulator";
import { simMarketInfo } from "../market/catalog";
import { seedFrom } from "../market/random";
import { type MarketEventDraft, type MarketInfo, parseInstrumentKey } from "../../schemas";
import type { CandleEventDraft } from "../market/candles";
import type { MarketDataFeed } from "./types";

export interface SimFeedOptions {
  speed: number;
  seed: number;
  /** Simulated time at which the clock starts (continues a previous run); defaults to the wall clock. */
  startTime?: number;
  /** Real milliseconds between two advances of the simulators. */
  tickMs?: number;
  /** The real time the simulated clock runs against; the wall clock by default. */
  clock?: Clock;
}

export class SimulatedFeed implements MarketDataFeed {
  private readonly simulators = new Map<string, MarketSimulator>();
  private readonly streaming = new Set<string>();
  private readonly listeners: Array<(events: MarketEventDraft[]) => void> = [];
  private readonly clock: Clock;
  private readonly wallAnchor: number;
  private readonly simAnchor: number;
  private timer?: NodeJS.Timeout;
  /** Where the simulators last advanced to; the clock stops there on `stop()`. */
  private advancedTo?: number;
  private stoppedAt?: number;

  constructor(private readonly options: SimFeedOptions) {
    this.clock = options.clock ?? wallClock;
    this.wallAnchor = this.clock.now();
    this.simAnchor = options.startTime ?? this.wallAnchor;
  }

  /** The simulated time; frozen at the last advance once stopped, so the time saved for a restart has no unsimulated gap. */
  now(): number {
    if (this.stoppedAt !== undefined) return this.stoppedAt;
    return Math.floor(this.simAnchor + (this.clock.now() - this.wallAnchor) * this.options.speed);
  }

  async market(instrumentKey: string): Promise<MarketInfo> {
    const { exchange, symbol } = parseInstrumentKey(instrumentKey);
    return simMarketInfo(exchange, symbol);
  }

  /** The instrument's simulator, created on first use so history and live data are one continuous series. */
  private simulator(instrumentKey: string, startPrice?: string): MarketSimulator {
    let sim = this.simulators.get(instrumentKey);
    if (!sim) {
      const { exchange, symbol } = parseInstrumentKey(instrumentKey);
      sim = new MarketSimulator({ exchange, symbol, seed: seedFrom(this.options.seed, instrumentKey), startTime: this.now(), startPrice });
      this.simulators.set(instrumentKey, sim);
    }
    return sim;
  }

  async history(instrumentKey: string, limit: number): Promise<CandleEventDraft[]> {
    await this.market(instrumentKey);
    return this.simulator(instrumentKey).history(limit);
  }

  async subscribe(instrumentKey: string, resumeFrom?: { price: string }): Promise<void> {
    await this.market(instrumentKey);
    this.simulator(instrumentKey, resumeFrom?.price);
    this.streaming.add(instrumentKey);
    this.timer ??= setInterval(() => this.advance(), this.options.tickMs ?? 50);
  }

  async unsubscribe(instrumentKey: string): Promise<void> {
    this.streaming.delete(instrumentKey);
    this.simulators.delete(instrumentKey);
  }

  subscriptions(): string[] {
    return [...this.streaming];
  }

  onEvents(listener: (events: MarketEventDraft[]) => void): void {
    this.listeners.push(listener);
  }

  private advance(): void {
    const now = this.now();
    this.advancedTo = now;
    for (const key of this.streaming) {
      const events = this.simulators.get(key)!.advanceTo(now);
      if (events.length > 0) for (const listener of this.listeners) listener(events);
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.stoppedAt = this.advancedTo ?? this.now();
    this.streaming.clear();
  }
}
