/** Every service of the platform by name: the embedded mode starts them all, SERVICES picks some. */
import type { ServiceSchema } from "moleculer";
import type { ServiceName } from "../schemas";
import { ConfigError } from "../lib/errors";
import ExchangeService from "./exchange.service";
import ExecutionService from "./execution.service";
import FeaturesService from "./features.service";
import GatewayService from "./gateway.service";
import IngestionService from "./ingestion.service";
import PredictionService from "./prediction.service";
import RiskService from "./risk.service";

export const SERVICE_SCHEMAS: Record<ServiceName, ServiceSchema> = {
  exchange: ExchangeService as unknown as ServiceSchema,
  risk: RiskService as unknown as ServiceSchema,
  ingestion: IngestionService as unknown as ServiceSchema,
  features: FeaturesService as unknown as ServiceSchema,
  prediction: PredictionService as unknown as ServiceSchema,
  execution: ExecutionService as unknown as ServiceSchema,
  gateway: GatewayService as unknown as ServiceSchema,
};

export function selectServices(names?: string): ServiceName[] {
  const all = Object.keys(SERVICE_SCHEMAS) as ServiceName[];
  if (!names) return all;
  const wanted = names.split(",").map((n) => n.trim()).filter(Boolean);
  const unknown = wanted.filter((n) => !all.includes(n as ServiceName));
  if (unknown.length > 0) throw new ConfigError(`SERVICES names unknown service(s): ${unknown.join(", ")} (known: ${all.join(", ")})`);
  return wanted as ServiceName[];
}
