import { randomUUID } from "node:crypto";
import { pipelineConformance } from "../conformance/pipeline.conformance";
import { deleteKafkaNamespace, infra, mongoUriFor } from "../helpers/infra";

jest.setTimeout(180000);

const namespace = `e2e${randomUUID().slice(0, 8)}.`;
afterAll(() => deleteKafkaNamespace(namespace));

// SIM_SPEED 300, as in the multi-process tests: at the default test speed (3000) the simulator makes more
// events a second than one Kafka-backed process on a busy 2-core runner consumes, the lag passes the 5 s
// stale-data limit and stage 1 rejects every signal before the kill switch can be seen at stage 2.
pipelineConformance("distributed adapters (Kafka, MongoDB protocol)", () => ({
  simSpeed: 300,
  kafkaBrokers: infra().kafkaBrokers,
  kafkaNamespace: namespace,
  mongoUri: mongoUriFor("pipeline"),
}));
