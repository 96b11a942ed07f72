/**
 * The dashboard's client of the platform's REST API (`/api`, bearer token). Failures become
 * `ApiError`s carrying the HTTP status and, for 422 answers, the message of each invalid field, so
 * forms can show them next to the inputs.
 */
import type { Candle, FeaturesComputed, InstrumentRecord, MarketCoverage, MarketInfo, Timeframe } from "../../../schemas/market";
import type { DecisionRecord, TradingSignal } from "../../../schemas/trading";
import type { Fill, OrderRecord } from "../../../schemas/orders";
import type { AccountView, EquityPoint, PortfolioDetail, PortfolioSnapshot, PortfolioSummary, RiskLimits, TraderBudget } from "../../../schemas/portfolio";
import type { Health, TopicStatsRow } from "../../../schemas/system";

export type {
  AccountView,
  Candle,
  DecisionRecord,
  EquityPoint,
  FeaturesComputed,
  Fill,
  Health,
  InstrumentRecord,
  MarketCoverage,
  MarketInfo,
  OrderRecord,
  PortfolioDetail,
  PortfolioSnapshot,
  PortfolioSummary,
  RiskLimits,
  Timeframe,
  TopicStatsRow,
  TraderBudget,
  TradingSignal,
};

export interface Page {
  limit?: number;
  offset?: number;
}

/** Bars of one timeframe: the newest `limit` with open times between `after` and `before` (both exclusive). */
export interface BarsQuery {
  timeframe: Timeframe;
  limit: number;
  before?: number;
  after?: number;
}

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    /** Field name → reason, from a 422 answer. */
    readonly fields: Record<string, string> = {},
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/** The message of each invalid field in a 422 body (`data: [{ field, message }]`); the first one per field. */
export function fieldErrorsOf(body: unknown): Record<string, string> {
  const data = (body as { data?: unknown } | null)?.data;
  const fields: Record<string, string> = {};
  if (!Array.isArray(data)) return fields;
  for (const item of data) {
    const { field, message } = (item ?? {}) as { field?: unknown; message?: unknown };
    if (typeof field === "string" && typeof message === "string" && !(field in fields)) fields[field] = message;
  }
  return fields;
}

/** A one-line explanation of any error a call can throw, for error banners. */
export function describeError(err: unknown): string {
  if (err instanceof ApiError) return err.status === 0 ? err.message : `${err.message} (HTTP ${err.status})`;
  return err instanceof Error ? err.message : String(err);
}

type Query = Record<string, string | number | undefined>;

export interface ApiClientOptions {
  /** The signed-in token, read at each call. */
  token(): string | null;
  /** Called when the server refuses the token (401), e.g. to sign out. */
  onUnauthorized?(): void;
  fetch?: typeof fetch;
  baseUrl?: string;
}

export class ApiClient {
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: ApiClientOptions) {
    this.fetchImpl = options.fetch ?? ((input, init) => fetch(input, init));
  }

  /**
   * The portfolios `token` may see, or undefined when the server refuses it (401). Other failures
   * (server down) throw, so sign-in can tell "wrong token" from "cannot reach the platform".
   */
  async portfoliosFor(token: string): Promise<PortfolioSummary[] | undefined> {
    try {
      return await this.request<PortfolioSummary[]>("GET", "/portfolios", { token, quietUnauthorized: true });
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) return undefined;
      throw err;
    }
  }

  /** Readiness answers 503 with the same report while the platform is unavailable: the System view shows it either way. */
  health = () => this.request<Health>("GET", "/health", { reportOn503: true });
  topics = () => this.request<TopicStatsRow[]>("GET", "/topics");

  instruments = () => this.request<InstrumentRecord[]>("GET", "/instruments");
  registerInstrument = (body: { exchange: string; symbol: string; portfolioId?: string }) =>
    this.request<InstrumentRecord>("POST", "/instruments", { body });
  unregisterInstrument = (instrumentKey: string, portfolioId?: string) =>
    this.request<InstrumentRecord>("DELETE", `/instruments/${encodeURIComponent(instrumentKey)}`, { query: { portfolioId } });

  portfolios = () => this.request<PortfolioSummary[]>("GET", "/portfolios");
  portfolio = (id: string) => this.request<PortfolioDetail>("GET", `/portfolios/${encodeURIComponent(id)}`);
  equity = (id: string, limit?: number) => this.request<EquityPoint[]>("GET", `/portfolios/${encodeURIComponent(id)}/equity`, { query: { limit } });
  orders = (id: string, page: Page & { status?: string } = {}) => this.request<OrderRecord[]>("GET", `/portfolios/${encodeURIComponent(id)}/orders`, { query: { ...page } });
  fills = (id: string, page: Page = {}) => this.request<Fill[]>("GET", `/portfolios/${encodeURIComponent(id)}/fills`, { query: { ...page } });
  decisions = (id: string, filter: Page & { outcome?: string; reason?: string } = {}) =>
    this.request<DecisionRecord[]>("GET", `/portfolios/${encodeURIComponent(id)}/decisions`, { query: { ...filter } });
  setLimits = (id: string, patch: Partial<Record<keyof RiskLimits, string | number>>) =>
    this.request<RiskLimits>("PATCH", `/portfolios/${encodeURIComponent(id)}/limits`, { body: patch });
  halt = (id: string, reason?: string) => this.request<PortfolioSnapshot>("POST", `/portfolios/${encodeURIComponent(id)}/halt`, { body: reason ? { reason } : {} });
  resume = (id: string) => this.request<PortfolioSnapshot>("POST", `/portfolios/${encodeURIComponent(id)}/resume`, { body: {} });
  /** The account-wide gate; in live trading `funding`: what is handed out against the exchange account's balance. */
  account = () => this.request<AccountView>("GET", "/account");
  /** Every trader's budget: the operator's; a trader gets 403. */
  traders = () => this.request<TraderBudget[]>("GET", "/traders");
  trader = (id: string) => this.request<TraderBudget>("GET", `/traders/${encodeURIComponent(id)}`);
  setTrader = (id: string, patch: { allowance?: string; ceilings?: Partial<Record<keyof RiskLimits, string | number | null>> }) =>
    this.request<TraderBudget>("PATCH", `/traders/${encodeURIComponent(id)}`, { body: patch });

  candles = (instrument: string, bars: BarsQuery) => this.request<Candle[]>("GET", "/market/candles", { query: { instrument, ...bars } });
  indicators = (instrument: string, bars: BarsQuery) => this.request<FeaturesComputed[]>("GET", "/market/indicators", { query: { instrument, ...bars } });
  /** What the market data store holds per instrument (all, or the one named): time range, rows, gaps. */
  coverage = (instrument?: string) => this.request<MarketCoverage[]>("GET", "/market/coverage", { query: { instrument } });
  signals = (instrument: string, limit: number) => this.request<TradingSignal[]>("GET", "/signals", { query: { instrument, limit } });

  private async request<T>(
    method: string,
    path: string,
    options: { query?: Query; body?: unknown; token?: string; quietUnauthorized?: boolean; reportOn503?: boolean } = {},
  ): Promise<T> {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(options.query ?? {})) if (value !== undefined && value !== "") params.set(name, String(value));
    const url = `${this.options.baseUrl ?? ""}/api${path}${params.size > 0 ? `?${params}` : ""}`;
    const headers: Record<string, string> = { accept: "application/json" };
    const token = options.token ?? this.options.token();
    if (token) headers.authorization = `Bearer ${token}`;
    if (options.body !== undefined) headers["content-type"] = "application/json";

    let res: Response;
    try {
      res = await this.fetchImpl(url, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) });
    } catch {
      throw new ApiError("cannot reach the platform", 0);
    }
    const text = await res.text();
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = undefined;
    }
    if (res.ok) return body as T;
    if (res.status === 503 && options.reportOn503 && typeof body === "object" && body !== null && "services" in body) return body as T;
    if (res.status === 401 && !options.quietUnauthorized) this.options.onUnauthorized?.();
    const message = (body as { message?: unknown } | undefined)?.message;
    throw new ApiError(typeof message === "string" ? message : res.statusText || "request failed", res.status, fieldErrorsOf(body));
  }
}
