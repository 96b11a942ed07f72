/**
 * Indicators of candles that never came live (backfilled on registration or after downtime): which
 * stored candles a calculator catches up on, and the indicator rows that gives. Ingestion stores
 * the rows; the features service only wires the calls.
 */
import { type Candle, type FeatureVector, type FeaturesComputed, parseInstrumentKey } from "../../schemas";
import { COLD_START_CANDLES, FeatureCalculator } from "./streaming-features";

/** The most candles one `ingestion.candles` call returns. */
export const CANDLE_PAGE = 5000;

/** The indicator row of a candle (of its timeframe), as published on `features.indicators` and stored by ingestion. */
export function indicatorRow(candle: Candle, features: FeatureVector, receivedAt: number): FeaturesComputed {
  return {
    instrumentKey: candle.instrumentKey,
    ...parseInstrumentKey(candle.instrumentKey),
    timeframe: candle.timeframe,
    openTime: candle.openTime,
    closeTime: candle.closeTime,
    close: candle.close,
    features,
    receivedAt,
  };
}

/** The `ingestion.candles` query of a catch-up before `before`: a page after the calculator's last candle, or without one the latest cold-start window. */
export function catchUpQuery(instrumentKey: string, before: number, after: number | undefined): Record<string, unknown> {
  return { instrument: instrumentKey, before, ...(after === undefined ? { limit: COLD_START_CANDLES } : { after, limit: CANDLE_PAGE }) };
}

/**
 * Feeds the stored candles (the answer to `catchUpQuery`) to the calculator and gives their rows.
 * Without a calculator, or further behind than one page of candles, it starts cold on the latest
 * COLD_START_CANDLES, whose memory of the start has decayed. Undefined when there is nothing to feed.
 */
export function catchUp(
  current: FeatureCalculator | undefined,
  stored: readonly Candle[],
): { calculator: FeatureCalculator; rows: FeaturesComputed[]; resumed: boolean } | undefined {
  const resumed = current?.lastCandleOpenTime !== undefined && stored.length < CANDLE_PAGE;
  const candles = resumed ? stored : stored.slice(-COLD_START_CANDLES);
  if (candles.length === 0) return undefined;
  const calculator = resumed ? current! : new FeatureCalculator();
  return { calculator, rows: historyRows(calculator, candles), resumed };
}

/** Feeds candles that never came live to the calculator and gives their indicator rows, whose receipt time is the candle's close time. */
export function historyRows(calculator: FeatureCalculator, candles: readonly Candle[]): FeaturesComputed[] {
  const rows: FeaturesComputed[] = [];
  for (const candle of candles) {
    const features = calculator.update(candle);
    if (features) rows.push(indicatorRow(candle, features, candle.closeTime));
  }
  return rows;
}
