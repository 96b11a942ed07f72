import { randomUUID } from "node:crypto";
import { KafkaBus } from "../../lib/bus/kafka-bus";
import { topicBusConformance } from "../conformance/topic-bus.conformance";
import { infra } from "../helpers/infra";

jest.setTimeout(120000);

topicBusConformance({
  name: "kafka",
  partitions: 4,
  create: async () => {
    const bus = new KafkaBus({ brokers: infra().kafkaBrokers, clientId: `conformance-${randomUUID().slice(0, 6)}`, namespace: `t${randomUUID().slice(0, 8)}.`, sessionTimeoutMs: 6000 });
    await bus.start();
    return bus;
  },
});
