/**
 * A local stand-in for the part of Binance's spot API that ccxt's `binance` class uses, so the live
 * adapter runs ccxt's real code against it and no test reaches the internet.
 *
 * REST under /api/v3: exchangeInfo, klines, depth, ticker/24hr, trades, aggTrades, time, and the
 * signed order (POST/GET/DELETE), openOrders, myTrades and account, checked against the API key and
 * the HMAC-SHA256 signature as Binance checks them. WebSocket: market streams on /ws/<n> (SUBSCRIBE to
 * <symbol>@trade, @ticker, @kline_1m, @depth@100ms) and the WebSocket API on /ws-api/v3, whose
 * `userDataStream.subscribe.signature` is how ccxt follows a spot account's executionReports (ccxt
 * no longer uses REST listen keys for spot).
 *
 * The market runs on a virtual clock, `speed` times faster than real time (60: a 1-minute kline
 * closes every second): a random walk with a settable trend, one trade per step, a 20-level book.
 * Market orders walk the book; limit orders fill their marketable part and rest; resting orders fill
 * only when the test says so (`fillResting`). Tests can inject error answers (`failNext`), drop the
 * streams (`dropStreams`) and take the whole server down and up again (`goOffline` / `goOnline`).
 */
import crypto from "node:crypto";
import { Random } from "../../lib/market/random";
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { WebSocket, WebSocketServer } from "ws";
import { Dec, dec, roundToStep } from "../../lib/decimal";

export interface FakeMarket {
  symbol: string;
  base: string;
  quote: string;
  tickSize: string;
  stepSize: string;
  minQty: string;
  minNotional: string;
  price: string;
}

export interface FakeBinanceOptions {
  apiKey?: string;
  secret?: string;
  markets?: FakeMarket[];
  /** Virtual milliseconds per real millisecond. */
  speed?: number;
  /** Real milliseconds between two market steps. */
  tickMs?: number;
  /** Closed 1-minute klines of history before the start. */
  historyMinutes?: number;
  /** Trend of the last `trendMinutes` of history, in basis points per minute (negative: falling). */
  historyTrendBps?: number;
  trendMinutes?: number;
  /** Trend of the live market, in basis points per minute. */
  liveTrendBps?: number;
  balances?: Record<string, string>;
  seed?: number;
}

export const BTCUSDT: FakeMarket = { symbol: "BTCUSDT", base: "BTC", quote: "USDT", tickSize: "0.01", stepSize: "0.00001", minQty: "0.00001", minNotional: "5", price: "60000" };
export const ETHUSDT: FakeMarket = { symbol: "ETHUSDT", base: "ETH", quote: "USDT", tickSize: "0.01", stepSize: "0.0001", minQty: "0.0001", minNotional: "5", price: "3000" };
export const BTCUSDC: FakeMarket = { symbol: "BTCUSDC", base: "BTC", quote: "USDC", tickSize: "0.01", stepSize: "0.00001", minQty: "0.00001", minNotional: "5", price: "60010" };

const MINUTE = 60_000;
const BOOK_LEVELS = 20;
const FEE_RATE = new Dec("0.001");

type Kline = { t: number; o: Dec; h: Dec; l: Dec; c: Dec; v: Dec; q: Dec; n: number; f: number; L: number };
type Level = [price: Dec, quantity: Dec];

export interface FakeOrder {
  symbol: string;
  orderId: number;
  clientOrderId: string;
  side: "BUY" | "SELL";
  type: "MARKET" | "LIMIT";
  timeInForce: string;
  price: Dec;
  origQty: Dec;
  executedQty: Dec;
  quoteQty: Dec;
  status: "NEW" | "PARTIALLY_FILLED" | "FILLED" | "CANCELED" | "EXPIRED";
  time: number;
  updateTime: number;
}

export interface FakeTrade {
  symbol: string;
  id: number;
  orderId: number;
  price: Dec;
  qty: Dec;
  commission: Dec;
  commissionAsset: string;
  time: number;
  isBuyer: boolean;
  isMaker: boolean;
}

interface MarketState {
  def: FakeMarket;
  price: Dec;
  trendBps: number;
  klines: Kline[];
  current: Kline;
  bids: Level[];
  asks: Level[];
  updateId: number;
  tradeId: number;
  publicTrades: Array<{ id: number; price: Dec; qty: Dec; time: number; buyerMaker: boolean }>;
}

interface Injection {
  method?: string;
  path: string;
  status: number;
  body: unknown;
  times: number;
  /** The request is carried out first and only its answer replaced: a response lost on the way back. */
  handled: boolean;
}


const fixed = (d: Dec) => d.toFixed(8);

export class FakeBinance {
  readonly apiKey: string;
  private readonly secret: string;
  private readonly speed: number;
  private readonly random: () => number;
  private readonly markets = new Map<string, MarketState>();
  private readonly balances = new Map<string, { free: Dec; locked: Dec }>();
  readonly orders: FakeOrder[] = [];
  readonly trades: FakeTrade[] = [];
  /** Every HTTP request: method and path (no query). */
  readonly requests: Array<{ method: string; path: string; params: Record<string, string> }> = [];
  private readonly injections: Injection[] = [];
  private readonly wallStart = Date.now();
  private readonly virtualStart: number;
  private orderSeq = 1000;
  private server!: http.Server;
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly streamSubscriptions = new Map<WebSocket, Set<string>>();
  private readonly userSubscriptions = new Map<WebSocket, number>();
  private readonly sockets = new Set<Duplex>();
  private timer?: NodeJS.Timeout;
  private subscriptionSeq = 0;
  port = 0;

  private constructor(private readonly options: FakeBinanceOptions) {
    this.apiKey = options.apiKey ?? "fake-api-key";
    this.secret = options.secret ?? "fake-secret";
    this.speed = options.speed ?? 60;
    const random = new Random(options.seed ?? 7);
    this.random = () => random.next();
    this.virtualStart = Math.floor(Date.now() / MINUTE) * MINUTE + 30_000;
    for (const [asset, amount] of Object.entries(options.balances ?? { USDT: "10000", BTC: "0", ETH: "0" })) {
      this.balances.set(asset, { free: dec(amount), locked: new Dec(0) });
    }
    for (const def of options.markets ?? [BTCUSDT, ETHUSDT]) this.markets.set(def.symbol, this.createMarket(def));
  }

  static async start(options: FakeBinanceOptions = {}): Promise<FakeBinance> {
    const fake = new FakeBinance(options);
    await fake.listen(0);
    fake.timer = setInterval(() => fake.step(), options.tickMs ?? 50);
    return fake;
  }

  // ---- controls ----

  /** ccxt's `urls.api` overrides that point the binance class here. */
  ccxtUrls(): Record<string, unknown> {
    const http = `http://127.0.0.1:${this.port}`;
    const ws = `ws://127.0.0.1:${this.port}`;
    return { public: `${http}/api/v3`, private: `${http}/api/v3`, v1: `${http}/api/v1`, ws: { spot: `${ws}/ws`, "ws-api": { spot: `${ws}/ws-api/v3` } } };
  }

  /** The exchange's clock. */
  now(): number {
    return this.virtualStart + (Date.now() - this.wallStart) * this.speed;
  }

  setTrend(symbol: string, bpsPerMinute: number): void {
    this.market(symbol).trendBps = bpsPerMinute;
  }

  lastPrice(symbol: string): Dec {
    return this.market(symbol).price;
  }

  balance(asset: string): { free: Dec; locked: Dec } {
    return this.balances.get(asset) ?? { free: new Dec(0), locked: new Dec(0) };
  }

  /**
   * The next `times` requests matching answer `status` with `body` instead; with `handled`, the
   * request takes effect first (the exchange did it, the answer got lost).
   */
  failNext(match: { method?: string; path: string }, answer: { status: number; body: unknown }, times = 1, options: { handled?: boolean } = {}): void {
    this.injections.push({ ...match, ...answer, times, handled: options.handled ?? false });
  }

  /** Closes every WebSocket connection (market streams and user data), as a network blip does. */
  dropStreams(): void {
    for (const ws of this.wss.clients) ws.terminate();
  }

  /** Stops answering: connections are refused until `goOnline`. The market keeps running. */
  async goOffline(): Promise<void> {
    this.dropStreams();
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  async goOnline(): Promise<void> {
    await this.listen(this.port);
  }

  /** Fills a resting limit order at its price (as maker), in full or `quantity` of it. */
  fillResting(clientOrderId: string, quantity?: string): FakeTrade {
    const order = [...this.orders].reverse().find((o) => o.clientOrderId === clientOrderId && (o.status === "NEW" || o.status === "PARTIALLY_FILLED"));
    if (!order) throw new Error(`no resting order ${clientOrderId}`);
    const remaining = order.origQty.sub(order.executedQty);
    const qty = quantity ? Dec.min(dec(quantity), remaining) : remaining;
    const trade = this.execute(order, order.price, qty, true);
    this.report(order, "TRADE", trade);
    return trade;
  }

  /** The market streams some connection is subscribed to. */
  subscribedStreams(): string[] {
    return [...new Set([...this.streamSubscriptions.values()].flatMap((streams) => [...streams]))].sort();
  }

  ordersWithClientId(clientOrderId: string): FakeOrder[] {
    return this.orders.filter((o) => o.clientOrderId === clientOrderId);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    for (const ws of this.wss.clients) ws.terminate();
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => (this.server.listening ? this.server.close(() => resolve()) : resolve()));
    this.wss.close();
  }

  // ---- the market ----

  private market(symbol: string): MarketState {
    const state = this.markets.get(symbol);
    if (!state) throw new Error(`no market ${symbol}`);
    return state;
  }

  private createMarket(def: FakeMarket): MarketState {
    const minutes = this.options.historyMinutes ?? 400;
    const trendMinutes = this.options.trendMinutes ?? 0;
    const firstOpen = Math.floor(this.virtualStart / MINUTE) * MINUTE - minutes * MINUTE;
    // Closes generated backwards from today's price, so the history ends where the live market starts.
    const closes: Dec[] = [dec(def.price)];
    for (let i = minutes - 1; i > 0; i--) {
      const trend = minutes - i <= trendMinutes ? (this.options.historyTrendBps ?? 0) / 10_000 : 0;
      const noise = (this.random() - 0.5) * 0.002;
      closes.unshift(roundToStep(closes[0]!.div(1 + trend + noise), def.tickSize, "nearest"));
    }
    const klines: Kline[] = closes.map((close, i) => {
      const open = i === 0 ? close : closes[i - 1]!;
      const spread = close.mul(0.0005);
      return {
        t: firstOpen + i * MINUTE,
        o: open,
        h: roundToStep(Dec.max(open, close).add(spread), def.tickSize, "up"),
        l: roundToStep(Dec.min(open, close).sub(spread), def.tickSize, "down"),
        c: close,
        v: new Dec("1.5"),
        q: close.mul("1.5"),
        n: 10,
        f: 0,
        L: 0,
      };
    });
    const price = dec(def.price);
    const state: MarketState = {
      def,
      price,
      trendBps: this.options.liveTrendBps ?? 0,
      klines,
      current: this.newKline(Math.floor(this.virtualStart / MINUTE) * MINUTE, price, 0),
      bids: [],
      asks: [],
      updateId: 1_000_000,
      tradeId: 5_000_000,
      publicTrades: [],
    };
    this.rebuildBook(state);
    return state;
  }

  private newKline(t: number, price: Dec, tradeId: number): Kline {
    return { t, o: price, h: price, l: price, c: price, v: new Dec(0), q: new Dec(0), n: 0, f: tradeId, L: tradeId };
  }

  /**
   * 20 levels a side around the price, each worth 500 quote units more than the one before, so an
   * order of a few thousand fills at several prices. Returns the change as a depth update's levels.
   */
  private rebuildBook(state: MarketState): { bids: string[][]; asks: string[][] } {
    const tick = dec(state.def.tickSize);
    const gap = state.price.mul("0.0001");
    const size = (i: number) => roundToStep(new Dec(500 * (i + 1)).div(state.price), state.def.stepSize, "down").add(state.def.stepSize);
    const bid0 = roundToStep(state.price.sub(tick), tick, "down");
    const ask0 = roundToStep(state.price.add(tick), tick, "up");
    const bids: Level[] = Array.from({ length: BOOK_LEVELS }, (_, i) => [roundToStep(bid0.sub(gap.mul(i)), tick, "down"), size(i)]);
    const asks: Level[] = Array.from({ length: BOOK_LEVELS }, (_, i) => [roundToStep(ask0.add(gap.mul(i)), tick, "up"), size(i)]);
    const diff = (before: Level[], after: Level[]): string[][] => {
      const kept = new Set(after.map(([p]) => p.toString()));
      return [...after.map(([p, q]) => [fixed(p), fixed(q)]), ...before.filter(([p]) => !kept.has(p.toString())).map(([p]) => [fixed(p), "0.00000000"])];
    };
    const changes = { bids: diff(state.bids, bids), asks: diff(state.asks, asks) };
    state.bids = bids;
    state.asks = asks;
    return changes;
  }

  /** One market step: the price moves, a trade prints, the kline, book and ticker follow. */
  private step(): void {
    const time = this.now();
    for (const state of this.markets.values()) {
      const minute = Math.floor(time / MINUTE) * MINUTE;
      if (minute > state.current.t) {
        // The minute ended: its final kline goes out (x = true), flat minutes in between too.
        this.closeKline(state, time);
        for (let t = state.current.t + MINUTE; t < minute; t += MINUTE) {
          state.current = this.newKline(t, state.price, state.tradeId);
          this.closeKline(state, time);
        }
        state.current = this.newKline(minute, state.price, state.tradeId);
      }
      const stepMinutes = ((this.options.tickMs ?? 50) * this.speed) / MINUTE;
      const move = (state.trendBps / 10_000) * stepMinutes + (this.random() - 0.5) * 0.0004;
      state.price = roundToStep(state.price.mul(1 + move), state.def.tickSize, "nearest");
      const qty = roundToStep(new Dec(0.001 + this.random() * 0.01), state.def.stepSize, "down").add(state.def.stepSize);
      const buyerMaker = this.random() < 0.5;
      this.printTrade(state, state.price, qty, buyerMaker, time);
      const changes = this.rebuildBook(state);
      const U = state.updateId + 1;
      state.updateId += 1;
      this.broadcast(`${state.def.symbol.toLowerCase()}@depth@100ms`, { e: "depthUpdate", E: time, s: state.def.symbol, U, u: state.updateId, b: changes.bids, a: changes.asks });
      this.broadcast(`${state.def.symbol.toLowerCase()}@ticker`, { e: "24hrTicker", E: time, s: state.def.symbol, ...this.tickerFields(state, time, true) });
    }
  }

  private printTrade(state: MarketState, price: Dec, qty: Dec, buyerMaker: boolean, time: number): void {
    const id = ++state.tradeId;
    state.publicTrades.push({ id, price, qty, time, buyerMaker });
    if (state.publicTrades.length > 1000) state.publicTrades.shift();
    const k = state.current;
    if (k.n === 0) k.f = id;
    k.h = Dec.max(k.h, price);
    k.l = Dec.min(k.l, price);
    k.c = price;
    k.v = k.v.add(qty);
    k.q = k.q.add(qty.mul(price));
    k.n += 1;
    k.L = id;
    const symbol = state.def.symbol;
    this.broadcast(`${symbol.toLowerCase()}@trade`, { e: "trade", E: time, s: symbol, t: id, p: fixed(price), q: fixed(qty), T: time, m: buyerMaker, M: true });
    this.broadcast(`${symbol.toLowerCase()}@kline_1m`, this.klineMessage(state, k, false, time));
  }

  private closeKline(state: MarketState, time: number): void {
    state.klines.push(state.current);
    this.broadcast(`${state.def.symbol.toLowerCase()}@kline_1m`, this.klineMessage(state, state.current, true, time));
  }

  private klineMessage(state: MarketState, k: Kline, closed: boolean, time: number) {
    return {
      e: "kline",
      E: time,
      s: state.def.symbol,
      k: { t: k.t, T: k.t + MINUTE - 1, s: state.def.symbol, i: "1m", f: k.f, L: k.L, o: fixed(k.o), c: fixed(k.c), h: fixed(k.h), l: fixed(k.l), v: fixed(k.v), n: k.n, x: closed, q: fixed(k.q), V: "0", Q: "0", B: "0" },
    };
  }

  private tickerFields(state: MarketState, time: number, stream: boolean) {
    const open = state.klines.at(-1440)?.o ?? state.klines[0]!.o;
    const [bid, bidQty] = state.bids[0]!;
    const [ask, askQty] = state.asks[0]!;
    if (stream) {
      return { p: fixed(state.price.sub(open)), P: "0.000", w: fixed(state.price), x: fixed(open), c: fixed(state.price), Q: "0.01000000", b: fixed(bid), B: fixed(bidQty), a: fixed(ask), A: fixed(askQty), o: fixed(open), h: fixed(state.price), l: fixed(state.price), v: "100.00000000", q: "1000.00000000", O: time - 86_400_000, C: time, F: 1, L: state.tradeId, n: 1000 };
    }
    return {
      symbol: state.def.symbol, priceChange: fixed(state.price.sub(open)), priceChangePercent: "0.000", weightedAvgPrice: fixed(state.price), prevClosePrice: fixed(open),
      lastPrice: fixed(state.price), lastQty: "0.01000000", bidPrice: fixed(bid), bidQty: fixed(bidQty), askPrice: fixed(ask), askQty: fixed(askQty),
      openPrice: fixed(open), highPrice: fixed(state.price), lowPrice: fixed(state.price), volume: "100.00000000", quoteVolume: "1000.00000000",
      openTime: time - 86_400_000, closeTime: time, firstId: 1, lastId: state.tradeId, count: 1000,
    };
  }

  // ---- HTTP ----

  private listen(port: number): Promise<void> {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    this.server.on("connection", (socket) => {
      this.sockets.add(socket);
      socket.on("close", () => this.sockets.delete(socket));
    });
    this.server.on("upgrade", (req, socket, head) => {
      this.wss.handleUpgrade(req, socket, head, (ws) => this.onSocket(ws, req.url ?? ""));
    });
    return new Promise((resolve) => this.server.listen(port, "127.0.0.1", () => {
      this.port = (this.server.address() as AddressInfo).port;
      resolve();
    }));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://localhost");
    const body = await new Promise<string>((resolve) => {
      let data = "";
      req.on("data", (chunk) => (data += chunk));
      req.on("end", () => resolve(data));
    });
    const query = req.method === "POST" ? body : url.search.slice(1);
    const params = Object.fromEntries(new URLSearchParams(query));
    const method = req.method ?? "GET";
    const path = url.pathname;
    this.requests.push({ method, path, params });
    const send = (status: number, payload: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(payload));
    };
    const injection = this.injections.find((i) => i.path === path && (!i.method || i.method === method) && i.times > 0);
    if (injection) {
      injection.times--;
      if (injection.handled) this.route(method, path, params, query, req.headers["x-mbx-apikey"] as string | undefined);
      return send(injection.status, injection.body);
    }
    try {
      const [status, payload] = this.route(method, path, params, query, req.headers["x-mbx-apikey"] as string | undefined);
      send(status, payload);
    } catch (err) {
      send(500, { code: -1000, msg: (err as Error).message });
    }
  }

  private route(method: string, path: string, params: Record<string, string>, query: string, apiKey?: string): [number, unknown] {
    const signed = ["/api/v3/order", "/api/v3/openOrders", "/api/v3/myTrades", "/api/v3/account"];
    if (signed.includes(path)) {
      const refusal = this.checkSignature(query, apiKey);
      if (refusal) return refusal;
    }
    const symbolState = () => {
      const state = this.markets.get(params.symbol ?? "");
      if (!state) throw new BinanceError(400, -1121, "Invalid symbol.");
      return state;
    };
    try {
      switch (`${method} ${path}`) {
        case "GET /api/v3/ping":
          return [200, {}];
        case "GET /api/v3/time":
          return [200, { serverTime: this.now() }];
        case "GET /api/v3/exchangeInfo":
          return [200, this.exchangeInfo()];
        case "GET /api/v3/klines":
          return [200, this.klines(symbolState(), params)];
        case "GET /api/v3/depth": {
          const state = symbolState();
          const limit = Number(params.limit ?? 100);
          return [200, { lastUpdateId: state.updateId, bids: state.bids.slice(0, limit).map(([p, q]) => [fixed(p), fixed(q)]), asks: state.asks.slice(0, limit).map(([p, q]) => [fixed(p), fixed(q)]) }];
        }
        case "GET /api/v3/ticker/24hr":
          return [200, this.tickerFields(symbolState(), this.now(), false)];
        case "GET /api/v3/trades":
          return [200, symbolState().publicTrades.slice(-Number(params.limit ?? 500)).map((t) => ({ id: t.id, price: fixed(t.price), qty: fixed(t.qty), quoteQty: fixed(t.price.mul(t.qty)), time: t.time, isBuyerMaker: t.buyerMaker, isBestMatch: true }))];
        case "GET /api/v3/aggTrades":
          return [200, symbolState().publicTrades.slice(-Number(params.limit ?? 500)).map((t) => ({ a: t.id, p: fixed(t.price), q: fixed(t.qty), f: t.id, l: t.id, T: t.time, m: t.buyerMaker, M: true }))];
        case "POST /api/v3/order":
          return [200, this.placeOrder(symbolState(), params)];
        case "GET /api/v3/order":
          return [200, this.orderView(this.findOrder(symbolState(), params))];
        case "DELETE /api/v3/order":
          return [200, this.cancelOrder(symbolState(), params)];
        case "GET /api/v3/openOrders":
          return [200, this.orders.filter((o) => o.symbol === params.symbol && (o.status === "NEW" || o.status === "PARTIALLY_FILLED")).map((o) => this.orderView(o))];
        case "GET /api/v3/myTrades":
          return [200, this.myTrades(symbolState(), params)];
        case "GET /api/v3/account":
          return [200, { makerCommission: 10, takerCommission: 10, canTrade: true, accountType: "SPOT", updateTime: this.now(), balances: [...this.balances].map(([asset, b]) => ({ asset, free: fixed(b.free), locked: fixed(b.locked) })), permissions: ["SPOT"] }];
        default:
          return [404, { code: -1100, msg: `no route ${method} ${path}` }];
      }
    } catch (err) {
      if (err instanceof BinanceError) return [err.status, { code: err.code, msg: err.message }];
      throw err;
    }
  }

  /** Binance's HMAC scheme: the signature is HMAC-SHA256 of the query string (the body for POST) before `&signature=`. */
  private checkSignature(query: string, apiKey?: string): [number, unknown] | undefined {
    if (apiKey !== this.apiKey) return [401, { code: -2015, msg: "Invalid API-key, IP, or permissions for action." }];
    const at = query.lastIndexOf("&signature=");
    if (at < 0) return [400, { code: -1102, msg: "Mandatory parameter 'signature' was not sent, was empty/null, or malformed." }];
    const expected = crypto.createHmac("sha256", this.secret).update(query.slice(0, at)).digest("hex");
    if (query.slice(at + "&signature=".length) !== expected) return [400, { code: -1022, msg: "Signature for this request is not valid." }];
    return undefined;
  }

  private exchangeInfo() {
    return {
      timezone: "UTC",
      serverTime: this.now(),
      rateLimits: [],
      exchangeFilters: [],
      symbols: [...this.markets.values()].map(({ def }) => ({
        symbol: def.symbol,
        status: "TRADING",
        baseAsset: def.base,
        baseAssetPrecision: 8,
        quoteAsset: def.quote,
        quotePrecision: 8,
        quoteAssetPrecision: 8,
        baseCommissionPrecision: 8,
        quoteCommissionPrecision: 8,
        orderTypes: ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"],
        icebergAllowed: true,
        ocoAllowed: true,
        quoteOrderQtyMarketAllowed: true,
        allowTrailingStop: true,
        cancelReplaceAllowed: true,
        isSpotTradingAllowed: true,
        isMarginTradingAllowed: false,
        filters: [
          { filterType: "PRICE_FILTER", minPrice: def.tickSize, maxPrice: "1000000.00000000", tickSize: def.tickSize },
          { filterType: "LOT_SIZE", minQty: def.minQty, maxQty: "9000.00000000", stepSize: def.stepSize },
          { filterType: "NOTIONAL", minNotional: def.minNotional, applyMinToMarket: true, maxNotional: "9000000.00000000", applyMaxToMarket: false, avgPriceMins: 5 },
          { filterType: "MARKET_LOT_SIZE", minQty: "0.00000000", maxQty: "100.00000000", stepSize: "0.00000000" },
        ],
        permissions: [],
        permissionSets: [["SPOT"]],
        defaultSelfTradePreventionMode: "EXPIRE_MAKER",
        allowedSelfTradePreventionModes: ["EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"],
      })),
    };
  }

  /** Binance's klines: from startTime ascending, else the newest `limit` (the open minute included). */
  private klines(state: MarketState, params: Record<string, string>) {
    const limit = Math.min(Number(params.limit ?? 500), 1000);
    let bars = [...state.klines, state.current];
    if (params.startTime) bars = bars.filter((k) => k.t >= Number(params.startTime));
    if (params.endTime) bars = bars.filter((k) => k.t <= Number(params.endTime));
    bars = params.startTime ? bars.slice(0, limit) : bars.slice(-limit);
    return bars.map((k) => [k.t, fixed(k.o), fixed(k.h), fixed(k.l), fixed(k.c), fixed(k.v), k.t + MINUTE - 1, fixed(k.q), k.n, "0", "0", "0"]);
  }

  // ---- orders ----

  private placeOrder(state: MarketState, params: Record<string, string>) {
    const def = state.def;
    const side = params.side as "BUY" | "SELL";
    const type = params.type as "MARKET" | "LIMIT";
    const clientOrderId = params.newClientOrderId ?? `x-${crypto.randomUUID().slice(0, 20)}`;
    if (this.orders.some((o) => o.clientOrderId === clientOrderId && (o.status === "NEW" || o.status === "PARTIALLY_FILLED"))) {
      throw new BinanceError(400, -2010, "Duplicate order sent.");
    }
    const qty = dec(params.quantity ?? "0");
    if (qty.lt(def.minQty) || !roundToStep(qty, def.stepSize, "down").eq(qty)) throw new BinanceError(400, -1013, "Filter failure: LOT_SIZE");
    const limit = type === "LIMIT" ? dec(params.price ?? "0") : undefined;
    if (limit && !roundToStep(limit, def.tickSize, "down").eq(limit)) throw new BinanceError(400, -1013, "Filter failure: PRICE_FILTER");
    const reference = limit ?? state.price;
    if (qty.mul(reference).lt(def.minNotional)) throw new BinanceError(400, -1013, "Filter failure: NOTIONAL");
    const spend = side === "BUY" ? { asset: def.quote, amount: qty.mul(reference).mul(1.01) } : { asset: def.base, amount: qty };
    if (this.balance(spend.asset).free.lt(spend.amount)) throw new BinanceError(400, -2010, "Account has insufficient balance for requested action.");
    const time = this.now();
    const order: FakeOrder = {
      symbol: def.symbol, orderId: ++this.orderSeq, clientOrderId, side, type, timeInForce: params.timeInForce ?? "GTC",
      price: limit ?? new Dec(0), origQty: qty, executedQty: new Dec(0), quoteQty: new Dec(0), status: "NEW", time, updateTime: time,
    };
    this.orders.push(order);
    this.report(order, "NEW");
    // Take liquidity level by level, as far as the limit allows.
    const fills: FakeTrade[] = [];
    const levels = side === "BUY" ? state.asks : state.bids;
    for (const level of levels) {
      const remaining = order.origQty.sub(order.executedQty);
      if (remaining.isZero()) break;
      if (limit && (side === "BUY" ? level[0].gt(limit) : level[0].lt(limit))) break;
      const take = Dec.min(remaining, level[1]);
      level[1] = level[1].sub(take);
      const trade = this.execute(order, level[0], take, false);
      fills.push(trade);
      this.report(order, "TRADE", trade);
    }
    if (order.status !== "FILLED" && (type === "MARKET" || order.timeInForce === "IOC")) {
      order.status = "EXPIRED";
      this.report(order, "EXPIRED");
    } else if (order.status === "NEW" || order.status === "PARTIALLY_FILLED") {
      if (side === "BUY") this.move(def.quote, order.origQty.sub(order.executedQty).mul(order.price), "lock");
      else this.move(def.base, order.origQty.sub(order.executedQty), "lock");
    }
    return {
      ...this.orderView(order),
      transactTime: time,
      fills: fills.map((t) => ({ price: fixed(t.price), qty: fixed(t.qty), commission: fixed(t.commission), commissionAsset: t.commissionAsset, tradeId: t.id })),
    };
  }

  /** One fill of an order: balances move, the trade is recorded and printed on the public tape. */
  private execute(order: FakeOrder, price: Dec, qty: Dec, maker: boolean): FakeTrade {
    const state = this.market(order.symbol);
    const { base, quote } = state.def;
    const buying = order.side === "BUY";
    // Binance charges a buyer in the base asset and a seller in the quote asset (without BNB fees).
    const commission = buying ? qty.mul(FEE_RATE) : qty.mul(price).mul(FEE_RATE);
    const time = this.now();
    if (maker) {
      // A resting order's funds were locked when it rested.
      this.move(buying ? quote : base, buying ? qty.mul(order.price) : qty, "unlock");
    }
    this.adjust(quote, buying ? qty.mul(price).neg() : qty.mul(price).sub(commission));
    this.adjust(base, buying ? qty.sub(commission) : qty.neg());
    order.executedQty = order.executedQty.add(qty);
    order.quoteQty = order.quoteQty.add(qty.mul(price));
    order.status = order.executedQty.gte(order.origQty) ? "FILLED" : "PARTIALLY_FILLED";
    order.updateTime = time;
    const trade: FakeTrade = {
      symbol: order.symbol, id: ++state.tradeId, orderId: order.orderId, price, qty, commission,
      commissionAsset: buying ? base : quote, time, isBuyer: buying, isMaker: maker,
    };
    state.publicTrades.push({ id: trade.id, price, qty, time, buyerMaker: maker ? buying : !buying });
    this.trades.push(trade);
    return trade;
  }

  private adjust(asset: string, delta: Dec): void {
    const b = this.balances.get(asset) ?? { free: new Dec(0), locked: new Dec(0) };
    b.free = b.free.add(delta);
    this.balances.set(asset, b);
  }

  private move(asset: string, amount: Dec, direction: "lock" | "unlock"): void {
    const b = this.balances.get(asset) ?? { free: new Dec(0), locked: new Dec(0) };
    const signed = direction === "lock" ? amount : amount.neg();
    b.free = b.free.sub(signed);
    b.locked = b.locked.add(signed);
    this.balances.set(asset, b);
  }

  private findOrder(state: MarketState, params: Record<string, string>): FakeOrder {
    const order = params.orderId
      ? this.orders.find((o) => o.symbol === state.def.symbol && String(o.orderId) === params.orderId)
      : [...this.orders].reverse().find((o) => o.symbol === state.def.symbol && o.clientOrderId === params.origClientOrderId);
    if (!order) throw new BinanceError(400, -2013, "Order does not exist.");
    return order;
  }

  private cancelOrder(state: MarketState, params: Record<string, string>) {
    let order: FakeOrder;
    try {
      order = this.findOrder(state, params);
    } catch {
      throw new BinanceError(400, -2011, "Unknown order sent.");
    }
    if (order.status !== "NEW" && order.status !== "PARTIALLY_FILLED") throw new BinanceError(400, -2011, "Unknown order sent.");
    const rest = order.origQty.sub(order.executedQty);
    if (order.side === "BUY") this.move(state.def.quote, rest.mul(order.price), "unlock");
    else this.move(state.def.base, rest, "unlock");
    order.status = "CANCELED";
    order.updateTime = this.now();
    this.report(order, "CANCELED");
    return { ...this.orderView(order), origClientOrderId: order.clientOrderId };
  }

  private orderView(o: FakeOrder) {
    return {
      symbol: o.symbol, orderId: o.orderId, orderListId: -1, clientOrderId: o.clientOrderId, price: fixed(o.price), origQty: fixed(o.origQty),
      executedQty: fixed(o.executedQty), cummulativeQuoteQty: fixed(o.quoteQty), status: o.status, timeInForce: o.timeInForce, type: o.type,
      side: o.side, stopPrice: "0.00000000", icebergQty: "0.00000000", time: o.time, updateTime: o.updateTime, isWorking: true,
      workingTime: o.time, origQuoteOrderQty: "0.00000000", selfTradePreventionMode: "EXPIRE_MAKER",
    };
  }

  private myTrades(state: MarketState, params: Record<string, string>) {
    let trades = this.trades.filter((t) => t.symbol === state.def.symbol);
    if (params.orderId) trades = trades.filter((t) => String(t.orderId) === params.orderId);
    if (params.startTime) trades = trades.filter((t) => t.time >= Number(params.startTime));
    if (params.fromId) trades = trades.filter((t) => t.id >= Number(params.fromId));
    return trades.slice(0, Number(params.limit ?? 500)).map((t) => ({
      symbol: t.symbol, id: t.id, orderId: t.orderId, orderListId: -1, price: fixed(t.price), qty: fixed(t.qty), quoteQty: fixed(t.price.mul(t.qty)),
      commission: fixed(t.commission), commissionAsset: t.commissionAsset, time: t.time, isBuyer: t.isBuyer, isMaker: t.isMaker, isBestMatch: true,
    }));
  }

  /** An executionReport to every user-data subscriber. */
  private report(order: FakeOrder, executionType: "NEW" | "TRADE" | "CANCELED" | "EXPIRED", trade?: FakeTrade): void {
    const event = {
      e: "executionReport", E: this.now(), s: order.symbol, c: order.clientOrderId, S: order.side, o: order.type, f: order.timeInForce,
      q: fixed(order.origQty), p: fixed(order.price), P: "0.00000000", F: "0.00000000", g: -1, C: "", x: executionType, X: order.status,
      r: "NONE", i: order.orderId, l: fixed(trade?.qty ?? new Dec(0)), z: fixed(order.executedQty), L: fixed(trade?.price ?? new Dec(0)),
      n: trade ? fixed(trade.commission) : "0", N: trade?.commissionAsset ?? null, T: trade?.time ?? order.updateTime, t: trade?.id ?? -1,
      I: 1, w: order.status === "NEW" || order.status === "PARTIALLY_FILLED", m: trade?.isMaker ?? false, M: false, O: order.time,
      Z: fixed(order.quoteQty), Y: fixed(trade ? trade.price.mul(trade.qty) : new Dec(0)), Q: "0.00000000", W: order.time, V: "EXPIRE_MAKER",
    };
    for (const [ws, subscriptionId] of this.userSubscriptions) {
      if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ subscriptionId, event }));
    }
  }

  // ---- WebSocket ----

  private onSocket(ws: WebSocket, url: string): void {
    if (url.startsWith("/ws-api/v3")) {
      ws.on("message", (data) => this.onApiMessage(ws, data.toString()));
      ws.on("close", () => this.userSubscriptions.delete(ws));
      return;
    }
    this.streamSubscriptions.set(ws, new Set());
    ws.on("message", (data) => {
      const message = JSON.parse(data.toString()) as { method: string; params: string[]; id: number };
      const subscribed = this.streamSubscriptions.get(ws)!;
      if (message.method === "SUBSCRIBE") for (const stream of message.params) subscribed.add(stream);
      if (message.method === "UNSUBSCRIBE") for (const stream of message.params) subscribed.delete(stream);
      ws.send(JSON.stringify({ result: null, id: message.id }));
    });
    ws.on("close", () => this.streamSubscriptions.delete(ws));
  }

  private onApiMessage(ws: WebSocket, data: string): void {
    const message = JSON.parse(data) as { id: string; method: string; params: Record<string, string | number> };
    if (message.method !== "userDataStream.subscribe.signature") {
      ws.send(JSON.stringify({ id: message.id, status: 400, error: { code: -1100, msg: `unsupported method ${message.method}` } }));
      return;
    }
    const { signature, ...rest } = message.params;
    const query = Object.keys(rest).sort().map((k) => `${k}=${rest[k]}`).join("&");
    const expected = crypto.createHmac("sha256", this.secret).update(query).digest("hex");
    if (rest.apiKey !== this.apiKey || signature !== expected) {
      ws.send(JSON.stringify({ id: message.id, status: 401, error: { code: -2015, msg: "Invalid API-key, IP, or permissions for action." } }));
      return;
    }
    const subscriptionId = this.subscriptionSeq++;
    this.userSubscriptions.set(ws, subscriptionId);
    ws.send(JSON.stringify({ id: message.id, status: 200, result: { subscriptionId } }));
  }

  private broadcast(stream: string, payload: unknown): void {
    let text: string | undefined;
    for (const [ws, streams] of this.streamSubscriptions) {
      if (!streams.has(stream) || ws.readyState !== WebSocket.OPEN) continue;
      text ??= JSON.stringify(payload);
      ws.send(text);
    }
  }
}

class BinanceError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}
