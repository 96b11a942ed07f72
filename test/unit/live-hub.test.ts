/**
 * The live stream's hub without a broker or a server: per-token stream quota, who sees which
 * events, the candle's OHLCV bar, slow clients, heartbeats and shutdown. The frames are read back
 * with the dashboard's own SSE parser.
 */
import { SseParser } from "../../dashboard/src/lib/live";
import { type Candle, type Fill, TOPICS, type TradeRejected } from "../../schemas";
import { OPERATOR, type Principal } from "../../lib/auth";
import { HEARTBEAT_MS, LIVE_TOPICS, LiveHub, MAX_BUFFERED_BYTES, type LiveHubLookups, type StreamResponse } from "../../lib/live/hub";
import { signal } from "../helpers/signals";
import { portfolioSnapshot } from "../helpers/snapshots";

/** A response the hub writes to, keeping what it was sent. */
class RecordedResponse implements StreamResponse {
  status?: number;
  headers: Record<string, string> = {};
  text = "";
  ended = false;
  destroyed = false;
  socketDestroyed = false;
  writableLength = 0;
  readonly socket = { destroy: () => (this.socketDestroyed = true) };
  private readonly closeListeners: Array<() => void> = [];

  writeHead(status: number, headers: Record<string, string>) {
    this.status = status;
    this.headers = headers;
  }
  write(chunk: string) {
    this.text += chunk;
  }
  end(chunkOrCallback?: string | (() => void)) {
    this.ended = true;
    if (typeof chunkOrCallback === "function") chunkOrCallback();
    else if (chunkOrCallback) this.text += chunkOrCallback;
  }
  destroy() {
    this.destroyed = true;
  }
  on(_event: "close", listener: () => void) {
    this.closeListeners.push(listener);
  }
  /** The client goes away. */
  close() {
    for (const listener of this.closeListeners) listener();
  }
  events() {
    return new SseParser().push(this.text).map((m) => ({ event: m.event, data: JSON.parse(m.data) as unknown }));
  }
  names() {
    return this.events().map((e) => e.event);
  }
}

const alice: Principal = { role: "trader", traderId: "alice" };
const bob: Principal = { role: "trader", traderId: "bob" };

const btcBuy = signal("s1");

/** Look-ups answering from a table, counting the questions. */
function lookups(owners: Record<string, string | null | undefined>, candles: Candle[] = []) {
  const asked = { owners: [] as string[], candles: 0 };
  const answers: LiveHubLookups = {
    ownerOf: async (portfolioId) => {
      asked.owners.push(portfolioId);
      return owners[portfolioId];
    },
    candleAt: async (instrumentKey, openTime) => {
      asked.candles += 1;
      return candles.find((c) => c.instrumentKey === instrumentKey && c.openTime === openTime);
    },
  };
  return { asked, answers };
}

function hubWith(streamsPerToken = 2, answers = lookups({}).answers) {
  return new LiveHub({ serverStartedAt: 1_700_000_000_000, streamsPerToken }, answers);
}

describe("live hub", () => {
  it("opens a stream with the event-stream headers and a hello naming the server's start and the heartbeat", () => {
    const hub = hubWith();
    const res = new RecordedResponse();
    expect(hub.open(res, OPERATOR)).toBeUndefined();
    expect(res.status).toBe(200);
    expect(res.headers["Content-Type"]).toBe("text/event-stream; charset=utf-8");
    expect(res.events()).toEqual([{ event: "hello", data: { serverStartedAt: 1_700_000_000_000, heartbeatMs: HEARTBEAT_MS } }]);
  });

  it("holds each token to its quota of streams, counts per token, and frees a place when a client leaves", () => {
    const hub = hubWith(2);
    const [a1, a2, a3] = [new RecordedResponse(), new RecordedResponse(), new RecordedResponse()];
    expect(hub.open(a1, alice)).toBeUndefined();
    expect(hub.open(a2, alice)).toBeUndefined();
    expect(hub.open(a3, alice)).toEqual({ open: 2 });
    // Refused: nothing written, so the gateway can still answer 429.
    expect([a3.status, a3.text]).toEqual([undefined, ""]);
    expect(hub.open(new RecordedResponse(), bob)).toBeUndefined();
    expect(hub.open(new RecordedResponse(), OPERATOR)).toBeUndefined();
    a1.close();
    expect(hub.open(a3, alice)).toBeUndefined();
    // The stream that left gets nothing more.
    hub.heartbeat();
    expect([a1.text.includes(": heartbeat"), a2.text.includes(": heartbeat"), a3.text.includes(": heartbeat")]).toEqual([false, true, true]);
  });

  it("gives a portfolio's events to the operator and its owner only, and market events to everybody", async () => {
    const { asked, answers } = lookups({ "alice.two": "alice", default: null });
    const hub = hubWith(5, answers);
    const [operator, alices, bobs] = [new RecordedResponse(), new RecordedResponse(), new RecordedResponse()];
    hub.open(operator, OPERATOR);
    hub.open(alices, alice);
    hub.open(bobs, bob);

    // The owner comes with the snapshot: no look-up.
    await hub.deliver(LIVE_TOPICS[TOPICS.portfolioUpdated]!(portfolioSnapshot("alice", { owner: "alice" })));
    await hub.deliver(LIVE_TOPICS[TOPICS.tradingSignals]!(btcBuy));
    // A fill of a portfolio not seen yet: its owner is looked up once, then remembered.
    const fill = { portfolioId: "alice.two", instrumentKey: "binance:BTC/USDT" } as Fill;
    await hub.deliver(LIVE_TOPICS[TOPICS.ordersFills]!(fill));
    await hub.deliver(LIVE_TOPICS[TOPICS.ordersFills]!(fill));
    // The operator's portfolio: no trader sees it.
    await hub.deliver(LIVE_TOPICS[TOPICS.portfolioUpdated]!(portfolioSnapshot("default")));

    expect(operator.names()).toEqual(["hello", "portfolio", "signal", "fill", "fill", "portfolio"]);
    expect(alices.names()).toEqual(["hello", "portfolio", "signal", "fill", "fill"]);
    expect(bobs.names()).toEqual(["hello", "signal"]);
    expect(asked.owners).toEqual(["alice.two"]);
  });

  it("sends a portfolio's events to the operator only while its owner cannot be told, and asks again later", async () => {
    const owners: Record<string, string | undefined> = {};
    const { asked, answers } = lookups(owners);
    const hub = hubWith(5, answers);
    const [operator, alices] = [new RecordedResponse(), new RecordedResponse()];
    hub.open(operator, OPERATOR);
    hub.open(alices, alice);
    const rejected = { portfolioId: "alice.x", reason: "halted", stage: 2 } as TradeRejected;
    await hub.deliver(LIVE_TOPICS[TOPICS.tradesRejected]!(rejected));
    owners["alice.x"] = "alice";
    await hub.deliver(LIVE_TOPICS[TOPICS.tradesRejected]!(rejected));
    expect(operator.names()).toEqual(["hello", "decision", "decision"]);
    expect(alices.events()).toEqual([expect.objectContaining({ event: "hello" }), { event: "decision", data: { outcome: "rejected", ...rejected } }]);
    expect(asked.owners).toEqual(["alice.x", "alice.x"]);
  });

  it("asks no owner when only the operator listens, and nothing at all when nobody does", async () => {
    const { asked, answers } = lookups({ p: "alice" });
    const hub = hubWith(5, answers);
    const fill = { portfolioId: "p", instrumentKey: "binance:BTC/USDT" } as Fill;
    await hub.deliver(LIVE_TOPICS[TOPICS.ordersFills]!(fill));
    await hub.deliver(LIVE_TOPICS[TOPICS.featuresIndicators]!({ instrumentKey: "binance:BTC/USDT", openTime: 60_000 } as never));
    hub.open(new RecordedResponse(), OPERATOR);
    await hub.deliver(LIVE_TOPICS[TOPICS.ordersFills]!(fill));
    expect(asked).toEqual({ owners: [], candles: 0 });
  });

  it("adds the stored OHLCV bar to a live candle, and pushes it without one when the store does not have it", async () => {
    const bar = { instrumentKey: "binance:BTC/USDT", openTime: 120_000, open: "1", high: "2", low: "1", close: "2", volume: "3" } as unknown as Candle;
    const hub = hubWith(5, lookups({}, [bar]).answers);
    const res = new RecordedResponse();
    hub.open(res, alice);
    const indicators = (openTime: number) => ({ instrumentKey: "binance:BTC/USDT", openTime, close: "2" }) as never;
    await hub.deliver(LIVE_TOPICS[TOPICS.featuresIndicators]!(indicators(120_000)));
    await hub.deliver(LIVE_TOPICS[TOPICS.featuresIndicators]!(indicators(180_000)));
    const candles = res.events().filter((e) => e.event === "candle").map((e) => (e.data as { candle: unknown }).candle);
    expect(candles).toEqual([bar, null]);
  });

  it("drops a client that stopped reading once more than a megabyte waits for it", async () => {
    const hub = hubWith();
    const [reading, stalled] = [new RecordedResponse(), new RecordedResponse()];
    hub.open(reading, OPERATOR);
    hub.open(stalled, OPERATOR);
    stalled.writableLength = MAX_BUFFERED_BYTES + 1;
    await hub.deliver(LIVE_TOPICS[TOPICS.tradingSignals]!(btcBuy));
    expect([stalled.destroyed, stalled.names()]).toEqual([true, ["hello"]]);
    expect(reading.names()).toEqual(["hello", "signal"]);
    hub.heartbeat();
    expect([stalled.text.includes(": heartbeat"), reading.text.includes(": heartbeat")]).toEqual([false, true]);
  });

  it("writes heartbeat comments, and on close ends every stream, closes its connection and refuses new ones with 503", async () => {
    const hub = hubWith();
    const res = new RecordedResponse();
    hub.open(res, OPERATOR);
    hub.heartbeat();
    expect(res.text.endsWith(": heartbeat\n\n")).toBe(true);
    hub.close();
    expect([res.ended, res.socketDestroyed]).toEqual([true, true]);
    const late = new RecordedResponse();
    expect(hub.open(late, OPERATOR)).toBeUndefined();
    expect([late.status, late.headers["Retry-After"], late.ended]).toEqual([503, "1", true]);
    // Nothing is pushed any more to the ended stream or the refused one.
    const before = res.text;
    hub.heartbeat();
    await hub.deliver(LIVE_TOPICS[TOPICS.tradingSignals]!(btcBuy));
    expect([res.text, late.text]).toEqual([before, "the gateway is stopping\n"]);
  });
});
