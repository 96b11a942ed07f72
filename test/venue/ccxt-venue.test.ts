/**
 * Live trading through ccxt's real binance class against the local Binance-protocol server: orders
 * under our client order id, fills across book levels, resting orders filled in parts through the
 * user-data stream, cancels, duplicates (journal and venue), typed refusals, rate limits, lost
 * responses, and reconciliation of what happened while the platform was down or the stream was.
 */
import type { ExchangeTuning } from "../../lib/config";
import type { Execution, Fill, OrderRequest, VenueOrder } from "../../schemas";
import { CcxtConnection, DEFAULT_TUNING } from "../../lib/venue/ccxt-connection";
import { CcxtVenue, type LiveJournal } from "../../lib/venue/ccxt-venue";
import { Credentials } from "../../lib/venue/credentials";
import { FakeBinance } from "../fakes/binance-server";
import { waitFor } from "../helpers/platform";

jest.setTimeout(30000);

const KEY = "binance:BTC/USDT";
const TUNING: ExchangeTuning = { ...DEFAULT_TUNING, reconnectBaseMs: 100, reconnectMaxMs: 400, breakerCooldownMs: 300, reconcileIntervalMs: 60_000 };
const API_KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A";
const SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";

/** The exchange service's journal, in memory: survives a venue's restart like the store does. */
class MemoryJournal implements LiveJournal {
  readonly orders = new Map<string, VenueOrder>();
  readonly fills = new Map<string, Fill>();
  async saveOrder(order: VenueOrder) {
    this.orders.set(order.clientOrderId, { ...order });
  }
  async saveFill(fill: Fill) {
    if (this.fills.has(fill.fillId)) return false;
    this.fills.set(fill.fillId, { ...fill });
    return true;
  }
  async load() {
    return { orders: [...this.orders.values()], fills: [...this.fills.values()] };
  }
}

interface Running {
  conn: CcxtConnection;
  venue: CcxtVenue;
  executions: Execution[];
  logs: string[];
  stop(): Promise<void>;
}

async function startVenue(fake: FakeBinance, journal: LiveJournal): Promise<Running> {
  const credentials = Credentials.load({ env: { EXCHANGE_API_KEY: API_KEY, EXCHANGE_API_SECRET: SECRET } });
  const conn = new CcxtConnection({ exchangeId: "binance", credentials, sandbox: false, timeoutMs: 2000, urls: fake.ccxtUrls(), tuning: TUNING });
  const logs: string[] = [];
  const venue = new CcxtVenue(conn, journal, TUNING, { info: (m) => logs.push(m), warn: (m) => logs.push(m) });
  const executions: Execution[] = [];
  venue.onExecution((e) => executions.push(e));
  await venue.start();
  return {
    conn, venue, executions, logs,
    async stop() {
      await venue.stop();
      await conn.close();
    },
  };
}

let seq = 0;
const request = (over: Partial<OrderRequest> = {}): OrderRequest => ({
  clientOrderId: `tbp${String(++seq).padStart(29, "0")}`,
  portfolioId: "default",
  instrumentKey: KEY,
  side: "BUY",
  type: "market",
  quantity: "0.02",
  ...over,
});

/** A limit BUY far below the market: it rests until the test fills it. */
const restingBuy = (fake: FakeBinance, quantity = "0.01") =>
  request({ type: "limit", quantity, price: fake.lastPrice("BTCUSDT").mul("0.9").toDecimalPlaces(2).toString() });

/** Waits until the user-data stream delivers (a probe order's report), i.e. it is subscribed. */
async function streamUp(fake: FakeBinance, running: Running): Promise<void> {
  const probe = restingBuy(fake, "0.001");
  await running.venue.place(probe);
  await waitFor(() => running.venue.status().userStream.lastMessageAt !== undefined, "the user-data stream");
  await running.venue.cancel(probe.clientOrderId);
  expect(running.venue.status().userStream.connected).toBe(true);
}

describe("live venue against a local Binance", () => {
  let fake: FakeBinance;
  let journal: MemoryJournal;
  let running: Running;

  beforeAll(async () => {
    fake = await FakeBinance.start({ apiKey: API_KEY, secret: SECRET, historyMinutes: 30, balances: { USDT: "100000", BTC: "1" } });
    journal = new MemoryJournal();
    running = await startVenue(fake, journal);
    await streamUp(fake, running);
  });

  afterAll(async () => {
    await running?.stop();
    await fake?.stop();
  });

  it("places a market order under our client order id and fills it across book levels", async () => {
    const order = request({ quantity: "0.02" });
    const { order: placed, fills } = await running.venue.place(order);
    const sent = fake.requests.filter((r) => r.method === "POST" && r.path === "/api/v3/order" && r.params.newClientOrderId === order.clientOrderId);
    expect(sent).toHaveLength(1);
    expect(placed).toMatchObject({ clientOrderId: order.clientOrderId, status: "filled", filledQuantity: "0.02", quantity: "0.02" });
    // Level one holds about 500 USDT: the rest fills on the next level, at a worse price.
    expect(fills.length).toBeGreaterThanOrEqual(2);
    const venueTrades = fake.trades.filter((t) => String(t.orderId) === placed.venueOrderId);
    expect(fills.map((f) => f.fillId)).toEqual(venueTrades.map((t) => `binance:BTCUSDT:${t.id}`));
    expect(fills.map((f) => [f.price, f.quantity, f.fee, f.feeCurrency])).toEqual(venueTrades.map((t) => [t.price.toString(), t.qty.toString(), t.commission.toString(), "BTC"]));
    expect(Number(fills[1]!.price)).toBeGreaterThan(Number(fills[0]!.price));
    expect(placed.averagePrice).toMatch(/^[0-9]+\.[0-9]+$/);
  });

  it("never sends a client order id twice: not after its journal lost it, not after a lost response", async () => {
    const order = request();
    await running.venue.place(order);
    await expect(running.venue.place(order)).rejects.toMatchObject({ code: "duplicate_client_order_id" });
    // A venue whose journal is empty asks the exchange first, finds the order and adopts it.
    const amnesiac = await startVenue(fake, new MemoryJournal());
    try {
      await expect(amnesiac.venue.place(order)).rejects.toMatchObject({ code: "duplicate_client_order_id" });
      const adopted = await amnesiac.venue.order(order.clientOrderId);
      expect(adopted.order).toMatchObject({ status: "filled", portfolioId: "default" });
      expect(adopted.fills.length).toBeGreaterThan(0);
    } finally {
      await amnesiac.stop();
    }
    // The exchange took the order but the answer was lost (502): it is found, not sent again.
    const lost = request();
    fake.failNext({ method: "POST", path: "/api/v3/order" }, { status: 502, body: { code: -1001, msg: "Internal error" } }, 1, { handled: true });
    const found = await running.venue.place(lost);
    expect(found.order.status).toBe("filled");
    for (const id of [order.clientOrderId, lost.clientOrderId]) expect(fake.ordersWithClientId(id)).toHaveLength(1);
  });

  it("follows a resting order filled in parts through the user-data stream, each fill once", async () => {
    const order = restingBuy(fake, "0.01");
    const placed = await running.venue.place(order);
    expect(placed.order).toMatchObject({ status: "open", filledQuantity: "0" });
    fake.fillResting(order.clientOrderId, "0.004");
    const partial = await waitFor(() => running.executions.find((e) => e.order.clientOrderId === order.clientOrderId && e.fills.length > 0), "the first fill");
    expect(partial.fills).toHaveLength(1);
    expect(partial.fills[0]).toMatchObject({ quantity: "0.004", liquidity: "maker", price: order.price });
    fake.fillResting(order.clientOrderId);
    await waitFor(async () => (await running.venue.order(order.clientOrderId)).order.status === "filled", "the order filled");
    const { order: final, fills } = await running.venue.order(order.clientOrderId);
    expect(final.filledQuantity).toBe("0.01");
    expect(fills.map((f) => f.quantity)).toEqual(["0.004", "0.006"]);
    await new Promise((r) => setTimeout(r, 200));
    const emitted = running.executions.filter((e) => e.order.clientOrderId === order.clientOrderId).flatMap((e) => e.fills.map((f) => f.fillId));
    expect(emitted.sort()).toEqual(fills.map((f) => f.fillId).sort());
  });

  it("cancels a resting order", async () => {
    const order = restingBuy(fake);
    await running.venue.place(order);
    const cancelled = await running.venue.cancel(order.clientOrderId);
    expect(cancelled).toMatchObject({ status: "cancelled", reason: "cancelled_by_client" });
    expect(fake.ordersWithClientId(order.clientOrderId)[0]!.status).toBe("CANCELED");
    expect(await running.venue.openOrders()).not.toContainEqual(expect.objectContaining({ clientOrderId: order.clientOrderId }));
  });

  it("turns the exchange's refusals into typed reasons, journalled on the order", async () => {
    const poor = request({ quantity: "10" });
    await expect(running.venue.place(poor)).rejects.toMatchObject({ code: "insufficient_funds" });
    expect(journal.orders.get(poor.clientOrderId)).toMatchObject({ status: "rejected", reason: expect.stringMatching(/^insufficient_funds: /) });
    await expect(running.venue.place(request({ quantity: "0.00005" }))).rejects.toMatchObject({ code: "below_min_notional" });
    await expect(running.venue.place(request({ quantity: "0.000001" }))).rejects.toMatchObject({ code: "below_min_quantity" });
    await expect(running.venue.place(request({ instrumentKey: "binance:DOGE/USDT" }))).rejects.toMatchObject({ code: "unknown_symbol" });
    await expect(running.venue.place(request({ instrumentKey: "kraken:BTC/USDT" }))).rejects.toMatchObject({ code: "unknown_exchange" });
  });

  it("answers a rate limit as retryable and places the order once on the retry", async () => {
    const order = request();
    fake.failNext({ method: "POST", path: "/api/v3/order" }, { status: 429, body: { code: -1015, msg: "Too many new orders; current limit is 50 orders per 10 SECOND." } });
    await expect(running.venue.place(order)).rejects.toMatchObject({ code: "rate_limited" });
    expect(fake.ordersWithClientId(order.clientOrderId)).toHaveLength(0);
    expect((await running.venue.place(order)).order.status).toBe("filled");
    expect(fake.ordersWithClientId(order.clientOrderId)).toHaveLength(1);
  });

  it("scrubs the keys out of anything the exchange echoes back", async () => {
    fake.failNext({ method: "POST", path: "/api/v3/order" }, { status: 400, body: { code: -1100, msg: `Illegal characters found in parameter 'apiKey'; legal range is '${API_KEY}' signed with ${SECRET}` } });
    const err = (await running.venue.place(request()).catch((e: unknown) => e)) as Error;
    expect(err.message).toContain("Illegal characters");
    expect(err.message).not.toContain(API_KEY);
    expect(err.message).not.toContain(SECRET);
    // An outage answer echoing them: the circuit's last error (shown by the API) is scrubbed too.
    fake.failNext({ method: "POST", path: "/api/v3/order" }, { status: 503, body: { code: -1001, msg: `Service unavailable for key ${API_KEY}` } });
    const outage = (await running.venue.place(request()).catch((e: unknown) => e)) as { message: string; details: { cause: string } };
    expect(outage.message).toBe("exchange binance unreachable");
    expect(outage.details.cause).toContain("Service unavailable for key ***");
    expect(running.conn.breaker.status().lastError).toContain("Service unavailable for key ***");
    expect(JSON.stringify(running.venue.status())).not.toContain(API_KEY);
    expect(running.logs.join("\n")).not.toContain(API_KEY);
  });

  it("reconciles a fill that happened while the stream was down, once", async () => {
    const order = restingBuy(fake);
    await running.venue.place(order);
    await fake.goOffline();
    const trade = fake.fillResting(order.clientOrderId); // nobody hears the execution report
    await new Promise((r) => setTimeout(r, 300));
    await fake.goOnline();
    const change = await waitFor(() => running.executions.find((e) => e.fills.some((f) => f.fillId === `binance:BTCUSDT:${trade.id}`)), "the reconciled fill", 10000);
    expect(change.order).toMatchObject({ clientOrderId: order.clientOrderId, status: "filled" });
    expect(running.logs.some((l) => /reconciled with binance \(user stream reconnected\)/.test(l))).toBe(true);
    // The reconciliation runs over REST while the stream resubscribes: the socket may open a moment later.
    await waitFor(() => {
      const { connected, reconnects } = running.venue.status().userStream;
      return connected && reconnects === 1;
    }, "the user stream connected again, one reconnect counted", 10000);
    await new Promise((r) => setTimeout(r, 300));
    expect(running.executions.flatMap((e) => e.fills).filter((f) => f.fillId === `binance:BTCUSDT:${trade.id}`)).toHaveLength(1);
  });

  it("reconciles a fill that happened while the platform was down, once, after the restart", async () => {
    const order = restingBuy(fake);
    await running.venue.place(order);
    await running.stop();
    const trade = fake.fillResting(order.clientOrderId, "0.006");
    running = await startVenue(fake, journal);
    const fillId = `binance:BTCUSDT:${trade.id}`;
    const change = running.executions.find((e) => e.fills.some((f) => f.fillId === fillId));
    expect(change?.order).toMatchObject({ clientOrderId: order.clientOrderId, status: "partially_filled", filledQuantity: "0.006" });
    expect((await running.venue.fillsSince(0)).filter((f) => f.fillId === fillId)).toHaveLength(1);
    // Another restart finds nothing new.
    await running.stop();
    running = await startVenue(fake, journal);
    expect(running.executions.flatMap((e) => e.fills).filter((f) => f.fillId === fillId)).toHaveLength(0);
    expect((await running.venue.openOrders()).map((o) => o.clientOrderId)).toContain(order.clientOrderId);
  });
});
