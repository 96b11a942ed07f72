import { randomUUID } from "node:crypto";
import { pipelineConformance } from "../conformance/pipeline.conformance";
import { infra, mongoUriFor } from "../helpers/infra";

jest.setTimeout(180000);

pipelineConformance("distributed adapters (Kafka, MongoDB protocol)", () => ({
  kafkaBrokers: infra().kafkaBrokers,
  kafkaNamespace: `e2e${randomUUID().slice(0, 8)}.`,
  mongoUri: mongoUriFor("pipeline"),
}));
