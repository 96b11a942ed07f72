/** The live stream (`GET /api/stream`): each Server-Sent Event's name and the JSON of its data. */
import { Type, type Static } from "@sinclair/typebox";
import { Count, EpochMs, Nullable, StringEnum } from "./common";
import { InstrumentKey } from "./keys";
import { Candle, FeaturesComputed } from "./market";
import { Fill } from "./orders";
import { PortfolioSnapshot } from "./portfolio";
import { TradeApproved, TradeRejected, TradingSignal } from "./trading";

export const LiveEvents = Type.Object({
  /** First event of every connection: the dashboard resynchronises its views when it reconnects. */
  hello: Type.Object({ serverStartedAt: EpochMs, heartbeatMs: Count }),
  portfolio: PortfolioSnapshot,
  /** A closed 1-minute candle with its indicators; `candle` is null when the market data store has not stored it yet. */
  candle: Type.Object({ instrumentKey: InstrumentKey, candle: Nullable(Candle), indicators: FeaturesComputed }),
  signal: TradingSignal,
  decision: Type.Union([
    Type.Composite([Type.Object({ outcome: StringEnum(["approved"]) }), TradeApproved]),
    Type.Composite([Type.Object({ outcome: StringEnum(["rejected"]) }), TradeRejected]),
  ]),
  fill: Fill,
});
/** What `GET /api/stream` pushes: the SSE event name and its JSON data. */
export type LiveEvents = Static<typeof LiveEvents>;
export type LiveEventName = keyof LiveEvents;

export const LIVE_EVENT_NAMES = Object.keys(LiveEvents.properties) as LiveEventName[];

/** Each event as an SSE client reads it, for the OpenAPI document: its name and its JSON text. */
export const LiveEventFrame = Type.Object({ event: StringEnum(LIVE_EVENT_NAMES), data: Type.String() });
