/**
 * Topic mixin: gives a service `publish` and declarative consumers over the configured topic bus
 * (embedded log or Kafka). A service lists its consumers under `topics`; each runs in the consumer
 * group named after the service, receives validated payloads, and an invalid message goes to the
 * dead-letter topic with the reason without stopping the consumer.
 *
 *   topics: { "market.raw.data": { handler(payload, envelope) { ... } } }
 */
import type { Service, ServiceSchema } from "moleculer";
import type { Envelope, TopicName, TopicPayloads } from "../schemas";
import { acquireBus, releaseBus } from "../lib/bus";
import { createEnvelope, readEnvelope, toRecord, type PublishOptions } from "../lib/bus/envelope";
import type { Subscription, TopicBus } from "../lib/bus/types";

export type TopicHandler<T extends TopicName, TThis = unknown> = (
  this: TThis,
  payload: TopicPayloads[T],
  envelope: Envelope<TopicPayloads[T]>,
) => Promise<void> | void;

export interface TopicConsumer<T extends TopicName, TThis = unknown> {
  handler: TopicHandler<T, TThis>;
}

export type TopicConsumers<TThis = unknown> = { [T in TopicName]?: TopicConsumer<T, TThis> };

export interface TopicMethods {
  publish<T extends TopicName>(topic: T, payload: TopicPayloads[T], options?: PublishOptions): Promise<Envelope<TopicPayloads[T]>>;
  /** One batch, in order: the bus keeps per-key order within it. */
  publishMany<T extends TopicName>(topic: T, items: Array<{ payload: TopicPayloads[T]; options?: PublishOptions }>): Promise<void>;
}

export interface TopicLocals {
  bus: TopicBus;
  topicSubscriptions: Subscription[];
}

type TopicService = Service & TopicMethods & TopicLocals & { schema: { topics?: TopicConsumers } };

export function TopicsMixin(): Partial<ServiceSchema> {
  return {
    methods: {
      async publish(this: TopicService, topic: TopicName, payload: never, options?: PublishOptions) {
        const envelope = createEnvelope(topic, payload, this.name, options);
        await this.bus.publish(topic, [toRecord(envelope)]);
        return envelope;
      },
      async publishMany(this: TopicService, topic: TopicName, items: Array<{ payload: never; options?: PublishOptions }>) {
        if (items.length === 0) return;
        await this.bus.publish(
          topic,
          items.map((i) => toRecord(createEnvelope(topic, i.payload, this.name, i.options))),
        );
      },
    },

    merged(schema: ServiceSchema) {
      // Consumers start after every other `started` handler of the service, so no message reaches a
      // handler before the service has loaded its state.
      const started = ([] as unknown[]).concat(schema.started ?? []);
      (schema as { started: unknown[] }).started = [
        async function acquire(this: TopicService) {
          this.bus = await acquireBus(this.broker);
          this.topicSubscriptions = [];
        },
        ...started,
        async function consume(this: TopicService) {
          const consumers = (this.schema.topics ?? {}) as Record<string, TopicConsumer<TopicName>>;
          const topics = Object.keys(consumers) as TopicName[];
          if (topics.length === 0) return;
          // One group member for all the service's topics, dispatching on the message's topic.
          const subscription = await this.bus.subscribe({
            topics,
            group: this.name,
            handler: async (message) => {
              const topic = message.topic as TopicName;
              const envelope = readEnvelope(topic, message);
              try {
                await consumers[topic]!.handler.call(this, envelope.payload as never, envelope as never);
              } catch (err) {
                // The trace id ties this failure to the market event the chain started from.
                this.logger.warn(`${topic} handler failed`, { traceId: envelope.traceId, key: message.key, partition: message.partition, offset: message.offset, error: (err as Error).message });
                throw err;
              }
            },
          });
          this.topicSubscriptions.push(subscription);
        },
      ];
    },

    async stopped(this: TopicService) {
      await Promise.all((this.topicSubscriptions ?? []).map((s) => s.close()));
      this.topicSubscriptions = [];
      await releaseBus(this.broker);
    },
  } as unknown as Partial<ServiceSchema>;
}
