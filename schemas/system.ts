/** What the platform says of itself: readiness and its causes, the topics' message counts and lags. */
import { Type, type Static } from "@sinclair/typebox";
import { Count, StringEnum } from "./common";

export const HealthCauseKind = StringEnum([
  "service_down",
  "routes_pending",
  "store_unreachable",
  "bus_unreachable",
  "exchange_circuit_open",
  "market_data_stale",
  "lag_growing",
]);
export type HealthCauseKind = Static<typeof HealthCauseKind>;

export const HealthCause = Type.Object({
  kind: HealthCauseKind,
  message: Type.String(),
  /** What the cause is about: a service, an instrument, a topic/group. */
  subject: Type.Optional(Type.String()),
});
export type HealthCause = Static<typeof HealthCause>;

/** The readiness answer (`GET /api/health`), 200 or 503. */
export const Health = Type.Object({
  status: Type.String(),
  /** False (HTTP 503) while a service is missing or the gateway's routes are not all there. */
  ready: Type.Optional(Type.Boolean()),
  /** Why the platform is not `ok`, one entry per cause. */
  causes: Type.Optional(Type.Array(HealthCause)),
  uptimeSeconds: Count,
  bus: Type.String(),
  services: Type.Array(Type.String()),
});
export type Health = Static<typeof Health>;

export const Liveness = Type.Object({ status: Type.String(), uptimeSeconds: Count });

export const GroupLag = Type.Object({
  group: Type.String(),
  /** Messages published but not yet committed by the group, summed over partitions. */
  lag: Type.Integer(),
  members: Type.Integer(),
});
export type GroupLag = Static<typeof GroupLag>;

/** One topic of `GET /api/topics`: partition key, producer, partitions, messages ever published, each group's lag. */
export const TopicStatsRow = Type.Object({
  topic: Type.String(),
  key: Type.Optional(Type.String()),
  producer: Type.Optional(Type.String()),
  partitions: Count,
  messages: Count,
  groups: Type.Array(GroupLag),
});
export type TopicStatsRow = Static<typeof TopicStatsRow>;
