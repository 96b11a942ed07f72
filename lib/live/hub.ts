/**
 * The live stream's hub (`GET /api/stream`): the open Server-Sent Events streams with who opened
 * each, the per-token quota on them, the topic events turned into live events, and the filter that
 * gives a trader's stream market events and their own portfolios' events only. Plain: the gateway
 * hands it the responses, the events and two look-ups (a portfolio's owner, a candle's OHLCV bar).
 */
import { type Candle, LiveEventFrame, type LiveEventName, type LiveEvents, TOPICS, type TopicPayloads } from "../../schemas";
import { canSee, principalKey, type Principal } from "../auth";
import type { RouteDoc } from "../openapi";


/** One live event as gateway instances hand it to each other; `portfolioId` scopes it to that portfolio's viewers. */
export type LiveEvent = { [E in LiveEventName]: { event: E; data: LiveEvents[E]; portfolioId?: string } }[LiveEventName];

/** The topics the dashboard shows, each with the live event it becomes. */
export const LIVE_TOPICS: { [T in keyof TopicPayloads]?: (payload: TopicPayloads[T]) => LiveEvent } = {
  [TOPICS.portfolioUpdated]: (snapshot) => ({ event: "portfolio", data: snapshot, portfolioId: snapshot.portfolioId }),
  // The OHLCV bar is added by each gateway that has streams open (LiveHub.deliver).
  [TOPICS.featuresIndicators]: (indicators) => ({ event: "candle", data: { instrumentKey: indicators.instrumentKey, candle: null, indicators } }),
  [TOPICS.tradingSignals]: (signal) => ({ event: "signal", data: signal }),
  [TOPICS.tradesApproved]: (approved) => ({ event: "decision", data: { outcome: "approved", ...approved }, portfolioId: approved.portfolioId }),
  [TOPICS.tradesRejected]: (rejected) => ({ event: "decision", data: { outcome: "rejected", ...rejected }, portfolioId: rejected.portfolioId }),
  [TOPICS.ordersFills]: (fill) => ({ event: "fill", data: fill, portfolioId: fill.portfolioId }),
};

/** A comment line every so often keeps proxies from closing an idle stream and lets clients spot a dead one. */
export const HEARTBEAT_MS = 15_000;
/** A client that stops reading is dropped once this much is queued for it; it reconnects and resynchronises. */
export const MAX_BUFFERED_BYTES = 1 << 20;

/** What `GET /api/stream` answers, for the OpenAPI document. */
export const STREAM_DOC: RouteDoc = {
  summary: "Server-Sent Events: hello, then portfolio, candle, signal, decision and fill events, and a heartbeat comment every 15 s",
  contentType: "text/event-stream",
  // Each event as an SSE client reads it: its name and its JSON text.
  response: LiveEventFrame,
};

/** What the hub needs of an HTTP response (node's ServerResponse is one). */
export interface StreamResponse {
  writeHead(status: number, headers: Record<string, string>): unknown;
  write(chunk: string): unknown;
  end(chunkOrCallback?: string | (() => void)): unknown;
  destroy(): unknown;
  on(event: "close", listener: () => void): unknown;
  readonly writableLength: number;
  readonly socket: { destroy(): unknown } | null;
}

export interface LiveHubLookups {
  /** The portfolio's owner (null: the operator's); undefined when it cannot be told, and then no trader gets the event. */
  ownerOf(portfolioId: string): Promise<string | null | undefined>;
  /** The stored 1-minute candle of the instrument opened at `openTime`, if the market data store has it. */
  candleAt(instrumentKey: string, openTime: number): Promise<Candle | undefined>;
}

const sseFrame = (event: string, data: unknown) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;

export class LiveHub {
  /** Each open stream with who opened it. */
  private readonly streams = new Map<StreamResponse, Principal>();
  /** Owner of each portfolio seen (null: the operator's), to scope the pushed events; owners never change. */
  private readonly owners = new Map<string, string | null>();
  private stopping = false;

  constructor(
    private readonly options: { serverStartedAt: number; streamsPerToken: number },
    private readonly lookups: LiveHubLookups,
  ) {}

  /**
   * Opens a stream for the principal (200 and `hello`), or answers 503 while the gateway stops; when
   * the token holds its quota of streams already, writes nothing and returns how many it holds.
   */
  open(res: StreamResponse, principal: Principal): { open: number } | undefined {
    if (this.stopping) {
      // A dashboard reconnecting over a kept-alive connection while the server closes: a stream
      // opened now would keep the server from closing. Refused, it retries after the restart.
      res.writeHead(503, { "Content-Type": "text/plain; charset=utf-8", Connection: "close", "Retry-After": "1" });
      res.end("the gateway is stopping\n");
      return undefined;
    }
    const key = principalKey(principal);
    const open = [...this.streams.values()].filter((p) => principalKey(p) === key).length;
    if (open >= this.options.streamsPerToken) return { open };
    res.writeHead(200, {
      "Content-Type": "text/event-stream; charset=utf-8",
      "Cache-Control": "no-cache, no-transform",
      Connection: "keep-alive",
      "X-Accel-Buffering": "no",
    });
    res.write(sseFrame("hello", { serverStartedAt: this.options.serverStartedAt, heartbeatMs: HEARTBEAT_MS } satisfies LiveEvents["hello"]));
    this.streams.set(res, principal);
    // The response's close (not the request's, which fires once its body is read) means the client left.
    res.on("close", () => this.streams.delete(res));
    return undefined;
  }

  /** A live event consumed by any gateway instance, pushed to this instance's streams that may see it. */
  async deliver(live: LiveEvent): Promise<void> {
    // Every instance learns owners from the snapshots, not just the one consuming portfolio.updated.
    if (live.event === "portfolio") this.owners.set(live.data.portfolioId, live.data.owner ?? null);
    if (this.streams.size === 0) return;
    const data = live.event === "candle" ? await this.withCandle(live.data) : live.data;
    await this.push(live.event, data, live.portfolioId);
  }

  heartbeat(): void {
    for (const res of this.streams.keys()) res.write(": heartbeat\n\n");
  }

  /**
   * Refuses new streams from now on and ends the open ones: open streams would keep the HTTP server
   * from closing; ended, they tell each dashboard to reconnect. Their connections are closed too,
   * so no reconnection can reuse them meanwhile.
   */
  close(): void {
    this.stopping = true;
    for (const res of this.streams.keys()) res.end(() => res.socket?.destroy());
    this.streams.clear();
  }

  private async push(event: LiveEventName, data: unknown, portfolioId: string | undefined): Promise<void> {
    // A portfolio's events go to the operator's streams and to its owner's; market-wide ones to all.
    const needsOwner = portfolioId !== undefined && [...this.streams.values()].some((p) => p.role === "trader");
    const owner = needsOwner ? await this.ownerOf(portfolioId) : null;
    const frame = sseFrame(event, data);
    for (const [res, principal] of this.streams) {
      if (portfolioId !== undefined && principal.role === "trader" && (owner === undefined || !canSee(principal, owner ?? undefined))) continue;
      if (res.writableLength > MAX_BUFFERED_BYTES) {
        this.streams.delete(res);
        res.destroy();
        continue;
      }
      res.write(frame);
    }
  }

  private async ownerOf(portfolioId: string): Promise<string | null | undefined> {
    if (this.owners.has(portfolioId)) return this.owners.get(portfolioId);
    const owner = await this.lookups.ownerOf(portfolioId);
    if (owner !== undefined) this.owners.set(portfolioId, owner);
    return owner;
  }

  /**
   * Indicators follow each closed candle; the candle itself comes from the market data store, which
   * stores it from market.raw.data concurrently. If it is not there yet the push goes out without
   * it: the dashboard sees the gap and reloads the history.
   */
  private async withCandle(live: LiveEvents["candle"]): Promise<LiveEvents["candle"]> {
    const candle = await this.lookups.candleAt(live.instrumentKey, live.indicators.openTime);
    return candle ? { ...live, candle } : live;
  }
}
