/**
 * Live trading through ccxt: real orders under the client order id derived from the approval, the
 * venue's order and trade updates (its user-data stream) turned into executions, and reconciliation
 * with the venue on start, after every reconnect of that stream and periodically while orders work.
 *
 * Never a second order for one approval:
 * - Every order is journalled before the request leaves ("pending_new"), and the journal survives
 *   restarts; an id the journal knows is a duplicate without asking the venue.
 * - Before placing, the venue is asked for the client order id (Binance only refuses an id while the
 *   first order is open): an order it has is adopted and reported as already placed.
 * - A request whose outcome is unknown (timeout, dropped connection) stays pending; the retry looks
 *   the id up at the venue before it sends anything.
 * Never a fill lost or counted twice: fills are keyed by the venue's trade id; every source (the order
 * response, the stream, reconciliation) goes through one merge per order, and only new fills go out.
 */
import type { Order, Trade } from "ccxt";
import { sleep } from "../clock";
import type { ExchangeTuning } from "../config";
import { dec, str, type Dec } from "../decimal";
import { isRetryableVenueCode, VenueError } from "../errors";
import { CLIENT_ORDER_ID_PREFIX } from "../ids";
import { KeyedMutex } from "../keyed-mutex";
import { type Execution, type Fill, type MarketEventDraft, type OrderRequest, type VenueOrder, parseInstrumentKey } from "../../schemas";
import { checkMinNotional, checkOrderRequest, fillTotals, isTerminal, movesBack, onMarketGrid, refusalReason, statusAfterFills } from "./order-rules";
import type { TradingVenue, VenueJournal } from "./types";
import type { CcxtConnection } from "./ccxt-connection";
import { fillOf, mergeVenueOrder } from "./ccxt-convert";
import { isOutage } from "./ccxt-errors";
import type { FeedLogger } from "./ccxt-feed";

/** The live venue's journal: orders from before they are sent, fills by the venue's trade ids. */
export type LiveJournal = VenueJournal;

export interface UserStreamStatus {
  connected: boolean;
  lastMessageAt?: number;
  reconnects: number;
  lastError?: string;
}

export interface LiveVenueStatus {
  userStream: UserStreamStatus;
  workingOrders: number;
  lastReconciledAt?: number;
  lastReconcileError?: string;
  /** Open orders at the venue under our id prefix that the journal does not know (left alone, for a human). */
  unknownOpenOrders: string[];
}

/** Trades of orders not known yet (the stream can beat the order response) are kept this long. */
const ORPHAN_TTL_MS = 5 * 60_000;

export class CcxtVenue implements TradingVenue {
  private readonly orders = new Map<string, VenueOrder>();
  /** `symbol|venueOrderId` → client order id. */
  private readonly byVenueId = new Map<string, string>();
  private readonly fills = new Map<string, Fill[]>();
  private readonly fillIds = new Set<string>();
  private readonly orphans = new Map<string, { trades: Trade[]; at: number }>();
  private readonly locks = new KeyedMutex();
  private readonly listeners: Array<(execution: Execution) => void> = [];
  private readonly lastPrices = new Map<string, string>();
  private readonly stream: Omit<UserStreamStatus, "connected"> = { reconnects: 0 };
  private running = false;
  private reconcileTimer?: NodeJS.Timeout;
  private reconciling?: Promise<Execution[]>;
  private retryingReconcile = false;
  private lastReconciledAt?: number;
  private lastReconcileError?: string;
  private unknownOpenOrders: string[] = [];

  constructor(
    private readonly conn: CcxtConnection,
    private readonly journal: LiveJournal,
    private readonly tuning: ExchangeTuning,
    private readonly logger: FeedLogger,
  ) {}

  /**
   * Loads the journal, subscribes to the user-data stream, then reconciles with the venue once (a
   * venue that does not answer is reconciled again in the background).
   */
  async start(): Promise<void> {
    const { orders, fills } = await this.journal.load();
    for (const order of orders) this.remember(order);
    for (const fill of fills.sort((a, b) => a.time - b.time)) this.rememberFill(fill);
    this.running = true;
    // Subscribed first, reconciled second: what happens in between reaches us one way or the other.
    void this.followUserStream("orders");
    void this.followUserStream("trades");
    try {
      await this.reconcile("start");
    } catch (err) {
      this.logger.warn(`reconciliation on start failed (${(err as Error).message}); retrying in the background`);
      void this.reconcileUntilDone("start");
    }
    this.reconcileTimer = setInterval(() => {
      if (this.needsReconcile().length > 0 || this.lastReconcileError) void this.reconcile("periodic").catch(() => undefined);
    }, this.tuning.reconcileIntervalMs);
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.reconcileTimer) clearInterval(this.reconcileTimer);
    await this.reconciling?.catch(() => undefined);
  }

  onExecution(listener: (execution: Execution) => void): void {
    this.listeners.push(listener);
  }

  status(): LiveVenueStatus {
    return {
      userStream: { connected: this.userStreamOpen(), ...this.stream },
      workingOrders: [...this.orders.values()].filter((o) => !isTerminal(o)).length,
      ...(this.lastReconciledAt && { lastReconciledAt: this.lastReconciledAt }),
      ...(this.lastReconcileError && { lastReconcileError: this.lastReconcileError }),
      unknownOpenOrders: [...this.unknownOpenOrders],
    };
  }

  // ---- TradingVenue ----

  async place(request: OrderRequest): Promise<Execution> {
    const symbol = this.symbolOf(request.instrumentKey);
    const checked = await this.checked(request, symbol);
    return this.locks.run(request.clientOrderId, async () => {
      const known = this.orders.get(request.clientOrderId);
      if (known && known.status !== "pending_new") throw this.duplicate(request.clientOrderId);
      // The venue is the final guard: whatever it has under this id is the order (adopted, not repeated).
      const existing = await this.conn.rest((ex) => this.conn.profile.findOrder(ex, symbol, request.clientOrderId));
      if (existing) {
        await this.adopt(known ?? this.intentOf(request, checked), symbol, existing);
        throw this.duplicate(request.clientOrderId);
      }
      const intent = known ?? this.intentOf(request, checked);
      await this.save(intent);
      let placed: Order;
      try {
        placed = await this.conn.rest((ex) =>
          ex.createOrder(symbol, request.type, request.side === "BUY" ? "buy" : "sell", Number(checked.quantity), checked.price === undefined ? undefined : Number(checked.price), {
            clientOrderId: request.clientOrderId,
            ...(request.type === "limit" && { timeInForce: request.timeInForce ?? "GTC" }),
          }),
        );
      } catch (err) {
        return this.placeFailed(err, intent, symbol);
      }
      await this.apply(intent.clientOrderId, placed, placed.trades ?? [], placed.timestamp);
      return this.executionOf(intent.clientOrderId);
    });
  }

  async cancel(clientOrderId: string): Promise<VenueOrder> {
    const order = this.orderOf(clientOrderId);
    if (isTerminal(order)) return { ...order };
    const symbol = this.symbolOf(order.instrumentKey);
    return this.locks.run(clientOrderId, async () => {
      let change: Execution | undefined;
      try {
        const cancelled = await this.conn.rest((ex) =>
          ex.cancelOrder(order.venueOrderId, symbol, order.venueOrderId ? {} : { clientOrderId }),
        );
        // Our reason goes on before the merge, so the stream's later report of the cancel changes nothing.
        await this.save({ ...this.orderOf(clientOrderId), reason: "cancelled_by_client" });
        change = await this.apply(clientOrderId, { ...cancelled, status: cancelled.status ?? "canceled" }, []);
      } catch (err) {
        // Filled or gone in the meantime: the venue's current view is the answer.
        if (!(err instanceof VenueError && err.code === "order_not_found")) throw err;
        const current = await this.conn.rest((ex) => this.conn.profile.findOrder(ex, symbol, clientOrderId));
        if (current) change = await this.apply(clientOrderId, current, await this.tradesOf(symbol, String(current.id), order.createdAt));
      }
      // Whoever asked gets the order; the rest of the platform learns it as any other venue update.
      if (change) this.emit(change);
      return { ...this.orderOf(clientOrderId) };
    });
  }

  async order(clientOrderId: string): Promise<Execution> {
    return this.executionOf(clientOrderId);
  }

  async fillsSince(time: number): Promise<Fill[]> {
    return [...this.fills.values()].flat().filter((f) => f.time >= time).sort((a, b) => a.time - b.time).map((f) => ({ ...f }));
  }

  /** Working orders the venue has accepted (an order still only journalled is not open anywhere). */
  async openOrders(): Promise<VenueOrder[]> {
    return [...this.orders.values()].filter((o) => !isTerminal(o) && o.status !== "pending_new").map((o) => ({ ...o }));
  }

  /** The venue matches its own orders; market data only keeps the last prices for the minimum-value check. */
  async onMarket(events: MarketEventDraft[]): Promise<Execution[]> {
    for (const event of events) {
      if (event.kind === "trade") this.lastPrices.set(event.instrumentKey, event.price);
      else if (event.kind === "ticker") this.lastPrices.set(event.instrumentKey, event.last);
    }
    return [];
  }

  // ---- reconciliation ----

  /**
   * Brings the journal in line with the venue: for every order still working, or with fills
   * missing, the venue's order and its trades; the venue's open orders for those markets. What
   * changed is emitted as executions (and returned). Concurrent calls share one run.
   */
  reconcile(reason: string): Promise<Execution[]> {
    this.reconciling ??= this.reconcileOnce(reason).finally(() => {
      this.reconciling = undefined;
    });
    return this.reconciling;
  }

  /** Reconciles, retrying with backoff until the venue answers (one such loop at a time); false if stopped first. */
  private async reconcileUntilDone(reason: string): Promise<boolean> {
    if (this.retryingReconcile) return false;
    this.retryingReconcile = true;
    try {
      for (let attempt = 0; this.running; attempt++) {
        try {
          await this.reconcile(reason);
          return true;
        } catch (err) {
          if (attempt === 0) this.logger.warn(`reconciliation (${reason}) failed: ${(err as Error).message}; retrying`);
          await sleep(Math.min(this.tuning.reconnectBaseMs * 2 ** attempt, this.tuning.reconnectMaxMs));
        }
      }
    } finally {
      this.retryingReconcile = false;
    }
    return false;
  }

  private async reconcileOnce(reason: string): Promise<Execution[]> {
    const changes: Execution[] = [];
    try {
      await this.conn.loadMarkets();
      const pending = this.needsReconcile();
      const unknown: string[] = [];
      for (const symbol of new Set(pending.map((o) => this.symbolOf(o.instrumentKey)))) {
        const open = await this.conn.rest((ex) => ex.fetchOpenOrders(symbol));
        for (const venueOrder of open) {
          const id = venueOrder.clientOrderId;
          if (id?.startsWith(CLIENT_ORDER_ID_PREFIX) && !this.orders.has(id)) unknown.push(`${symbol} ${id}`);
        }
        for (const order of pending.filter((o) => this.symbolOf(o.instrumentKey) === symbol)) {
          const venueOrder =
            open.find((o) => o.clientOrderId === order.clientOrderId) ??
            (await this.conn.rest((ex) => this.conn.profile.findOrder(ex, symbol, order.clientOrderId)));
          // An order only journalled, not at the venue: its placement is retried by execution, not here.
          if (!venueOrder) continue;
          const trades = await this.tradesOf(symbol, String(venueOrder.id), order.createdAt);
          const change = await this.locks.run(order.clientOrderId, () => this.apply(order.clientOrderId, venueOrder, trades));
          if (change) changes.push(change);
        }
      }
      this.unknownOpenOrders = unknown;
      if (unknown.length > 0) this.logger.warn(`open orders at ${this.conn.id} with our id prefix but not in the journal: ${unknown.join(", ")}`);
      this.lastReconciledAt = this.conn.clock.now();
      this.lastReconcileError = undefined;
    } catch (err) {
      this.lastReconcileError = (err as Error).message;
      throw err;
    } finally {
      for (const change of changes) this.emit(change);
    }
    const fills = changes.reduce((n, c) => n + c.fills.length, 0);
    if (changes.length > 0) this.logger.info(`reconciled with ${this.conn.id} (${reason}): ${changes.length} order update(s), ${fills} new fill(s)`);
    return changes;
  }

  /** Orders whose venue state we may not have in full: still working, or with fills missing. */
  private needsReconcile(): VenueOrder[] {
    return [...this.orders.values()].filter((o) => !isTerminal(o) || this.filledByFills(o.clientOrderId).lt(o.filledQuantity));
  }

  private async tradesOf(symbol: string, venueOrderId: string, since: number): Promise<Trade[]> {
    return this.conn.rest((ex) => this.conn.profile.tradesOfOrder(ex, symbol, venueOrderId, since - 60_000));
  }

  // ---- the user-data stream ----

  /** Order updates or trades from the venue's user-data stream, reconnecting with backoff; each reconnect reconciles. */
  private async followUserStream(kind: "orders" | "trades"): Promise<void> {
    const ex = this.conn.exchange;
    let attempt = 0;
    let reconnecting = false;
    while (this.running) {
      try {
        await this.conn.loadMarkets();
        const next = kind === "orders" ? ex.watchOrders() : ex.watchMyTrades();
        if (reconnecting && kind === "orders") {
          // Subscribed again: what happened while the stream was down comes from REST.
          reconnecting = false;
          void this.reconcileUntilDone("user stream reconnected").then((done) => done && this.stream.reconnects++);
        }
        const updates = await next;
        if (!this.running) return;
        this.stream.lastMessageAt = this.conn.clock.now();
        attempt = 0;
        this.conn.breaker.success();
        if (kind === "orders") await this.onOrderUpdates(updates as Order[]);
        else await this.onTrades(updates as Trade[]);
      } catch (err) {
        if (!this.running) return;
        const message = this.conn.redact(String((err as Error)?.message ?? err));
        if (this.stream.lastError !== message) this.logger.warn(`user-data stream (${kind}) down: ${message}`);
        this.stream.lastError = message.slice(0, 300);
        if (isOutage(err)) this.conn.breaker.failure(message);
        reconnecting = true;
        await sleep(Math.min(this.tuning.reconnectBaseMs * 2 ** attempt, this.tuning.reconnectMaxMs) * (0.8 + 0.4 * Math.random()));
        attempt++;
      }
    }
  }

  /** Whether ccxt's user-data connection is open (the venue sends nothing while the account is idle). */
  private userStreamOpen(): boolean {
    const url = this.conn.profile.userStreamUrl(this.conn.exchange);
    const client = url ? (this.conn.exchange.clients as Record<string, { isOpen?(): boolean } | undefined>)[url] : undefined;
    return client?.isOpen?.() ?? false;
  }

  private async onOrderUpdates(updates: Order[]): Promise<void> {
    for (const update of updates) {
      const id = update.clientOrderId;
      if (!id || !this.orders.has(id)) continue; // not one of ours (manual trading on the same account)
      const change = await this.locks.run(id, () => this.apply(id, update, []));
      if (change) this.emit(change);
    }
  }

  private async onTrades(trades: Trade[]): Promise<void> {
    this.dropStaleOrphans();
    for (const trade of trades) {
      const key = `${trade.symbol}|${trade.order}`;
      const id = this.byVenueId.get(key);
      if (!id) {
        // The stream can beat the order response: keep the trade until the order id is known.
        const orphan = this.orphans.get(key) ?? { trades: [], at: this.conn.clock.now() };
        orphan.trades.push(trade);
        this.orphans.set(key, orphan);
        continue;
      }
      const change = await this.locks.run(id, () => this.apply(id, undefined, [trade]));
      if (change) this.emit(change);
    }
  }

  private dropStaleOrphans(): void {
    const cutoff = this.conn.clock.now() - ORPHAN_TTL_MS;
    for (const [key, orphan] of this.orphans) if (orphan.at < cutoff) this.orphans.delete(key);
  }

  // ---- the journal ----

  /**
   * Merges the venue's view (an order, trades) into our order, journals what is new and returns the
   * change: the order and its new fills, or undefined when nothing changed. State only moves forward.
   * Callers hold the order's lock.
   */
  private async apply(clientOrderId: string, venueOrder: Order | undefined, trades: Trade[], fallbackTime?: number): Promise<Execution | undefined> {
    const current = this.orderOf(clientOrderId);
    const symbol = this.symbolOf(current.instrumentKey);
    let next: VenueOrder = venueOrder ? mergeVenueOrder(current, venueOrder, this.conn.clock.now()) : { ...current };
    if (movesBack(current, next)) next = { ...next, status: current.status, reason: current.reason };
    if (dec(next.filledQuantity).lt(current.filledQuantity)) next.filledQuantity = current.filledQuantity;
    if (next.venueOrderId) {
      this.byVenueId.set(`${symbol}|${next.venueOrderId}`, clientOrderId);
      const orphan = this.orphans.get(`${symbol}|${next.venueOrderId}`);
      if (orphan) {
        this.orphans.delete(`${symbol}|${next.venueOrderId}`);
        trades = [...trades, ...orphan.trades];
      }
    }
    const newFills: Fill[] = [];
    const quote = (await this.conn.market(symbol)).quote;
    for (const trade of trades) {
      if (trade.order !== undefined && next.venueOrderId && String(trade.order) !== next.venueOrderId) continue;
      const fill = fillOf(this.conn.id, this.conn.marketId(symbol), next, { ...trade, timestamp: trade.timestamp ?? fallbackTime ?? next.updatedAt }, quote);
      if (!fill || this.fillIds.has(fill.fillId)) continue;
      if (await this.journal.saveFill(fill)) newFills.push(fill);
      this.rememberFill(fill);
      if (fill.feeCurrency !== quote && fill.feeCurrency !== symbol.split("/")[0]) {
        this.logger.warn(`fill ${fill.fillId} paid its fee in ${fill.feeCurrency}: the books only value fees in ${symbol}'s currencies (turn off paying fees with another asset)`);
      }
    }
    // The fills are the proof of what executed: the order shows at least their total.
    const byFills = fillTotals(this.fills.get(clientOrderId) ?? []);
    if (byFills.filled.gt(next.filledQuantity)) next.filledQuantity = str(byFills.filled);
    next.status = statusAfterFills(next, dec(next.filledQuantity));
    if (byFills.averagePrice && byFills.filled.gte(next.filledQuantity)) next.averagePrice = byFills.averagePrice;
    const changed =
      newFills.length > 0 ||
      next.status !== current.status ||
      next.filledQuantity !== current.filledQuantity ||
      next.venueOrderId !== current.venueOrderId ||
      next.averagePrice !== current.averagePrice;
    if (!changed) return undefined;
    next.updatedAt = Math.max(next.updatedAt, current.updatedAt);
    await this.save(next);
    return { order: { ...next }, fills: newFills.map((f) => ({ ...f })) };
  }

  /** Records an order found at the venue under our client order id (placed before the journal knew it). */
  private async adopt(ours: VenueOrder, symbol: string, venueOrder: Order): Promise<void> {
    if (!this.orders.has(ours.clientOrderId)) await this.save(ours);
    const trades = await this.tradesOf(symbol, String(venueOrder.id), venueOrder.timestamp ?? ours.createdAt);
    const change = await this.apply(ours.clientOrderId, venueOrder, trades);
    if (change) this.emit(change);
    this.logger.info(`order ${ours.clientOrderId} was already at ${this.conn.id} (venue id ${venueOrder.id}): reported as placed, not sent again`);
  }

  private async placeFailed(err: unknown, intent: VenueOrder, symbol: string): Promise<Execution> {
    const refusal = err instanceof VenueError ? err : undefined;
    if (refusal?.code === "duplicate_client_order_id" || refusal?.code === "venue_unavailable") {
      // Already there, or the request may have reached the venue before the connection failed: look.
      const existing = await this.conn.rest((ex) => this.conn.profile.findOrder(ex, symbol, intent.clientOrderId)).catch(() => undefined);
      if (existing) {
        await this.apply(intent.clientOrderId, existing, await this.tradesOf(symbol, String(existing.id), intent.createdAt).catch(() => []));
        if (refusal.code === "duplicate_client_order_id") throw this.duplicate(intent.clientOrderId);
        return this.executionOf(intent.clientOrderId);
      }
    }
    // Outcome unknown or retryable: the intent stays pending and the retry looks the id up first.
    if (!refusal || isRetryableVenueCode(refusal.code)) throw err;
    await this.save({ ...intent, status: "rejected", reason: refusalReason(refusal.code, refusal.message), updatedAt: this.conn.clock.now() });
    throw refusal;
  }

  /** The order as journalled, with all its fills. */
  private executionOf(clientOrderId: string): Execution {
    return { order: { ...this.orderOf(clientOrderId) }, fills: (this.fills.get(clientOrderId) ?? []).map((f) => ({ ...f })) };
  }

  private async save(order: VenueOrder): Promise<void> {
    await this.journal.saveOrder(order);
    this.remember(order);
  }

  private remember(order: VenueOrder): void {
    this.orders.set(order.clientOrderId, { ...order });
    if (order.venueOrderId) this.byVenueId.set(`${parseInstrumentKey(order.instrumentKey).symbol}|${order.venueOrderId}`, order.clientOrderId);
  }

  private rememberFill(fill: Fill): void {
    if (this.fillIds.has(fill.fillId)) return;
    this.fillIds.add(fill.fillId);
    const list = this.fills.get(fill.clientOrderId);
    if (list) list.push(fill);
    else this.fills.set(fill.clientOrderId, [fill]);
  }

  private filledByFills(clientOrderId: string): Dec {
    return fillTotals(this.fills.get(clientOrderId) ?? []).filled;
  }

  private emit(execution: Execution): void {
    for (const listener of this.listeners) listener(execution);
  }

  // ---- requests ----

  private symbolOf(instrumentKey: string): string {
    const { exchange, symbol } = parseInstrumentKey(instrumentKey);
    if (exchange !== this.conn.id) throw new VenueError("unknown_exchange", `exchange ${exchange} is not configured: live trading is on ${this.conn.id}`);
    return symbol;
  }

  private orderOf(clientOrderId: string): VenueOrder {
    const order = this.orders.get(clientOrderId);
    if (!order) throw new VenueError("order_not_found", `no order with client order id ${clientOrderId}`);
    return order;
  }

  private duplicate(clientOrderId: string): VenueError {
    return new VenueError("duplicate_client_order_id", `client order id ${clientOrderId} was already used`);
  }

  /**
   * The request on the market's grid: quantity down to the lot, a limit price to the tick in the
   * trader's favour; refused before sending when below the market's minimum quantity or value.
   */
  private async checked(request: OrderRequest, symbol: string): Promise<{ quantity: string; price?: string }> {
    checkOrderRequest(request);
    const market = await this.conn.market(symbol);
    const { quantity, limit } = onMarketGrid(request, market);
    // A market order is valued at the last price seen; before any, the venue itself judges its value.
    const lastPrice = this.lastPrices.get(request.instrumentKey);
    const reference = limit ?? (lastPrice === undefined ? undefined : dec(lastPrice));
    if (reference) checkMinNotional(quantity, reference, market);
    return { quantity: str(quantity), ...(limit && { price: str(limit) }) };
  }

  private intentOf(request: OrderRequest, checked: { quantity: string; price?: string }): VenueOrder {
    const now = this.conn.clock.now();
    return {
      clientOrderId: request.clientOrderId,
      venueOrderId: "",
      portfolioId: request.portfolioId,
      instrumentKey: request.instrumentKey,
      side: request.side,
      type: request.type,
      quantity: checked.quantity,
      ...(checked.price && { price: checked.price }),
      filledQuantity: "0",
      status: "pending_new",
      createdAt: now,
      updatedAt: now,
    };
  }
}
