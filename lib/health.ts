/**
 * What `/api/health` answers, decided from what the gateway gathered: readiness (every service up
 * and its routes served) and the pipeline's causes of degradation (market data that stopped, a
 * consumer group falling further and further behind, an unreachable store, bus or exchange). Plain
 * logic on plain inputs, so tests drive it without a broker and with a ManualClock.
 */
import { within, type Clock } from "./clock";
import type { TopicStats } from "./bus/types";
import type { ExchangeStatus } from "./venue/adapters";
import { TOPIC_TABLE } from "../schemas";
import type { HealthCauseKind, HealthCause } from "../schemas";

/** What the exchange facade reports about its streams (`exchange.status` → `marketActivity`). */
export interface MarketDataActivity {
  /** How long the facade has been up: an instrument it does not stream is only late once this exceeds the limit. */
  uptimeMs: number;
  instruments: Array<{
    instrumentKey: string;
    /** Market time of the last trade (the feed's clock). */
    lastEventTime?: number;
    /** Wall-clock time since the last market event of any kind, or since the stream started. */
    idleMs: number;
  }>;
}

export interface HealthSettings {
  /** An enabled instrument without market data for longer than this (wall clock) degrades the platform. */
  marketDataStaleMs: number;
  /** A consumer group's lag above this many messages, growing over `lagSamples` samples, degrades the platform. */
  lagThreshold: number;
  lagSamples: number;
  /** Samples closer together than this are not kept: growth is judged over at least (lagSamples - 1) × this. */
  lagSampleIntervalMs: number;
}

export const DEFAULT_HEALTH_SETTINGS: HealthSettings = {
  marketDataStaleMs: 30_000,
  lagThreshold: 1000,
  lagSamples: 5,
  lagSampleIntervalMs: 5000,
};



/** A cause that makes the gateway unready (503): a client would meet a missing route. */
const UNREADY: ReadonlySet<HealthCauseKind> = new Set(["service_down", "routes_pending"]);

export type HealthStatus = "ok" | "degraded" | "unavailable";

export interface HealthVerdict {
  status: HealthStatus;
  /** Readiness: false (503) while a service is missing or the gateway's routes are not all there yet. */
  ready: boolean;
  causes: HealthCause[];
}

/** Readiness and status from the causes found: degraded stays ready, so a load balancer keeps the gateway in rotation. */
export function verdictOf(causes: HealthCause[]): HealthVerdict {
  const ready = !causes.some((c) => UNREADY.has(c.kind));
  return { status: !ready ? "unavailable" : causes.length > 0 ? "degraded" : "ok", ready, causes };
}

export function missingServiceCauses(required: readonly string[], running: readonly string[]): HealthCause[] {
  const up = new Set(running);
  return required.filter((name) => !up.has(name)).map((name) => ({ kind: "service_down", subject: name, message: `service ${name} is not running` }));
}

/**
 * Every enabled instrument must have had market data within the limit. One the facade does not
 * stream at all counts as silent since the facade started (a restarted facade that never resumed).
 */
export function marketDataCauses(enabled: readonly string[], activity: MarketDataActivity, staleMs: number): HealthCause[] {
  const byKey = new Map(activity.instruments.map((i) => [i.instrumentKey, i]));
  const causes: HealthCause[] = [];
  for (const instrumentKey of enabled) {
    const stream = byKey.get(instrumentKey);
    const idleMs = stream ? stream.idleMs : activity.uptimeMs;
    if (idleMs <= staleMs) continue;
    const seconds = Math.round(idleMs / 1000);
    causes.push({
      kind: "market_data_stale",
      subject: instrumentKey,
      message: stream ? `no market data for ${instrumentKey} for ${seconds} s` : `${instrumentKey} is enabled but not streaming (facade up ${seconds} s)`,
    });
  }
  return causes;
}

/**
 * Samples each consumer group's lag over time: a group whose lag is above the threshold and grew at
 * every one of the last N samples is falling behind without bound. A lag that is high but shrinking
 * is a backlog being worked through, and is not a cause.
 */
export class LagWatch {
  private readonly history = new Map<string, Array<{ at: number; lag: number }>>();
  private lastSampleAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly clock: Clock,
    private readonly settings: Pick<HealthSettings, "lagThreshold" | "lagSamples" | "lagSampleIntervalMs">,
  ) {}

  /** Keeps a sample of every group's lag, unless the previous one is too recent. */
  record(stats: readonly TopicStats[]): void {
    const now = this.clock.now();
    if (now - this.lastSampleAt < this.settings.lagSampleIntervalMs) return;
    this.lastSampleAt = now;
    const seen = new Set<string>();
    for (const topic of stats) {
      for (const group of topic.groups) {
        const id = `${topic.topic}/${group.group}`;
        seen.add(id);
        const samples = this.history.get(id) ?? [];
        samples.push({ at: now, lag: group.lag });
        if (samples.length > this.settings.lagSamples) samples.splice(0, samples.length - this.settings.lagSamples);
        this.history.set(id, samples);
      }
    }
    for (const id of this.history.keys()) if (!seen.has(id)) this.history.delete(id);
  }

  causes(): HealthCause[] {
    const causes: HealthCause[] = [];
    for (const [id, samples] of this.history) {
      if (samples.length < this.settings.lagSamples) continue;
      const growing = samples.every((s, i) => s.lag > this.settings.lagThreshold && (i === 0 || s.lag > samples[i - 1]!.lag));
      if (!growing) continue;
      const first = samples[0]!;
      const last = samples[samples.length - 1]!;
      causes.push({
        kind: "lag_growing",
        subject: id,
        message: `consumer group lag on ${id} grew from ${first.lag} to ${last.lag} in ${Math.round((last.at - first.at) / 1000)} s`,
      });
    }
    return causes;
  }
}

/** The promise's outcome, or a rejection naming what did not answer within `ms`. */
export function answerWithin<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return within(promise, ms, () => new Error(`${what} did not answer within ${ms} ms`));
}

/** The exchange facade's status as health reads it (`exchange.status`). */
export type ExchangeHealth = ExchangeStatus & { marketActivity?: MarketDataActivity };

/** What the gateway knows of the platform at once: the services, and whether its routes are all there. */
export interface PlatformState {
  /** The services that must run (distributed: all of them; embedded: the ones this process was told to run). */
  required: readonly string[];
  running: readonly string[];
  /** False until the gateway's broker has started. */
  started: boolean;
  /** REST actions of running services without their route yet. */
  unrouted: readonly string[];
}

/** The questions health asks the platform; each may fail or take too long, which is then a cause. */
export interface HealthProbes {
  /** The exchange facade's status; undefined when it does not answer (or does not run). */
  exchange(): Promise<ExchangeHealth | undefined>;
  /** The enabled instruments' keys; undefined when risk does not answer (or does not run). */
  enabledInstruments(): Promise<string[] | undefined>;
  store(): Promise<unknown>;
  busStats(): Promise<TopicStats[]>;
  busKind: string;
}

/** The verdict on the platform, with the exchange's status when it answered. */
export async function assessHealth(platform: PlatformState, probes: HealthProbes, lagWatch: LagWatch, marketDataStaleMs: number): Promise<HealthVerdict & { exchange?: ExchangeHealth }> {
  const causes: HealthCause[] = missingServiceCauses(platform.required, platform.running);
  if (!platform.started || platform.unrouted.length > 0) {
    causes.push({ kind: "routes_pending", message: `the gateway is adding the services' routes${platform.unrouted.length > 0 ? ` (${platform.unrouted.join(", ")})` : ""}` });
  }
  const [exchange, enabled, storeError, stats] = await Promise.all([
    probes.exchange(),
    probes.enabledInstruments(),
    answerWithin(probes.store(), 2000, "the store").then(() => undefined, (err: Error) => err.message),
    answerWithin(probes.busStats(), 2000, "the bus").catch((err: Error) => err),
  ]);
  if (storeError !== undefined) causes.push({ kind: "store_unreachable", message: `store unreachable: ${storeError}` });
  if (stats instanceof Error) causes.push({ kind: "bus_unreachable", message: `${probes.busKind} bus unreachable: ${stats.message}` });
  else lagWatch.record(stats);
  causes.push(...lagWatch.causes());
  // The venue's circuit breaker: open while the exchange is down, shown here and on the dashboard.
  if (exchange && exchange.circuit.state !== "closed") {
    causes.push({ kind: "exchange_circuit_open", subject: exchange.exchange, message: `exchange ${exchange.exchange} circuit ${exchange.circuit.state}${exchange.circuit.lastError ? `: ${exchange.circuit.lastError}` : ""}` });
  }
  if (exchange?.marketActivity && enabled) causes.push(...marketDataCauses(enabled, exchange.marketActivity, marketDataStaleMs));
  return { ...verdictOf(causes), ...(exchange ? { exchange } : {}) };
}

/** Per topic (`GET /api/topics`): its partition key and producer as declared, partitions, message count and each consumer group's lag. */
export function topicReport(stats: readonly TopicStats[]) {
  return stats.map((s) => ({
    topic: s.topic,
    key: TOPIC_TABLE[s.topic as keyof typeof TOPIC_TABLE]?.key,
    producer: TOPIC_TABLE[s.topic as keyof typeof TOPIC_TABLE]?.producer,
    partitions: s.partitions,
    messages: s.messages,
    groups: s.groups,
  }));
}
