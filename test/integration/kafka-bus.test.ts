import { randomUUID } from "node:crypto";
import { KafkaBus } from "../../lib/bus/kafka-bus";
import { topicBusConformance } from "../conformance/topic-bus.conformance";
import { deleteKafkaNamespace, infra } from "../helpers/infra";

jest.setTimeout(120000);

const namespaces: string[] = [];
afterAll(async () => {
  for (const ns of namespaces) await deleteKafkaNamespace(ns);
});

topicBusConformance({
  name: "kafka",
  partitions: 4,
  create: async () => {
    const namespace = `t${randomUUID().slice(0, 8)}.`;
    namespaces.push(namespace);
    const bus = new KafkaBus({ brokers: infra().kafkaBrokers, clientId: `conformance-${randomUUID().slice(0, 6)}`, namespace, sessionTimeoutMs: 6000 });
    await bus.start();
    return bus;
  },
});
