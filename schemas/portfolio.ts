/**
 * Portfolio contracts: the snapshot of `portfolio.updated`, risk limits, the portfolio, account and
 * trader records the risk service keeps, the equity history, and the views of them the API answers.
 */
import { Type, type Static } from "@sinclair/typebox";
import { Closed, Count, DecimalString, EpochMs, Probability, StringEnum, Text } from "./common";
import { InstrumentKey } from "./keys";

export const PositionSnapshot = Closed({
  instrumentKey: InstrumentKey,
  quantity: DecimalString,
  averageCost: DecimalString,
  markPrice: DecimalString,
  marketValue: DecimalString,
  unrealizedPnl: DecimalString,
  realizedPnl: DecimalString,
  fees: DecimalString,
});
export type PositionSnapshot = Static<typeof PositionSnapshot>;

/** What made the risk service publish a snapshot. */
export const SnapshotCause = StringEnum(["created", "fill", "order", "halt", "resume", "limits", "mark"]);

/** `portfolio.updated` v1. */
export const PortfolioSnapshotV1 = Closed({
  portfolioId: Text,
  cash: DecimalString,
  equity: DecimalString,
  realizedPnl: DecimalString,
  unrealizedPnl: DecimalString,
  fees: DecimalString,
  exposure: DecimalString,
  halted: Type.Boolean(),
  haltReason: Type.Optional(Text),
  openOrders: Count,
  positions: Type.Array(PositionSnapshot),
  cause: SnapshotCause,
  updatedAt: EpochMs,
});

/** v2 adds the owning trader (absent for the operator's portfolios): the gateway scopes live pushes by it. */
export const PortfolioSnapshot = Closed({ ...PortfolioSnapshotV1.properties, owner: Type.Optional(Text) });
export type PortfolioSnapshot = Static<typeof PortfolioSnapshot>;

/** A portfolio's risk limits. */
export const RiskLimits = Type.Object({
  /** Size of one BUY, in quote currency. */
  orderNotional: DecimalString,
  maxOrderNotional: DecimalString,
  /** Per instrument. */
  maxPositionNotional: DecimalString,
  /** Fraction of equity. */
  maxExposure: DecimalString,
  maxOpenOrders: Count,
  /** Quote amount. */
  dailyLossLimit: DecimalString,
  /** Fraction of peak equity. */
  maxDrawdown: DecimalString,
  minConfidence: Probability,
  maxDataAgeMs: Count,
});
export type RiskLimits = Static<typeof RiskLimits>;

export const PortfolioRecord = Type.Object({
  portfolioId: Type.String(),
  name: Type.String(),
  /** The trader who owns it (TRADER_TOKENS); absent for the operator's portfolios. */
  owner: Type.Optional(Type.String()),
  startCash: DecimalString,
  limits: RiskLimits,
  halted: Type.Boolean(),
  haltReason: Type.Optional(Type.String()),
  dayKey: Type.String(),
  dayStartEquity: DecimalString,
  peakEquity: DecimalString,
  createdAt: EpochMs,
  updatedAt: EpochMs,
});
export type PortfolioRecord = Static<typeof PortfolioRecord>;

/** A portfolio's figures and limits: what creating one answers. */
export const CreatedPortfolio = Type.Composite([PortfolioSnapshot, Type.Pick(PortfolioRecord, ["limits"])]);

/** A portfolio in the API's lists: its figures, limits and name. */
export const PortfolioSummary = Type.Composite([CreatedPortfolio, Type.Pick(PortfolioRecord, ["name"])]);
export type PortfolioSummary = Static<typeof PortfolioSummary>;

/** One portfolio in full. */
export const PortfolioDetail = Type.Composite([
  Type.Omit(PortfolioSummary, ["haltReason"]),
  Type.Pick(PortfolioRecord, ["startCash", "dayStartEquity", "peakEquity", "haltReason"]),
]);
export type PortfolioDetail = Static<typeof PortfolioDetail>;

/** The account-wide limits the operator set; an absent one is derived from the portfolios. */
export const AccountLimits = Type.Object({
  /** Quote amount over all portfolios. */
  maxExposure: Type.Optional(DecimalString),
  /** Working orders over all portfolios. */
  maxOpenOrders: Type.Optional(Count),
});
export type AccountLimits = Static<typeof AccountLimits>;

export const AccountRecord = Type.Object({
  halted: Type.Boolean(),
  haltReason: Type.Optional(Type.String()),
  limits: AccountLimits,
  updatedAt: EpochMs,
});
export type AccountRecord = Static<typeof AccountRecord>;

/** In live trading: what the portfolios' start cash takes of the exchange account's balance. */
export const Funding = Type.Object({
  currency: Type.String(),
  balance: DecimalString,
  allocated: DecimalString,
  headroom: DecimalString,
  checkedAt: EpochMs,
});
export type Funding = Static<typeof Funding>;

/** The account-wide gate as the API shows it: kill switch, limits, usage over all portfolios. */
export const AccountView = Type.Composite([
  AccountRecord,
  Type.Object({
    exposure: DecimalString,
    openOrders: Count,
    effectiveLimits: Type.Required(AccountLimits),
    funding: Type.Optional(Funding),
  }),
]);
export type AccountView = Static<typeof AccountView>;

export const TraderRecord = Type.Object({
  traderId: Type.String(),
  /** Set by the operator; absent means the platform's default (TRADER_ALLOWANCE). */
  allowance: Type.Optional(DecimalString),
  /** The operator's ceilings for this trader; absent fields take the default limits. */
  ceilings: Type.Partial(RiskLimits),
  updatedAt: EpochMs,
});
export type TraderRecord = Static<typeof TraderRecord>;

/** A trader's budget as the API shows it. */
export const TraderBudget = Type.Object({
  traderId: Type.String(),
  allowance: DecimalString,
  /** Start cash of the trader's portfolios. */
  used: DecimalString,
  /** What is left to allocate: allowance − used; negative only if TRADER_ALLOWANCE was lowered below what a trader holds. */
  free: DecimalString,
  ceilings: RiskLimits,
  portfolioIds: Type.Array(Type.String()),
});
export type TraderBudget = Static<typeof TraderBudget>;

/** A portfolio's figures after one `portfolio.updated`: a point of its equity curve. */
export const EquityPoint = Type.Object({
  portfolioId: Type.String(),
  time: EpochMs,
  equity: DecimalString,
  cash: DecimalString,
  realizedPnl: DecimalString,
  unrealizedPnl: DecimalString,
  cause: SnapshotCause,
});
export type EquityPoint = Static<typeof EquityPoint>;
