/**
 * A paper-trading venue: orders fill against the latest market data of each instrument instead of
 * a real exchange. Market orders (and the marketable part of limit orders) take liquidity from the
 * last book with slippage; resting limit orders fill as maker when trades print through their price.
 * State is plain JSON (`snapshot` / `restore`) so a restarted process keeps its orders and keeps
 * refusing client order ids it has already seen.
 */
import type { Clock } from "../clock";
import { Dec, dec, roundToStep, str } from "../decimal";
import { VenueError } from "../errors";
import { type BookLevel, type Execution, type Fill, type MarketEvent, type MarketEventDraft, type MarketInfo, type OrderRequest, type Side, type VenueOrder, parseInstrumentKey } from "../../schemas";
import { checkMinNotional, checkOrderRequest, fillTotals, isTerminal, onMarketGrid, statusAfterFills } from "./order-rules";

export interface PaperBrokerOptions {
  exchange: string;
  /** Trading rules of a symbol; throws `VenueError("unknown_symbol")` for a symbol the venue does not list. */
  market: (symbol: string) => MarketInfo;
  /** Slippage against the trader on every taker fill, in basis points. Default 5. */
  slippageBps?: number;
  clock: Clock;
  /** Share of each printed trade's quantity that resting orders may fill. Default 1. */
  partialFillRatio?: number;
}

export interface PaperBrokerState {
  version: 1;
  orderSeq: number;
  fillSeq: number;
  /** Every order ever accepted, in creation order (terminal ones included: they keep their ids taken). */
  orders: VenueOrder[];
  fills: Fill[];
  /** Last price per instrument key (from trades, tickers and candle closes). */
  lastPrices: Record<string, string>;
}

/** Fees are charged at 8 places of the quote currency (as Binance settles USDT), half to even. */
const FEE_DECIMALS = 8;

type Level = { price: Dec; quantity: Dec };

/** What the broker knows of one instrument's market. Bids best (highest) first, asks best (lowest) first. */
interface MarketState {
  bids: Level[];
  asks: Level[];
  last?: Dec;
}

function toLevels(levels: BookLevel[], side: "bids" | "asks"): Level[] {
  return levels
    .map(([price, quantity]) => ({ price: dec(price), quantity: dec(quantity) }))
    .filter((level) => level.quantity.gt(0) && level.price.gt(0))
    .sort((a, b) => (side === "bids" ? b.price.comparedTo(a.price) : a.price.comparedTo(b.price)));
}

export class PaperBroker {
  private readonly exchange: string;
  private readonly market: (symbol: string) => MarketInfo;
  private readonly slippage: Dec;
  private readonly clock: Clock;
  private readonly partialFillRatio: Dec;

  private orders = new Map<string, VenueOrder>();
  /** The limit orders still working, in placement order (a subset of `orders`, same objects). */
  private resting = new Map<string, VenueOrder>();
  private fills: Fill[] = [];
  /** The same fills by client order id. */
  private fillsByOrder = new Map<string, Fill[]>();
  private markets = new Map<string, MarketState>();
  private orderSeq = 0;
  private fillSeq = 0;

  constructor(options: PaperBrokerOptions) {
    this.exchange = options.exchange;
    this.market = options.market;
    this.slippage = dec(options.slippageBps ?? 5).div(10_000);
    this.clock = options.clock;
    this.partialFillRatio = dec(options.partialFillRatio ?? 1);
  }

  place(req: OrderRequest): Execution {
    checkOrderRequest(req);
    if (this.orders.has(req.clientOrderId)) {
      throw new VenueError("duplicate_client_order_id", `client order id ${req.clientOrderId} was already used`);
    }
    const market = this.marketOf(req.instrumentKey);
    const { quantity, limit } = onMarketGrid(req, market);
    const state = this.markets.get(req.instrumentKey);
    const marketPrice = state && this.referencePrice(state, req.side);
    if (!state || !marketPrice) throw new VenueError("venue_unavailable", `no market data for ${req.instrumentKey}`);
    checkMinNotional(quantity, limit ?? marketPrice, market);

    const now = this.clock.now();
    const order: VenueOrder = {
      clientOrderId: req.clientOrderId,
      venueOrderId: `P${++this.orderSeq}`,
      portfolioId: req.portfolioId,
      instrumentKey: req.instrumentKey,
      side: req.side,
      type: req.type,
      quantity: str(quantity),
      ...(limit && { price: str(limit) }),
      filledQuantity: "0",
      status: "open",
      createdAt: now,
      updatedAt: now,
    };
    this.orders.set(order.clientOrderId, order);

    const fills = this.take(order, market, state, quantity, limit);
    this.applyFills(order);
    if (order.status !== "filled") {
      // Only limit orders get here: a market order always fills in full.
      if (req.timeInForce === "IOC") {
        order.status = "cancelled";
        order.reason = "ioc_unfilled";
      } else {
        this.resting.set(order.clientOrderId, order);
      }
    }
    return { order: { ...order }, fills: fills.map((fill) => ({ ...fill })) };
  }

  /**
   * Takes in a market event: a book replaces the instrument's book, a ticker its best levels, a
   * trade (or ticker, or candle close) its last price. Returns the executions of the resting orders
   * a trade filled.
   */
  onMarket(event: MarketEvent | MarketEventDraft): Execution[] {
    const state = this.stateOf(event.instrumentKey);
    switch (event.kind) {
      case "candle":
        state.last = dec(event.close);
        return [];
      case "book":
        state.bids = toLevels(event.bids, "bids");
        state.asks = toLevels(event.asks, "asks");
        return [];
      case "ticker": {
        // The ticker is newer than the last book: its best prices replace the levels they cross.
        const bid = dec(event.bid);
        const ask = dec(event.ask);
        state.bids = [{ price: bid, quantity: dec(event.bidQuantity) }, ...state.bids.filter((level) => level.price.lt(bid))];
        state.asks = [{ price: ask, quantity: dec(event.askQuantity) }, ...state.asks.filter((level) => level.price.gt(ask))];
        state.last = dec(event.last);
        return [];
      }
      case "trade":
        state.last = dec(event.price);
        return this.matchResting(event.instrumentKey, dec(event.price), dec(event.quantity));
    }
  }

  cancel(clientOrderId: string): VenueOrder {
    const order = this.orderOf(clientOrderId);
    if (!isTerminal(order)) {
      this.resting.delete(clientOrderId);
      order.status = "cancelled";
      order.reason = "cancelled_by_client";
      order.updatedAt = this.clock.now();
    }
    return { ...order };
  }

  getOrder(clientOrderId: string): VenueOrder {
    return { ...this.orderOf(clientOrderId) };
  }

  /** Orders that can still fill, oldest first. */
  openOrders(portfolioId?: string): VenueOrder[] {
    return [...this.resting.values()]
      .filter((order) => portfolioId === undefined || order.portfolioId === portfolioId)
      .map((order) => ({ ...order }));
  }

  /** Fills at or after `time`, oldest first. */
  fillsSince(time: number): Fill[] {
    return this.fills.filter((fill) => fill.time >= time).map((fill) => ({ ...fill }));
  }

  fillsOf(clientOrderId: string): Fill[] {
    return (this.fillsByOrder.get(clientOrderId) ?? []).map((fill) => ({ ...fill }));
  }

  snapshot(): PaperBrokerState {
    const lastPrices: Record<string, string> = {};
    for (const [instrumentKey, state] of this.markets) if (state.last) lastPrices[instrumentKey] = str(state.last);
    return {
      version: 1,
      orderSeq: this.orderSeq,
      fillSeq: this.fillSeq,
      orders: [...this.orders.values()].map((order) => ({ ...order })),
      fills: this.fills.map((fill) => ({ ...fill })),
      lastPrices,
    };
  }

  /** Replaces the whole state with a snapshot. Books are not kept: they come back with the next market data. */
  restore(state: PaperBrokerState): void {
    if (state.version !== 1) throw new Error(`unsupported paper broker state version ${String(state.version)}`);
    this.orderSeq = state.orderSeq;
    this.fillSeq = state.fillSeq;
    this.orders = new Map(state.orders.map((order) => [order.clientOrderId, { ...order }]));
    this.resting = new Map([...this.orders].filter(([, order]) => !isTerminal(order)));
    this.fills = [];
    this.fillsByOrder = new Map();
    for (const fill of state.fills) this.record({ ...fill });
    this.markets = new Map(Object.entries(state.lastPrices).map(([instrumentKey, last]) => [instrumentKey, { bids: [], asks: [], last: dec(last) }]));
  }

  private marketOf(instrumentKey: string): MarketInfo {
    let parsed: { exchange: string; symbol: string };
    try {
      parsed = parseInstrumentKey(instrumentKey);
    } catch {
      throw new VenueError("invalid_order", `invalid instrument key "${String(instrumentKey)}"`);
    }
    if (parsed.exchange !== this.exchange) throw new VenueError("unknown_symbol", `${instrumentKey} is not traded on ${this.exchange}`);
    return this.market(parsed.symbol);
  }

  private orderOf(clientOrderId: string): VenueOrder {
    const order = this.orders.get(clientOrderId);
    if (!order) throw new VenueError("order_not_found", `no order with client order id ${clientOrderId}`);
    return order;
  }

  private stateOf(instrumentKey: string): MarketState {
    let state = this.markets.get(instrumentKey);
    if (!state) {
      state = { bids: [], asks: [] };
      this.markets.set(instrumentKey, state);
    }
    return state;
  }

  /** The price a market order would start filling at: the opposite best, else the last trade. */
  private referencePrice(state: MarketState, side: Side): Dec | undefined {
    const opposite = side === "BUY" ? state.asks : state.bids;
    return opposite[0]?.price ?? state.last ?? (side === "BUY" ? state.bids : state.asks)[0]?.price;
  }

  /**
   * Takes liquidity from the book for `quantity`, one fill per level, consuming the levels it takes.
   * With a limit, only levels at or better than the limit are taken; without one (market order), what
   * the book cannot give fills at the last level reached (or the last trade) plus slippage.
   */
  private take(order: VenueOrder, market: MarketInfo, state: MarketState, quantity: Dec, limit?: Dec): Fill[] {
    const buying = order.side === "BUY";
    const levels = buying ? state.asks : state.bids;
    const fills: Fill[] = [];
    let remaining = quantity;
    let lastLevelPrice: Dec | undefined;
    for (const level of levels) {
      if (remaining.isZero()) break;
      if (limit && (buying ? level.price.gt(limit) : level.price.lt(limit))) break;
      lastLevelPrice = level.price;
      const taken = Dec.min(remaining, roundToStep(level.quantity, market.lotSize, "down"));
      if (taken.isZero()) continue;
      const slipped = this.slip(level.price, order.side, market);
      const price = limit ? (buying ? Dec.min(slipped, limit) : Dec.max(slipped, limit)) : slipped;
      fills.push(this.fill(order, market, price, taken, "taker"));
      level.quantity = level.quantity.sub(taken);
      remaining = remaining.sub(taken);
    }
    const left = levels.filter((level) => level.quantity.gt(0));
    if (buying) state.asks = left;
    else state.bids = left;
    if (!limit && remaining.gt(0)) {
      // Place only accepts orders with a reference price, so one of these is known.
      const base = lastLevelPrice ?? state.last ?? this.referencePrice(state, order.side)!;
      fills.push(this.fill(order, market, this.slip(base, order.side, market), remaining, "taker"));
    }
    return fills;
  }

  /** Resting limit orders of the instrument crossed by a trade, best price first then oldest first. */
  private matchResting(instrumentKey: string, price: Dec, tradeQuantity: Dec): Execution[] {
    const executions: Execution[] = [];
    for (const side of ["BUY", "SELL"] as const) {
      const crossed = [...this.resting.values()]
        .filter((order) => order.instrumentKey === instrumentKey && order.side === side)
        .filter((order) => (side === "BUY" ? price.lte(order.price!) : price.gte(order.price!)))
        .sort((a, b) => (side === "BUY" ? dec(b.price!).comparedTo(a.price!) : dec(a.price!).comparedTo(b.price!)));
      if (crossed.length === 0) continue;
      const market = this.marketOf(instrumentKey);
      // Resting orders share the printed quantity: they cannot fill more than actually traded.
      let available = roundToStep(tradeQuantity.mul(this.partialFillRatio), market.lotSize, "down");
      for (const order of crossed) {
        if (available.isZero()) break;
        const quantity = Dec.min(available, dec(order.quantity).sub(order.filledQuantity));
        const fill = this.fill(order, market, dec(order.price!), quantity, "maker");
        this.applyFills(order);
        if (order.status === "filled") this.resting.delete(order.clientOrderId);
        available = available.sub(quantity);
        executions.push({ order: { ...order }, fills: [{ ...fill }] });
      }
    }
    return executions;
  }

  /** Moves `price` against the trader by the slippage, onto the tick grid. */
  private slip(price: Dec, side: Side, market: MarketInfo): Dec {
    return side === "BUY"
      ? roundToStep(price.mul(this.slippage.add(1)), market.tickSize, "up")
      : roundToStep(price.mul(new Dec(1).sub(this.slippage)), market.tickSize, "down");
  }

  private fill(order: VenueOrder, market: MarketInfo, price: Dec, quantity: Dec, liquidity: Fill["liquidity"]): Fill {
    const feeRate = liquidity === "maker" ? market.makerFee : market.takerFee;
    const fill: Fill = {
      fillId: `${this.exchange}:paper-${++this.fillSeq}`,
      clientOrderId: order.clientOrderId,
      venueOrderId: order.venueOrderId,
      portfolioId: order.portfolioId,
      instrumentKey: order.instrumentKey,
      side: order.side,
      price: str(price),
      quantity: str(quantity),
      fee: str(quantity.mul(price).mul(feeRate).toDecimalPlaces(FEE_DECIMALS, Dec.ROUND_HALF_EVEN)),
      feeCurrency: market.quote,
      liquidity,
      time: this.clock.now(),
    };
    this.record(fill);
    return fill;
  }

  private record(fill: Fill): void {
    this.fills.push(fill);
    const ofOrder = this.fillsByOrder.get(fill.clientOrderId);
    if (ofOrder) ofOrder.push(fill);
    else this.fillsByOrder.set(fill.clientOrderId, [fill]);
  }

  /** Recomputes the order's filled quantity, average price and status from its fills. */
  private applyFills(order: VenueOrder): void {
    const { filled, averagePrice } = fillTotals(this.fillsByOrder.get(order.clientOrderId) ?? []);
    if (filled.isZero()) return;
    order.filledQuantity = str(filled);
    order.averagePrice = averagePrice;
    order.status = statusAfterFills(order, filled);
    order.updatedAt = this.clock.now();
  }
}
