/**
 * Indicators of the larger timeframes (5m … 1d), computed when asked rather than stored: the store
 * resamples the 1-minute candles and the same streaming FeatureCalculator as the live 1-minute
 * indicators runs over the timeframe's candles, warmed up on the COLD_START_CANDLES candles before the
 * window, so a row's values are those of a run over the whole history (features.test.ts bounds the
 * difference). The newest bucket may still be filling: its row is that of the candle so far.
 */
import type { FeaturesComputed } from "../../schemas";
import type { MarketDataStore, RecentWindow, Timeframe } from "../marketdata/types";
import { historyRows } from "./history";
import { COLD_START_CANDLES, FeatureCalculator } from "./streaming-features";

/** The indicator rows of the newest `window.limit` candles of `timeframe` in the window, oldest first (fewer while the history is too short to warm up). */
export async function timeframeIndicators(
  store: Pick<MarketDataStore, "recentCandles">,
  instrumentKey: string,
  timeframe: Timeframe,
  window: RecentWindow,
): Promise<FeaturesComputed[]> {
  const candles = await store.recentCandles(instrumentKey, timeframe, window);
  if (candles.length === 0) return [];
  // The warm-up comes before the window's first candle, also when the window starts `after` a time.
  const warmUp = await store.recentCandles(instrumentKey, timeframe, { before: candles[0]!.openTime, limit: COLD_START_CANDLES });
  const calculator = new FeatureCalculator();
  for (const candle of warmUp) calculator.update(candle);
  return historyRows(calculator, candles);
}
