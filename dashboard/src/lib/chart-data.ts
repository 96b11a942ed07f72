/**
 * From the API's candles, indicator rows, signals and fills to the Market chart's series and
 * markers (lightweight-charts), plus the rules for merging live candles into the history.
 * Bars are keyed by their open time (UTC seconds on the chart's axis, market time).
 */
import type { CandlestickData, HistogramData, LineData, SeriesMarkerBar, UTCTimestamp, WhitespaceData } from "lightweight-charts";
import type { Candle, DecisionRecord, FeaturesComputed, Fill, MarketInfo, Timeframe, TradingSignal } from "./api";
import { formatConfidence, formatPrice, formatQuantity } from "./format";
import Decimal from "decimal.js";

export const MINUTE_MS = 60_000;

/** The chart's timeframes, as the API serves them: buckets aligned to the UTC epoch (1d from 00:00 UTC). */
export const TIMEFRAME_MS: Record<Timeframe, number> = {
  "1m": MINUTE_MS,
  "5m": 5 * MINUTE_MS,
  "15m": 15 * MINUTE_MS,
  "1h": 60 * MINUTE_MS,
  "4h": 240 * MINUTE_MS,
  "1d": 1440 * MINUTE_MS,
};
export const TIMEFRAMES = Object.keys(TIMEFRAME_MS) as Timeframe[];
export const TIMEFRAME_LABELS: Record<Timeframe, string> = { "1m": "1 minute", "5m": "5 minutes", "15m": "15 minutes", "1h": "1 hour", "4h": "4 hours", "1d": "1 day" };

/** The timeframe a URL asks for; "1m" when it names none or one the API does not have. */
export function timeframeOf(requested: string | undefined): Timeframe {
  return TIMEFRAMES.find((t) => t === requested) ?? "1m";
}

/** The open time of the `timeframe` bucket containing `ms`. */
export const bucketOpenTime = (ms: number, timeframe: Timeframe) => Math.floor(ms / TIMEFRAME_MS[timeframe]) * TIMEFRAME_MS[timeframe];

export const COLORS = {
  up: "#26a69a",
  down: "#ef5350",
  upVolume: "rgba(38, 166, 154, 0.45)",
  downVolume: "rgba(239, 83, 80, 0.45)",
  ema12: "#f5b041",
  ema26: "#5dade2",
  bollinger: "rgba(171, 130, 255, 0.85)",
  bollingerMiddle: "rgba(171, 130, 255, 0.45)",
  rsi: "#c39bd3",
  macd: "#5dade2",
  macdSignal: "#f5b041",
  buy: "#22c55e",
  sell: "#ef4444",
} as const;

export const toChartTime = (ms: number) => Math.floor(ms / 1000) as UTCTimestamp;
/** The open time of the 1-minute bar containing `ms`. */
export const barOpenTime = (ms: number) => Math.floor(ms / MINUTE_MS) * MINUTE_MS;

export function candleBar(c: Candle): CandlestickData<UTCTimestamp> {
  return { time: toChartTime(c.openTime), open: Number(c.open), high: Number(c.high), low: Number(c.low), close: Number(c.close) };
}

export function volumeBar(c: Candle): HistogramData<UTCTimestamp> {
  const up = Number(c.close) >= Number(c.open);
  return { time: toChartTime(c.openTime), value: Number(c.volume), color: up ? COLORS.upVolume : COLORS.downVolume };
}

type Point = LineData<UTCTimestamp> | WhitespaceData<UTCTimestamp>;

/** The indicator lines of the chart, each one point per bar (whitespace while an indicator warms up). */
export const INDICATOR_LINES = ["ema12", "ema26", "bbUpper", "bbMiddle", "bbLower", "rsi14", "macd", "macdSignal"] as const;
export type IndicatorLine = (typeof INDICATOR_LINES)[number];

export function indicatorPoint(row: FeaturesComputed, line: IndicatorLine): Point {
  const time = toChartTime(row.openTime);
  const value = row.features[line];
  return Number.isFinite(value) ? { time, value } : { time };
}

export function macdHistogramBar(row: FeaturesComputed): HistogramData<UTCTimestamp> | WhitespaceData<UTCTimestamp> {
  const time = toChartTime(row.openTime);
  const value = row.features.macdHistogram;
  if (!Number.isFinite(value)) return { time };
  return { time, value, color: value >= 0 ? COLORS.upVolume : COLORS.downVolume };
}

/** A bar's close against its open: the difference and the percentage. */
export function barChange(candle: Pick<Candle, "open" | "close"> | undefined): { delta: string; percent: string } | undefined {
  if (!candle || new Decimal(candle.open).isZero()) return undefined;
  const delta = new Decimal(candle.close).sub(candle.open);
  return { delta: delta.toString(), percent: delta.div(candle.open).mul(100).toString() };
}

/** How a live candle relates to the history already drawn. */
export type CandlePlacement = "append" | "replace" | "gap" | "older";

export function placeCandle(lastOpenTime: number | undefined, openTime: number, timeframe: Timeframe = "1m"): CandlePlacement {
  if (lastOpenTime === undefined) return "gap";
  if (openTime === lastOpenTime + TIMEFRAME_MS[timeframe]) return "append";
  if (openTime === lastOpenTime) return "replace";
  return openTime > lastOpenTime ? "gap" : "older";
}

/** Rows sorted by open time, with `incoming` replacing rows of the same open time; at most `keep`, newest kept. */
export function mergeByOpenTime<Row extends { openTime: number }>(rows: readonly Row[], incoming: readonly Row[], keep: number): Row[] {
  const byTime = new Map<number, Row>();
  for (const row of rows) byTime.set(row.openTime, row);
  for (const row of incoming) byTime.set(row.openTime, row);
  const merged = [...byTime.values()].sort((a, b) => a.openTime - b.openTime);
  return merged.length > keep ? merged.slice(merged.length - keep) : merged;
}

/**
 * A marker and what it means. The chart draws markers without text (dozens of labels on a busy
 * chart overlap); the legend shows the labels of the bar under the crosshair.
 */
export type ChartMarker = SeriesMarkerBar<UTCTimestamp> & { id: string; label: string };

/** BUY/SELL signals as arrows on the bar holding the candle they were computed on (HOLDs are not drawn). */
export function signalMarkers(signals: readonly TradingSignal[], timeframe: Timeframe = "1m"): ChartMarker[] {
  return signals
    .filter((s) => s.action !== "HOLD")
    .map((s) => {
      const buy = s.action === "BUY";
      return {
        time: toChartTime(bucketOpenTime(s.marketTime, timeframe)),
        position: buy ? "belowBar" : "aboveBar",
        shape: buy ? "arrowUp" : "arrowDown",
        color: buy ? COLORS.buy : COLORS.sell,
        id: `signal:${s.signalId}`,
        label: `${s.action} signal ${formatConfidence(s.confidence)}`,
      };
    });
}

/**
 * One marker per filled order, on the bar after the candle of the signal behind it (found through
 * the approved decision with the order's client order id). Fills carry the venue's wall-clock time
 * while bars are in market time (the simulator's clock runs SIM_SPEED times faster), so the fill's
 * own timestamp cannot place it; the order executes right after the signal's candle closes (on a
 * longer timeframe, the marker goes on the bar holding that minute).
 * Several fills of one order (a market order walking the book) make one marker with the total
 * quantity and the volume-weighted price.
 */
export function fillMarkers(fills: readonly Fill[], approved: readonly DecisionRecord[], market?: MarketInfo, timeframe: Timeframe = "1m"): ChartMarker[] {
  const signalTimeOf = new Map(approved.filter((d) => d.clientOrderId).map((d) => [d.clientOrderId!, d.signal.marketTime]));
  const orders = new Map<string, { side: Fill["side"]; quantity: Decimal; notional: Decimal; signalTime: number }>();
  for (const fill of fills) {
    const signalTime = signalTimeOf.get(fill.clientOrderId);
    if (signalTime === undefined) continue;
    const order = orders.get(fill.clientOrderId) ?? { side: fill.side, quantity: new Decimal(0), notional: new Decimal(0), signalTime };
    order.quantity = order.quantity.add(fill.quantity);
    order.notional = order.notional.add(new Decimal(fill.quantity).mul(fill.price));
    orders.set(fill.clientOrderId, order);
  }
  return [...orders.entries()].map(([clientOrderId, o]) => {
    const buy = o.side === "BUY";
    const price = o.quantity.isZero() ? undefined : o.notional.div(o.quantity).toString();
    return {
      time: toChartTime(bucketOpenTime(barOpenTime(o.signalTime) + MINUTE_MS, timeframe)),
      position: buy ? "belowBar" : "aboveBar",
      shape: "circle",
      color: buy ? COLORS.buy : COLORS.sell,
      id: `fill:${clientOrderId}`,
      label: `${buy ? "Bought" : "Sold"} ${formatQuantity(o.quantity.toString(), market)} @ ${formatPrice(price, market)}`,
    };
  });
}

/** Markers on bars the chart has, in time order (the chart requires it); later duplicates of an id win. */
export function markersWithin(markers: readonly ChartMarker[], firstBar: UTCTimestamp | undefined, lastBar: UTCTimestamp | undefined): ChartMarker[] {
  if (firstBar === undefined || lastBar === undefined) return [];
  const byId = new Map<string, ChartMarker>();
  for (const m of markers) if (m.time >= firstBar && m.time <= lastBar) byId.set(m.id, m);
  return [...byId.values()].sort((a, b) => a.time - b.time);
}
