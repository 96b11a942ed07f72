/**
 * Feature Engineering: streaming indicators per instrument on closed 1-minute candles (constant work
 * per candle), one FeatureCalculator per instrument for live candles and history alike.
 *
 * - The calculator's state is stored after every candle (one write per candle) and kept in memory;
 *   it is read back on the first candle of an instrument and after a gap (a restart, another member
 *   of the consumer group having moved it on), so the values are exactly those of an uninterrupted run.
 * - A candle at or before the last one consumed (a redelivery) is skipped, so `features.indicators`
 *   never goes back in time on a key; a redelivery of a candle whose state was not stored yet is
 *   computed from the stored state again, giving the identical message (same values, same
 *   idempotency key).
 * - History: candles that never come on the topic (backfilled on registration or after downtime)
 *   get their indicators computed from the stored candles and stored as indicator rows, without
 *   publishing them as live: on `ingestion.backfilled`, and before a live candle that follows a gap.
 */
import type { Context, ServiceSchema, ServiceSettingSchema } from "moleculer";
import { TopicsMixin, type TopicMethods } from "../mixins/topics.mixin";
import { StoreMixin, type Stores } from "../mixins/store.mixin";
import { type Candle, type CandleEvent, type Envelope, type FeaturesComputed, type MarketEvent, TOPICS } from "../schemas";
import { FeatureCalculator, type FeatureState } from "../lib/features/streaming-features";
import { catchUp, catchUpQuery, indicatorRow } from "../lib/features/history";
import { KeyedMutex } from "../lib/keyed-mutex";
import { MINUTE_MS } from "../lib/market/candles";
import { candleId } from "../lib/market/history";
import { DependencyUnavailableError, retriedWhenRetryable } from "../lib/errors";
import { within } from "../lib/clock";

/**
 * How long a candle's handler waits for its calculator (stored state, catch-up on stored candles).
 * Longer means a store is down or overloaded: the handler fails fast and the bus retries it with
 * backoff, heartbeating meanwhile, so a slow store never costs the consumer group its membership.
 */
export const PREPARE_TIMEOUT_MS = 10_000;
/** Indicator rows per `ingestion.storeIndicators` call (a message over NATS stays well under 1 MB). */
const ROWS_PER_CALL = 500;

export interface StoredFeatureState {
  instrumentKey: string;
  state: FeatureState;
}

interface FeaturesLocals {
  stores: Stores<{ state: StoredFeatureState }>;
  /** The stored state of each instrument, as last written by this member. */
  calculators: Map<string, FeatureCalculator>;
  mutex: KeyedMutex;
}

interface FeaturesMethods extends TopicMethods {
  calculatorOf(instrumentKey: string, fromStore?: boolean): Promise<FeatureCalculator | undefined>;
  warmUpKnown(): Promise<void>;
  prepare(instrumentKey: string, openTime: number): Promise<void>;
  catchUp(instrumentKey: string, before: number): Promise<void>;
  process(event: CandleEvent, envelope: Envelope<MarketEvent>): Promise<void>;
  save(instrumentKey: string, calculator: FeatureCalculator): Promise<void>;
  callIngestion<T>(action: string, params: object): Promise<T>;
}

const FeaturesService: ServiceSchema<ServiceSettingSchema, FeaturesMethods, FeaturesLocals> = {
  name: "features",
  dependencies: ["ingestion"],
  mixins: [StoreMixin({ state: [] }), TopicsMixin()],

  topics: {
    // Batches: of the many trades, books and tickers only the closed candles matter here, taken in order.
    // A failed batch comes again message by message, its candles consumed already skipped as redeliveries.
    [TOPICS.marketRawData]: {
      batch: true,
      async handler(events: MarketEvent[], envelopes: Array<Envelope<MarketEvent>>) {
        for (const [i, event] of events.entries()) {
          if (event.kind !== "candle" || !event.closed) continue;
          const key = event.instrumentKey;
          // Past the timeout the bus retries the batch with backoff (the candles done by then are skipped).
          await within(this.mutex.run(key, () => this.prepare(key, event.openTime)), PREPARE_TIMEOUT_MS, () => new DependencyUnavailableError(`warm-up of ${key}: not done within ${PREPARE_TIMEOUT_MS} ms`));
          await this.mutex.run(key, () => this.process(event, envelopes[i]!));
        }
      },
    },
  },

  events: {
    /** Ingestion stored backfilled candles before `before`: compute and store their indicator rows. */
    "ingestion.backfilled": {
      params: { instrumentKey: "string", before: "number" },
      async handler(ctx: Context<{ instrumentKey: string; before: number }>) {
        const { instrumentKey, before } = ctx.params;
        await this.mutex.run(instrumentKey, () => this.catchUp(instrumentKey, before)).catch((err: Error) => {
          // The next live candle after the gap catches up again.
          this.logger.warn(`indicator history of ${instrumentKey} not computed yet: ${err.message}`);
        });
      },
    },
  },

  methods: {
    /**
     * A copy of the instrument's calculator (callers advance it, then `save` it): from memory, else
     * (or with `fromStore`) from its stored state; undefined when it has none.
     */
    async calculatorOf(instrumentKey: string, fromStore = false) {
      const cached = fromStore ? undefined : this.calculators.get(instrumentKey);
      if (cached) return cached.clone();
      const stored = await this.stores.state.get(instrumentKey);
      if (stored?.state.version !== 1) return undefined;
      const calculator = new FeatureCalculator(stored.state);
      this.calculators.set(instrumentKey, calculator);
      return calculator.clone();
    },

    /**
     * On start, outside any handler: registered instruments without a stored state (an upgrade, a
     * lost store) start cold on their stored candles up to the last one whose indicators were
     * published, so no live candle is taken for history.
     */
    async warmUpKnown() {
      const instruments = await this.broker.call<Array<{ instrumentKey: string; enabled: boolean }>, object>("risk.listInstruments", {}, { timeout: PREPARE_TIMEOUT_MS });
      for (const { instrumentKey, enabled } of instruments) {
        if (!enabled || (await this.stores.state.get(instrumentKey))) continue;
        const [newest] = await this.callIngestion<FeaturesComputed[]>("ingestion.indicators", { instrument: instrumentKey, limit: 1 });
        if (newest) await this.mutex.run(instrumentKey, () => this.catchUp(instrumentKey, newest.openTime + 1));
      }
    },

    /** Before a live candle: catch up on the stored candles the calculator has not seen (first sight, a gap). */
    async prepare(instrumentKey: string, openTime: number) {
      const follows = (c: FeatureCalculator | undefined) => c?.lastCandleOpenTime !== undefined && c.lastCandleOpenTime >= openTime - MINUTE_MS;
      if (follows(this.calculators.get(instrumentKey))) return; // the next candle, or a redelivery
      // A gap: another member of the group may have consumed it since this one last did.
      if (follows(await this.calculatorOf(instrumentKey, true))) return;
      await this.catchUp(instrumentKey, openTime);
    },

    /** Computes the indicators of the stored candles after the calculator's last one and before `before`; stores their rows and the state. */
    async catchUp(instrumentKey: string, before: number) {
      const current = await this.calculatorOf(instrumentKey);
      const stored = await this.callIngestion<Candle[]>("ingestion.candles", catchUpQuery(instrumentKey, before, current?.lastCandleOpenTime));
      const caughtUp = catchUp(current, stored);
      if (!caughtUp) return;
      const { calculator, rows, resumed } = caughtUp;
      for (let i = 0; i < rows.length; i += ROWS_PER_CALL) {
        await this.callIngestion("ingestion.storeIndicators", { rows: rows.slice(i, i + ROWS_PER_CALL) });
      }
      await this.save(instrumentKey, calculator);
      this.logger.info(`${instrumentKey}: indicators computed for ${rows.length} stored candles (${resumed ? "resumed" : "cold start"})`);
    },

    async process(event: CandleEvent, envelope: Envelope<MarketEvent>) {
      const current = await this.calculatorOf(event.instrumentKey);
      const last = current?.lastCandleOpenTime;
      // Already consumed (a redelivery): published before, and publishing it now would go back in time.
      if (last !== undefined && event.openTime <= last) return;
      const calculator = current ?? new FeatureCalculator();
      const features = calculator.update(event);
      if (features) {
        await this.publish(TOPICS.featuresIndicators, indicatorRow(event, features, event.receivedAt), {
          traceId: envelope.traceId,
          idempotencyKey: candleId(event.instrumentKey, event.openTime),
        });
      }
      // Stored after publishing: a crash in between recomputes the same message from the previous state.
      await this.save(event.instrumentKey, calculator);
    },

    async save(instrumentKey: string, calculator: FeatureCalculator) {
      const state = calculator.snapshot();
      if (this.calculators.has(instrumentKey)) await this.stores.state.update(instrumentKey, { state });
      else await this.stores.state.put(instrumentKey, { instrumentKey, state });
      this.calculators.set(instrumentKey, calculator);
    },

    /** A call to ingestion on a message's path: a timeout or an absent ingestion is retried by the bus. */
    async callIngestion<T>(action: string, params: object) {
      return this.broker.call<T, object>(action, params, { timeout: PREPARE_TIMEOUT_MS }).catch(retriedWhenRetryable(action));
    },
  },

  created() {
    this.calculators = new Map();
    this.mutex = new KeyedMutex();
  },

  async started() {
    // Best effort: a candle of an instrument still without a state catches up in its handler.
    await this.warmUpKnown().catch((err: Error) => this.logger.warn(`warm-up on start incomplete: ${err.message}`));
  },
};

export default FeaturesService;
