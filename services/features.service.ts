/**
 * Feature Engineering: streaming indicators per instrument on closed 1-minute candles (constant work
 * per candle). An instrument seen for the first time, after registration or a restart, is warmed up
 * from the stored candle history first, so indicators are ready at once.
 */
import type { ServiceSchema, ServiceSettingSchema } from "moleculer";
import { TopicsMixin, type TopicMethods } from "../mixins/topics.mixin";
import { TOPICS } from "../schemas";
import type { Envelope } from "../schemas/events";
import { FeatureCalculator, WARMUP_CANDLES } from "../lib/features/streaming-features";
import type { Candle, CandleEvent, MarketEvent } from "../lib/types";

/** Candles replayed on warm-up: several times the indicators' warm-up so the EMAs settle. */
const WARMUP_HISTORY = WARMUP_CANDLES * 5;

interface FeaturesLocals {
  calculators: Map<string, FeatureCalculator>;
}

interface FeaturesMethods extends TopicMethods {
  calculatorFor(candle: CandleEvent): Promise<FeatureCalculator>;
}

const FeaturesService: ServiceSchema<ServiceSettingSchema, FeaturesMethods, FeaturesLocals> = {
  name: "features",
  dependencies: ["ingestion"],
  mixins: [TopicsMixin()],

  topics: {
    [TOPICS.marketRawData]: {
      async handler(event: MarketEvent, envelope: Envelope<MarketEvent>) {
        if (event.kind !== "candle" || !event.closed) return;
        const calculator = await this.calculatorFor(event);
        const last = calculator.lastCandleOpenTime;
        if (last !== undefined && event.openTime <= last) return; // redelivered or already warmed from history
        const features = calculator.update(event);
        if (!features) return;
        await this.publish(
          TOPICS.featuresIndicators,
          {
            instrumentKey: event.instrumentKey,
            exchange: event.exchange,
            symbol: event.symbol,
            timeframe: "1m",
            openTime: event.openTime,
            closeTime: event.closeTime,
            close: event.close,
            features,
            receivedAt: event.receivedAt,
          },
          { traceId: envelope.traceId },
        );
      },
    },
  },

  methods: {
    async calculatorFor(candle: CandleEvent) {
      let calculator = this.calculators.get(candle.instrumentKey);
      if (calculator) return calculator;
      calculator = new FeatureCalculator();
      const history = await this.broker.call<Candle[], { instrument: string; before: number; limit: number }>("ingestion.candles", {
        instrument: candle.instrumentKey,
        before: candle.openTime,
        limit: WARMUP_HISTORY,
      });
      for (const c of history) calculator.update(c);
      this.calculators.set(candle.instrumentKey, calculator);
      return calculator;
    },
  },

  created() {
    this.calculators = new Map();
  },
};

export default FeaturesService;
