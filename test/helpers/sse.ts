/** A test client of the gateway's Server-Sent Events stream (`GET /api/stream`). */
import { SseParser } from "../../dashboard/src/lib/live";
import type { LiveEventName, LiveEvents } from "../../schemas/live";

export type Pushed = { [E in LiveEventName]: { event: E; data: LiveEvents[E] } }[LiveEventName];

export interface OpenStream {
  status: number;
  events: Pushed[];
  ended(): boolean;
  /** Resolves when the server ends the stream (or it is closed). */
  end: Promise<void>;
  close(): void;
}

export async function openStream(baseUrl: string, headers: Record<string, string>, query = ""): Promise<OpenStream> {
  const controller = new AbortController();
  const res = await fetch(`${baseUrl}/api/stream${query}`, { headers, signal: controller.signal });
  const events: Pushed[] = [];
  let ended = false;
  let markEnded!: () => void;
  const end = new Promise<void>((resolve) => (markEnded = resolve));
  if (res.ok && res.body) {
    const reader = res.body.getReader();
    const parser = new SseParser();
    const decoder = new TextDecoder();
    void (async () => {
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          for (const m of parser.push(decoder.decode(value, { stream: true }))) events.push({ event: m.event, data: JSON.parse(m.data) } as Pushed);
        }
      } catch {
        // aborted by close()
      } finally {
        ended = true;
        markEnded();
      }
    })();
  } else {
    ended = true;
    markEnded();
    await res.body?.cancel();
  }
  return { status: res.status, events, ended: () => ended, end, close: () => controller.abort() };
}

export const find = <E extends LiveEventName>(stream: OpenStream, event: E, match: (data: LiveEvents[E]) => boolean = () => true) =>
  stream.events.find((e): e is Extract<Pushed, { event: E }> => e.event === event && match(e.data as LiveEvents[E]))?.data as LiveEvents[E] | undefined;
