/**
 * The live connection to the gateway's Server-Sent Events stream (`GET /api/stream`).
 *
 * It reads the stream through `fetch` rather than `EventSource`, because EventSource cannot send the
 * `Authorization` header (the token would have to go into the URL, and into every access log) and
 * cannot tell a refused token (401) from a server that is down. It reconnects with capped backoff
 * whenever the stream ends, fails or goes silent for longer than three heartbeats, and after each
 * reconnection it asks the views to resynchronise (`resync`), since events may have been missed.
 */
import type { LiveEventName, LiveEvents } from "../../../schemas/live";

export type { LiveEventName, LiveEvents };

export interface SseMessage {
  event: string;
  data: string;
}

/** Incremental parser of the text/event-stream format: feed it chunks, get the complete messages. */
export class SseParser {
  private buffer = "";
  private event = "";
  private data: string[] = [];

  push(chunk: string): SseMessage[] {
    this.buffer += chunk;
    const messages: SseMessage[] = [];
    let newline: number;
    while ((newline = this.buffer.search(/\r\n|\r|\n/)) >= 0) {
      const line = this.buffer.slice(0, newline);
      const width = this.buffer.startsWith("\r\n", newline) ? 2 : 1;
      // A lone "\r" at the end of the buffer may be the first half of "\r\n": wait for the next chunk.
      if (width === 1 && this.buffer[newline] === "\r" && newline === this.buffer.length - 1) break;
      this.buffer = this.buffer.slice(newline + width);
      if (line === "") {
        if (this.data.length > 0) messages.push({ event: this.event || "message", data: this.data.join("\n") });
        this.event = "";
        this.data = [];
        continue;
      }
      if (line.startsWith(":")) continue; // comment (heartbeat)
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? "" : line.slice(colon + 1);
      if (value.startsWith(" ")) value = value.slice(1);
      if (field === "event") this.event = value;
      else if (field === "data") this.data.push(value);
    }
    return messages;
  }
}

export type LiveStatus = "connecting" | "live" | "reconnecting" | "unauthorized" | "stopped";

export interface LiveStreamOptions {
  url: string;
  token(): string | null;
  fetch?: typeof fetch;
  /** First and largest wait between reconnection attempts. */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** Reconnect when nothing (not even a heartbeat) arrived for this long; defaults to three heartbeats. */
  silenceMs?: number;
}

/** A failing view handler is a bug to report, but must not cut the connection the other views rely on. */
function runIsolated(handler: () => void): void {
  try {
    handler();
  } catch (err) {
    queueMicrotask(() => {
      throw err;
    });
  }
}

type Handler<E extends LiveEventName> = (data: LiveEvents[E]) => void;
type AnyHandler = (data: never) => void;

export class LiveStream {
  status: LiveStatus = "stopped";
  private readonly handlers = new Map<string, Set<AnyHandler>>();
  private readonly statusHandlers = new Set<(status: LiveStatus) => void>();
  private readonly resyncHandlers = new Set<() => void>();
  private controller?: AbortController;
  private running = false;
  /** Bumped by each start: a loop left over from before a stop/start must not carry on beside the new one. */
  private generation = 0;
  private connections = 0;
  private silenceMs: number;
  private silenceTimer?: ReturnType<typeof setTimeout>;
  private wakeUp?: () => void;

  constructor(private readonly options: LiveStreamOptions) {
    this.silenceMs = options.silenceMs ?? 45_000;
  }

  on<E extends LiveEventName>(event: E, handler: Handler<E>): () => void {
    let set = this.handlers.get(event);
    if (!set) this.handlers.set(event, (set = new Set()));
    set.add(handler as AnyHandler);
    return () => set.delete(handler as AnyHandler);
  }

  onStatus(handler: (status: LiveStatus) => void): () => void {
    this.statusHandlers.add(handler);
    return () => this.statusHandlers.delete(handler);
  }

  /** Called after every reconnection: reload what the view shows, events may have been missed. */
  onResync(handler: () => void): () => void {
    this.resyncHandlers.add(handler);
    return () => this.resyncHandlers.delete(handler);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.connections = 0;
    void this.run(++this.generation);
  }

  stop(): void {
    this.running = false;
    this.controller?.abort();
    this.wakeUp?.();
    clearTimeout(this.silenceTimer);
    this.setStatus("stopped");
  }

  private async run(generation: number): Promise<void> {
    let backoff = this.options.initialBackoffMs ?? 500;
    const maxBackoff = this.options.maxBackoffMs ?? 5000;
    const current = () => this.running && generation === this.generation;
    while (current()) {
      this.setStatus(this.connections === 0 ? "connecting" : "reconnecting");
      const outcome = await this.connectOnce();
      if (!current()) return;
      if (outcome === "unauthorized") {
        this.running = false;
        this.setStatus("unauthorized");
        return;
      }
      if (outcome === "was-live") backoff = this.options.initialBackoffMs ?? 500;
      this.setStatus("reconnecting");
      await this.sleep(backoff);
      backoff = Math.min(backoff * 2, maxBackoff);
    }
  }

  /** One connection, until it ends: whether the token was refused, or whether the stream ever went live. */
  private async connectOnce(): Promise<"unauthorized" | "was-live" | "failed"> {
    const controller = new AbortController();
    this.controller = controller;
    let wasLive = false;
    try {
      const token = this.options.token();
      const res = await (this.options.fetch ?? fetch)(this.options.url, {
        headers: { accept: "text/event-stream", ...(token ? { authorization: `Bearer ${token}` } : {}) },
        cache: "no-store",
        signal: controller.signal,
      });
      if (res.status === 401) return "unauthorized";
      if (!res.ok || !res.body) return "failed";
      const reader = res.body.getReader();
      const decoder = new TextDecoder();
      const parser = new SseParser();
      this.armSilenceTimer(controller);
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        this.armSilenceTimer(controller);
        for (const message of parser.push(decoder.decode(value, { stream: true }))) {
          if (message.event === "hello") {
            const hello = JSON.parse(message.data) as LiveEvents["hello"];
            this.silenceMs = this.options.silenceMs ?? hello.heartbeatMs * 3;
            wasLive = true;
            this.connections++;
            this.setStatus("live");
            if (this.connections > 1) for (const handler of this.resyncHandlers) runIsolated(handler);
          }
          this.dispatch(message);
        }
      }
    } catch {
      // Network failure or abort: the loop decides whether to try again.
    } finally {
      clearTimeout(this.silenceTimer);
      controller.abort();
    }
    return wasLive ? "was-live" : "failed";
  }

  private dispatch(message: SseMessage): void {
    const set = this.handlers.get(message.event);
    if (!set || set.size === 0) return;
    let data: never;
    try {
      data = JSON.parse(message.data) as never;
    } catch {
      return;
    }
    for (const handler of set) runIsolated(() => handler(data));
  }

  private armSilenceTimer(controller: AbortController): void {
    clearTimeout(this.silenceTimer);
    this.silenceTimer = setTimeout(() => controller.abort(), this.silenceMs);
  }

  private setStatus(status: LiveStatus): void {
    if (this.status === status) return;
    this.status = status;
    for (const handler of this.statusHandlers) handler(status);
  }

  /** A wait that `stop()` cuts short. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wakeUp = undefined;
        resolve();
      }, ms);
      this.wakeUp = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
