import { randomUUID } from "node:crypto";
import { pipelineConformance } from "../conformance/pipeline.conformance";
import { deleteKafkaNamespace, infra, mongoUriFor } from "../helpers/infra";

jest.setTimeout(180000);

const namespace = `e2e${randomUUID().slice(0, 8)}.`;
afterAll(() => deleteKafkaNamespace(namespace));

pipelineConformance("distributed adapters (Kafka, MongoDB protocol)", () => ({
  kafkaBrokers: infra().kafkaBrokers,
  kafkaNamespace: namespace,
  mongoUri: mongoUriFor("pipeline"),
}));
