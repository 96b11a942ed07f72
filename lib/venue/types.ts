/**
 * The venue seam of the External API Facade. A market-data feed (the simulator here; ccxt for live
 * exchanges) and a trading venue (the paper broker here; ccxt for live trading) are chosen by
 * configuration; the exchange service only talks to these interfaces.
 */
import type { Execution, Fill, MarketEventDraft, MarketInfo, OrderRequest, VenueOrder } from "../../schemas";
import type { CandleEventDraft } from "../market/candles";

export interface MarketDataFeed {
  /** Trading rules of a market; throws VenueError("unknown_symbol") for a market the venue does not list. */
  market(instrumentKey: string): Promise<MarketInfo>;
  /** Closed 1-minute candles before the live stream starts, oldest first. */
  history(instrumentKey: string, limit: number): Promise<CandleEventDraft[]>;
  /** Starts streaming an instrument (idempotent); `resumeFrom` continues a stream from its last known price. */
  subscribe(instrumentKey: string, resumeFrom?: { price: string }): Promise<void>;
  unsubscribe(instrumentKey: string): Promise<void>;
  subscriptions(): string[];
  /**
   * Receives every batch of events, in order per instrument. A `historical` batch was fetched late
   * (a gap backfilled after a reconnect, REST polling while a stream is down): its data is as fresh
   * as its own market time, not as its arrival.
   */
  onEvents(listener: (events: MarketEventDraft[], origin?: { historical: boolean }) => void): void;
  /** The market's clock (simulated time under the simulator). */
  now(): number;
  stop(): Promise<void>;
}

/** Where a venue writes its orders and fills before it answers, and reads them back on start. */
export interface VenueJournal {
  saveOrder(order: VenueOrder): Promise<void>;
  /** True when the fill was not journalled before. */
  saveFill(fill: Fill): Promise<boolean>;
  load(): Promise<{ orders: VenueOrder[]; fills: Fill[] }>;
}

export interface TradingVenue {
  place(request: OrderRequest): Promise<Execution>;
  cancel(clientOrderId: string): Promise<VenueOrder>;
  /** The order and its fills, by our client order id. */
  order(clientOrderId: string): Promise<Execution>;
  fillsSince(time: number): Promise<Fill[]>;
  openOrders(): Promise<VenueOrder[]>;
  /** Market data reaches the venue (the paper broker matches resting orders against it). */
  onMarket(events: MarketEventDraft[]): Promise<Execution[]>;
}
