/**
 * Prediction Engine: runs the configured strategy (STRATEGY=rule, the RSI/MACD rules, or lstm, a
 * trained TensorFlow.js model) on each instrument's feature vectors and publishes BUY/SELL/HOLD
 * signals with the strategy, model version, confidence and the features used. Signal ids are
 * deterministic per (strategy, instrument, candle), so a replay cannot create a second trade.
 */
import path from "node:path";
import type { Context, ServiceSchema, ServiceSettingSchema } from "moleculer";
import { TopicsMixin, type TopicMethods } from "../mixins/topics.mixin";
import { type Envelope, type FeaturesComputed, type FeatureVector, TOPICS, TradingSignal } from "../schemas";
import { MODELS, STRATEGY, listOf } from "../schemas/api";
import { PREDICTION_PARAMS } from "../schemas/requests/prediction";
import { platformConfig } from "../lib/config";
import { RingsByKey } from "../lib/ring-buffer";
import { createStrategy, type StrategyName } from "../lib/strategies";
import { SIGNALS_KEPT, appendFeatures, signalOf } from "../lib/strategies/signals";
import type { Strategy } from "../lib/strategies/types";
import { listModels } from "../lib/ml/model-store";
import { invalidField, retriedWhenRetryable } from "../lib/errors";
import { requireOperator } from "../lib/auth";

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
  recent: RingsByKey<TradingSignal>;
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
        appendFeatures(history, event.features, this.strategy);
        const decision = await this.strategy.evaluate({ instrumentKey: event.instrumentKey, features: event.features, history });
        const signal = signalOf(this.strategy, event, decision);
        await this.publish(TOPICS.tradingSignals, signal, { traceId: envelope.traceId });
        this.recent.push(event.instrumentKey, signal);
      },
    },
  },

  actions: {
    /** Recent signals of an instrument (BUY/SELL/HOLD), oldest first. */
    signals: {
      rest: "GET /signals",
      openapi: { response: listOf(TradingSignal) },
      params: PREDICTION_PARAMS.signals,
      handler(ctx: Context<{ instrument: string; limit?: number }>) {
        return this.recent.newest(ctx.params.instrument, ctx.params.limit ?? 50);
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
      params: PREDICTION_PARAMS.reload,
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
    this.recent = new RingsByKey(SIGNALS_KEPT);
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
