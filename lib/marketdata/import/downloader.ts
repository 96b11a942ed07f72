/**
 * Downloads closed 1-minute candles of one instrument from an exchange (ccxt `fetchOHLCV`) into the
 * market data store, paging forward a page at a time and writing each page as it comes, with its
 * indicators. It resumes: it starts after the newest candle stored in [from, to), so an interrupted
 * download continues and a finished one fetches nothing.
 */
import { isoTime, sleep, type Clock } from "../../clock";
import { VenueError, isRetryableVenueCode } from "../../errors";
import type { ProgressFactory } from "../../progress";
import type { CcxtConnection } from "../../venue/ccxt-connection";
import { decimalOf } from "../../venue/ccxt-convert";
import { instrumentKeyOf } from "../../../schemas";
import { MINUTE_MS, type MarketDataStore, type MinuteCandle } from "../types";
import { CandleSequence, ImportError, ImportInterrupted, RowError, decimalField } from "./candle-rows";
import { IndicatorWriter } from "./indicators";

/** A bar as ccxt gives it: [time, open, high, low, close, volume], numbers (or strings). */
export type OhlcvBar = ReadonlyArray<number | string | undefined | null>;

/** Where the bars come from: a ccxt exchange's fetchOHLCV for "1m", through the platform's connection. */
export interface OhlcvSource {
  /** Bars one request returns at most (ccxt's `features.spot.fetchOHLCV.limit`; Binance: 1000). */
  readonly pageLimit: number;
  fetchMinuteBars(symbol: string, since: number, limit: number): Promise<OhlcvBar[]>;
}

/** The 1-minute bars of a ccxt exchange, through the platform's connection (its rate limiter, breaker and endpoint overrides). */
export function ccxtMinuteBars(connection: CcxtConnection): OhlcvSource {
  const features = connection.exchange.features as { spot?: { fetchOHLCV?: { limit?: number } } } | undefined;
  return {
    // The exchange's largest page; ccxt's default when it states none.
    pageLimit: features?.spot?.fetchOHLCV?.limit ?? 500,
    fetchMinuteBars: (symbol, since, limit) => connection.rest((exchange) => exchange.fetchOHLCV(symbol, "1m", since, limit)),
  };
}

export interface DownloadRequest {
  exchange: string;
  symbol: string;
  from: number;
  /** Exclusive; by default (and at most) the start of the current minute: only closed candles. */
  to?: number;
}

/** Tries of one page while the exchange is unreachable or rate-limits us, the wait doubling between them. */
const PAGE_TRIES = 5;

export interface DownloadOptions {
  clock: Clock;
  /** The first wait before a page is asked for again (default 1 s: 1, 2, 4, 8 s). */
  retryDelayMs?: number;
  progress?: ProgressFactory;
  /** Aborted: stop between pages (ImportInterrupted); a re-run continues from there. */
  signal?: AbortSignal;
}

export interface Download {
  instrumentKey: string;
  /** Where this run started (after what was stored) and the end of the range. */
  resumedAt: number;
  to: number;
  candles: number;
  requests: number;
  indicators: number;
}

function candleOfBar(instrumentKey: string, bar: OhlcvBar): MinuteCandle {
  const value = (index: number, field: string) => {
    const text = decimalOf(bar[index]);
    if (text === undefined) throw new RowError(`${field} is missing`);
    return decimalField(text, field);
  };
  return {
    instrumentKey,
    openTime: Number(bar[0]),
    open: value(1, "open"),
    high: value(2, "high"),
    low: value(3, "low"),
    close: value(4, "close"),
    volume: value(5, "volume"),
    // ccxt's OHLCV carries no trade count.
    tradeCount: 0,
  };
}

/** A page of bars, asked for again after a wait while the exchange is unreachable or rate-limits (a long download outlives a blip). */
async function fetchPage(source: OhlcvSource, symbol: string, since: number, limit: number, options: DownloadOptions): Promise<OhlcvBar[]> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await source.fetchMinuteBars(symbol, since, limit);
    } catch (err) {
      const retryable = err instanceof VenueError && isRetryableVenueCode(err.code);
      if (!retryable || attempt === PAGE_TRIES || options.signal?.aborted) throw err;
      await sleep((options.retryDelayMs ?? 1000) * 2 ** (attempt - 1));
    }
  }
}

export async function downloadCandles(store: MarketDataStore, source: OhlcvSource, request: DownloadRequest, options: DownloadOptions): Promise<Download> {
  const { clock, signal } = options;
  const instrumentKey = instrumentKeyOf(request.exchange, request.symbol);
  const openMinute = Math.floor(clock.now() / MINUTE_MS) * MINUTE_MS;
  const to = Math.min(request.to ?? openMinute, openMinute);
  const from = Math.ceil(request.from / MINUTE_MS) * MINUTE_MS;
  const label = `${request.exchange} ${request.symbol}`;
  if (to <= from) return { instrumentKey, resumedAt: from, to, candles: 0, requests: 0, indicators: 0 };

  const [newest] = await store.recentCandles(instrumentKey, "1m", { after: from - 1, before: to, limit: 1 });
  const resumedAt = newest ? newest.openTime + MINUTE_MS : from;
  // Indicators pick up after the newest stored one in the range: an earlier run may have stopped between a page and its indicators.
  const [newestIndicator] = await store.recentIndicators(instrumentKey, { after: from - 1, before: resumedAt, limit: 1 });
  const indicatorsFrom = newestIndicator ? newestIndicator.openTime + MINUTE_MS : from;
  const indicators = await IndicatorWriter.startingAt(store, instrumentKey, indicatorsFrom);
  await indicators.addStored(indicatorsFrom, resumedAt);

  const progress = options.progress?.(`download ${label}`, Math.max(0, (to - resumedAt) / MINUTE_MS), "minutes");
  const sequence = new CandleSequence(label);
  let candles = 0;
  let requests = 0;
  let since = resumedAt;
  while (since < to) {
    if (signal?.aborted) throw new ImportInterrupted(label, candles, (to - resumedAt) / MINUTE_MS);
    const limit = Math.min(source.pageLimit, Math.ceil((to - since) / MINUTE_MS));
    const bars = await fetchPage(source, request.symbol, since, limit, options);
    requests++;
    const page: MinuteCandle[] = [];
    for (const bar of bars) {
      const openTime = Number(bar[0]);
      if (!(openTime >= since && openTime < to)) continue;
      let candle: MinuteCandle;
      try {
        candle = candleOfBar(instrumentKey, bar);
      } catch (err) {
        if (err instanceof RowError) throw new ImportError(label, undefined, `candle at ${isoTime(openTime)}: ${err.message}`);
        throw err;
      }
      if (sequence.accept({ candle })) page.push(candle);
    }
    if (page.length === 0) break;
    await store.writeCandles(page);
    await indicators.add(page);
    candles += page.length;
    // Minutes without a candle (the exchange had no trades, or was down) are skipped over, not waited for.
    progress?.advance((page.at(-1)!.openTime + MINUTE_MS - since) / MINUTE_MS);
    since = page.at(-1)!.openTime + MINUTE_MS;
  }
  await indicators.finish();
  progress?.finish();
  return { instrumentKey, resumedAt, to, candles, requests, indicators: indicators.written };
}
