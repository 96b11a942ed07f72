/** The System view: which of the platform's services answer, and how far each consumer group is behind. */
import type { GroupLag } from "../../../schemas/system";
import type { ServiceName } from "../../../schemas";
import type { Health, TopicStatsRow } from "./api";
import { SERVICE_ROLES } from "./labels";
import { countOf } from "./format";

/** A group this many messages behind on a topic is flagged as lagging. */
export const LAG_WARNING = 100;

export interface HealthSummary {
  /** The headline: Healthy, Degraded, or what makes the platform unavailable. */
  label: string;
  tone: "gain" | "warn" | "loss";
  /** Each cause's message, the way the gateway names it. */
  causes: string[];
}

/** The platform's state as the System view headlines it, from `/api/health` (200 or 503 alike). */
export function healthSummary(health: Pick<Health, "status" | "causes" | "services">): HealthSummary {
  const causes = (health.causes ?? []).map((c) => c.message);
  const down = serviceRows(health).filter((s) => !s.up).length;
  if (health.status === "ok" && down === 0) return { label: "Healthy", tone: "gain", causes };
  if (health.status === "degraded") return { label: "Degraded", tone: "warn", causes };
  return { label: down > 0 ? `${countOf(down, "service")} down` : "Unavailable", tone: "loss", causes };
}

export interface ServiceRow {
  name: string;
  role: string;
  up: boolean;
}

/** Every platform service, up when the registry lists it; services outside the platform's set follow. */
export function serviceRows(health: Pick<Health, "services">): ServiceRow[] {
  const known = Object.keys(SERVICE_ROLES) as ServiceName[];
  const rows: ServiceRow[] = known.map((name) => ({ name, role: SERVICE_ROLES[name], up: health.services.includes(name) }));
  for (const name of health.services) if (!(known as string[]).includes(name)) rows.push({ name, role: "", up: true });
  return rows;
}

export interface TopicRow {
  topic: string;
  key: string;
  producer: string;
  partitions: number;
  messages: number;
  groups: Array<GroupLag & { lagging: boolean }>;
  /** The largest lag of its groups. */
  maxLag: number;
}

export function topicRows(stats: readonly TopicStatsRow[]): TopicRow[] {
  return stats.map((s) => {
    const groups = [...s.groups].sort((a, b) => a.group.localeCompare(b.group)).map((g) => ({ ...g, lagging: g.lag >= LAG_WARNING }));
    return {
      topic: s.topic,
      key: s.key ?? "",
      producer: s.producer ?? "",
      partitions: s.partitions,
      messages: s.messages,
      groups,
      maxLag: groups.reduce((m, g) => Math.max(m, g.lag), 0),
    };
  });
}
