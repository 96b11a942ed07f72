/**
 * The exchange facade's memory of its market-data streams: which instruments stream (so a restart
 * resumes exactly these), each one's last trade (a resumed simulator continues from its price), and
 * when each last heard anything (what health calls stale). Market events get their receipt time here.
 */
import type { Clock } from "../clock";
import type { MarketDataActivity } from "../health";
import type { MarketEvent, MarketEventDraft } from "../../schemas";

/** What is saved of one instrument's stream. */
export interface StreamState {
  instrumentKey: string;
  lastPrice?: string;
  lastTime?: number;
  /** Whether the stream was started and not stopped: a restart resumes exactly these. */
  streaming?: boolean;
}

export class StreamActivity {
  private readonly states: Map<string, StreamState>;
  /** Clock time of each streamed instrument's last market event (or of its stream's start). */
  private readonly lastHeard = new Map<string, number>();
  private readonly startedAt: number;

  constructor(
    private readonly clock: Clock,
    saved: readonly StreamState[] = [],
  ) {
    this.states = new Map(saved.map((state) => [state.instrumentKey, state]));
    this.startedAt = clock.now();
  }

  /** Where a stream starting now continues from: its last traded price, if any. */
  resumePoint(instrumentKey: string): { price: string } | undefined {
    const price = this.states.get(instrumentKey)?.lastPrice;
    return price ? { price } : undefined;
  }

  started(instrumentKey: string): void {
    this.states.set(instrumentKey, { ...this.states.get(instrumentKey), instrumentKey, streaming: true });
    if (!this.lastHeard.has(instrumentKey)) this.lastHeard.set(instrumentKey, this.clock.now());
  }

  stopped(instrumentKey: string): void {
    const state = this.states.get(instrumentKey);
    if (state) state.streaming = false;
    this.lastHeard.delete(instrumentKey);
  }

  /** The instruments that streamed when the state was saved. */
  streaming(): string[] {
    return [...this.states.values()].filter((state) => state.streaming).map((state) => state.instrumentKey);
  }

  /** What to save, one state per instrument. */
  saved(): StreamState[] {
    return [...this.states.values()];
  }

  /**
   * The drafts stamped with their receipt time, noted as activity. A historical batch (fetched late:
   * a backfilled gap) is only as fresh as its own market time, so the stale-data guard does not trade
   * on it as if it had just happened.
   */
  received(drafts: readonly MarketEventDraft[], historical: boolean): MarketEvent[] {
    const now = this.clock.now();
    const events = drafts.map((draft) => ({ ...draft, receivedAt: historical ? Math.min(now, draft.time) : now }) as MarketEvent);
    for (const event of events) {
      if (this.lastHeard.has(event.instrumentKey)) this.lastHeard.set(event.instrumentKey, now);
      if (event.kind === "trade") {
        this.states.set(event.instrumentKey, { ...this.states.get(event.instrumentKey), instrumentKey: event.instrumentKey, lastPrice: event.price, lastTime: event.time });
      }
    }
    return events;
  }

  /** How long the facade has been up and how long each stream has been silent: what health reads. */
  report(): MarketDataActivity {
    const now = this.clock.now();
    return {
      uptimeMs: now - this.startedAt,
      instruments: [...this.lastHeard].map(([instrumentKey, at]) => ({
        instrumentKey,
        lastEventTime: this.states.get(instrumentKey)?.lastTime,
        idleMs: now - at,
      })),
    };
  }
}

/** What to start and what to stop so that the enabled instruments stream and no others; a running stream is left as it is. */
export function streamChanges(
  instruments: ReadonlyArray<{ instrumentKey: string; enabled: boolean }>,
  streaming: readonly string[],
): { start: string[]; stop: string[] } {
  const running = new Set(streaming);
  return {
    start: instruments.filter((i) => i.enabled && !running.has(i.instrumentKey)).map((i) => i.instrumentKey),
    stop: instruments.filter((i) => !i.enabled && running.has(i.instrumentKey)).map((i) => i.instrumentKey),
  };
}
