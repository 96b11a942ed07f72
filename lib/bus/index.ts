/** Picks the topic bus from configuration, one per broker, shared by that broker's services. */
import type { ServiceBroker } from "moleculer";
import { ALL_TOPICS } from "../../schemas";
import { platformConfig } from "../config";
import { EmbeddedLog } from "./embedded-log";
import { KafkaBus } from "./kafka-bus";
import type { TopicBus } from "./types";

interface BusHandle {
  bus: TopicBus;
  users: number;
  ready: Promise<void>;
}

const handles = new WeakMap<ServiceBroker, BusHandle>();

function createBus(broker: ServiceBroker): TopicBus {
  const config = platformConfig(broker);
  if (config.kafkaBrokers.length > 0) {
    const logger = broker.getLogger("kafka");
    return new KafkaBus({ brokers: config.kafkaBrokers, namespace: config.kafkaNamespace, clientId: `tbp-${broker.nodeID}`, log: (level, message) => logger[level](message) });
  }
  return new EmbeddedLog(config.partitions);
}

/** Takes a reference to the broker's bus, starting it and creating the topics on first use. */
export async function acquireBus(broker: ServiceBroker): Promise<TopicBus> {
  let handle = handles.get(broker);
  if (!handle) {
    const bus = createBus(broker);
    const partitions = platformConfig(broker).partitions;
    handle = { bus, users: 0, ready: bus.start().then(() => bus.ensureTopics(ALL_TOPICS, partitions)) };
    handles.set(broker, handle);
  }
  handle.users++;
  await handle.ready;
  return handle.bus;
}

/** Drops a reference; the last one stops the bus. */
export async function releaseBus(broker: ServiceBroker): Promise<void> {
  const handle = handles.get(broker);
  if (!handle) return;
  handle.users--;
  if (handle.users === 0) {
    handles.delete(broker);
    await handle.bus.stop();
  }
}

export type { TopicBus } from "./types";
