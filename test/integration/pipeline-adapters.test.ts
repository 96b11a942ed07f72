import { randomUUID } from "node:crypto";
import { pipelineConformance } from "../conformance/pipeline.conformance";
import { deleteKafkaNamespace, dropQuestDbTables, infra, mongoUriFor } from "../helpers/infra";

jest.setTimeout(180000);

const namespace = `e2e${randomUUID().slice(0, 8)}.`;
const tablePrefix = `${namespace.slice(0, -1)}_`;
afterAll(async () => {
  await deleteKafkaNamespace(namespace);
  await dropQuestDbTables(tablePrefix);
});

pipelineConformance("distributed adapters (Kafka, MongoDB protocol, QuestDB)", () => ({
  kafkaBrokers: infra().kafkaBrokers,
  kafkaNamespace: namespace,
  mongoUri: mongoUriFor("pipeline"),
  marketStore: { kind: "questdb", pgUrl: infra().questdbPgUrl, tablePrefix },
}));
