/**
 * Prediction Engine: runs the configured strategy (STRATEGY=rule, the RSI/MACD rules, or lstm, a
 * trained TensorFlow.js model) on each instrument's feature vectors and publishes BUY/SELL/HOLD
 * signals with the strategy, model version, confidence and the features used. Signal ids are
 * deterministic per (strategy, instrument, candle), so a replay cannot create a second trade.
 */
import path from "node:path";
import type { Context, ServiceSchema, ServiceSettingSchema } from "moleculer";
import { TopicsMixin, type TopicMethods } from "../mixins/topics.mixin";
import { TOPICS } from "../schemas";
import type { Envelope, FeaturesComputed } from "../schemas/events";
import { MODELS, SIGNAL, STRATEGY, listOf } from "../schemas/api";
import { platformConfig } from "../lib/config";
import { RingBuffer } from "../lib/ring-buffer";
import { createStrategy, type StrategyName } from "../lib/strategies";
import { signalIdOf, type Strategy } from "../lib/strategies/types";
import { listModels } from "../lib/ml/model-store";
import { invalidField } from "../lib/errors";
import { requireOperator } from "../lib/auth";
import { retriedWhenRetryable } from "../lib/bus/errors";
import type { FeatureVector, TradingSignal } from "../lib/types";

const SIGNALS_KEPT = 200;
/**
 * How long the history warm-up may take inside a message handler. Longer means the store is down or
 * overloaded: the handler fails fast and the bus retries it with backoff, heartbeating meanwhile,
 * so a slow store never costs the consumer group its membership.
 */
export const WARMUP_TIMEOUT_MS = 3000;

interface PredictionLocals {
  strategy: Strategy;
  strategyName: StrategyName;
  modelDir: string;
  histories: Map<string, FeatureVector[]>;
  recent: Map<string, RingBuffer<TradingSignal>>;
}

interface PredictionMethods extends TopicMethods {
  historyFor(event: FeaturesComputed): Promise<FeatureVector[]>;
}

const PredictionService: ServiceSchema<ServiceSettingSchema, PredictionMethods, PredictionLocals> = {
  name: "prediction",
  dependencies: ["ingestion"],
  settings: { rest: "/" },
  mixins: [TopicsMixin()],

  topics: {
    [TOPICS.featuresIndicators]: {
      async handler(event: FeaturesComputed, envelope: Envelope<FeaturesComputed>) {
        const history = await this.historyFor(event);
        history.push(event.features);
        const keep = Math.max(this.strategy.warmup, 2);
        if (history.length > keep) history.splice(0, history.length - keep);
        const decision = await this.strategy.evaluate({ instrumentKey: event.instrumentKey, features: event.features, history });
        const signal: TradingSignal = {
          signalId: signalIdOf(this.strategy.name, event.instrumentKey, event.openTime),
          instrumentKey: event.instrumentKey,
          exchange: event.exchange,
          symbol: event.symbol,
          action: decision.action,
          strategy: this.strategy.name,
          modelVersion: this.strategy.version,
          confidence: Math.min(1, Math.max(0, decision.confidence)),
          price: event.close,
          features: event.features,
          marketTime: event.closeTime,
          receivedAt: event.receivedAt,
        };
        await this.publish(TOPICS.tradingSignals, signal, { traceId: envelope.traceId });
        let ring = this.recent.get(event.instrumentKey);
        if (!ring) this.recent.set(event.instrumentKey, (ring = new RingBuffer<TradingSignal>(SIGNALS_KEPT)));
        ring.push(signal);
      },
    },
  },

  actions: {
    /** Recent signals of an instrument (BUY/SELL/HOLD), oldest first. */
    signals: {
      rest: "GET /signals",
      openapi: { response: listOf(SIGNAL) },
      params: {
        instrument: { type: "string", empty: false },
        limit: { type: "number", integer: true, positive: true, max: SIGNALS_KEPT, optional: true, convert: true },
      },
      handler(ctx: Context<{ instrument: string; limit?: number }>) {
        return (this.recent.get(ctx.params.instrument)?.toArray() ?? []).slice(-(ctx.params.limit ?? 50));
      },
    },

    /** The active strategy and the trained model versions on disk. */
    models: {
      rest: "GET /models",
      openapi: { response: MODELS },
      async handler() {
        return {
          active: { strategy: this.strategy.name, version: this.strategy.version },
          models: (await listModels(this.modelDir)).map((m) => ({ version: m.version, trainedAt: m.meta.trainedAt, samples: m.meta.samples, metrics: m.meta.metrics })),
        };
      },
    },

    /** Switches strategy or model version without a restart. */
    reload: {
      rest: "POST /models/reload",
      openapi: { operatorOnly: true, response: STRATEGY },
      params: { strategy: { type: "enum", values: ["rule", "lstm"], optional: true }, version: { type: "string", optional: true } },
      async handler(ctx: Context<{ strategy?: StrategyName; version?: string }>) {
        // The strategy serves every portfolio: a trader may not switch it.
        requireOperator(ctx.meta, "reloading the model");
        const name = ctx.params.strategy ?? this.strategyName;
        try {
          this.strategy = await createStrategy(name, { modelDir: this.modelDir, version: ctx.params.version });
        } catch (err) {
          throw invalidField(ctx.params.version ? "version" : "strategy", (err as Error).message, ctx.params.version ?? name);
        }
        this.strategyName = name;
        this.histories.clear();
        return { strategy: this.strategy.name, version: this.strategy.version };
      },
    },
  },

  methods: {
    /** The instrument's recent feature vectors, warmed from the store when first seen. */
    async historyFor(event: FeaturesComputed) {
      let history = this.histories.get(event.instrumentKey);
      if (history) return history;
      history = [];
      if (this.strategy.warmup > 1) {
        const query = { instrument: event.instrumentKey, before: event.openTime, limit: this.strategy.warmup - 1 };
        const stored = await this.broker
          .call<FeaturesComputed[], typeof query>("ingestion.indicators", query, { timeout: WARMUP_TIMEOUT_MS })
          .catch(retriedWhenRetryable(`warm-up of ${event.instrumentKey}`));
        history.push(...stored.map((s) => s.features));
      }
      this.histories.set(event.instrumentKey, history);
      return history;
    },
  },

  created() {
    this.histories = new Map();
    this.recent = new Map();
  },

  async started() {
    const config = platformConfig(this.broker);
    this.modelDir = path.join(config.dataDir, "models", "lstm");
    this.strategyName = config.strategy;
    this.strategy = await createStrategy(config.strategy, { modelDir: this.modelDir, version: config.modelVersion });
    this.logger.info(`strategy ${this.strategy.name} version ${this.strategy.version}`);
  },
};

export default PredictionService;
