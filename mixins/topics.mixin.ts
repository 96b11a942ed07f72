/**
 * Topic mixin: gives a service `publish` and declarative consumers over the configured topic bus
 * (embedded log or Kafka). A service lists its consumers under `topics`; each runs in the consumer
 * group named after the service, receives validated payloads, and an invalid message goes to the
 * dead-letter topic with the reason without stopping the consumer.
 *
 *   topics: { "market.raw.data": { handler(payload, envelope) { ... } } }
 *
 * A consumer declared `batch: true` gets the valid messages of one partition waiting together, in
 * order (up to the bus's maxBatch), in one call: for handlers whose cost is per call, such as a
 * store write. If it throws, the bus retries those messages one at a time, each as a batch of one,
 * so one bad message is dead-lettered and the others are handled; handlers must be idempotent, as
 * with every at-least-once consumer.
 *
 *   topics: { "market.raw.data": { batch: true, async handler(payloads, envelopes) { ... } } }
 */
import type { Service, ServiceSchema } from "moleculer";
import type { Envelope, TopicName, TopicPayloads } from "../schemas";
import { acquireBus, releaseBus } from "../lib/bus";
import { createEnvelope, readEnvelope, toRecord, type PublishOptions } from "../lib/bus/envelope";
import type { BusMessage, Subscription, TopicBus } from "../lib/bus/types";
import { InvalidMessageError } from "../lib/errors";

export type TopicHandler<T extends TopicName, TThis = unknown> = (
  this: TThis,
  payload: TopicPayloads[T],
  envelope: Envelope<TopicPayloads[T]>,
) => Promise<void> | void;

export type TopicBatchHandler<T extends TopicName, TThis = unknown> = (
  this: TThis,
  payloads: Array<TopicPayloads[T]>,
  envelopes: Array<Envelope<TopicPayloads[T]>>,
) => Promise<void> | void;

export interface TopicConsumer<T extends TopicName, TThis = unknown> {
  batch?: false;
  handler: TopicHandler<T, TThis>;
}

export interface TopicBatchConsumer<T extends TopicName, TThis = unknown> {
  batch: true;
  handler: TopicBatchHandler<T, TThis>;
}

// ThisType: a union of handler signatures gives a method no contextual `this`, so the service's is supplied here.
export type TopicConsumers<TThis = unknown> = { [T in TopicName]?: (TopicConsumer<T, TThis> | TopicBatchConsumer<T, TThis>) & ThisType<TThis> };

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

/** Decodes a batch of one topic, setting invalid messages aside for the dead-letter topic, and hands the rest to the consumer. */
async function handleBatch(
  service: TopicService,
  topic: TopicName,
  consumer: TopicBatchConsumer<TopicName>,
  messages: BusMessage[],
  markInvalid: (message: BusMessage, error: Error) => void,
): Promise<void> {
  const envelopes: Array<Envelope<TopicPayloads[TopicName]>> = [];
  for (const message of messages) {
    try {
      envelopes.push(readEnvelope(topic, message));
    } catch (err) {
      if (!(err instanceof InvalidMessageError)) throw err;
      markInvalid(message, err);
    }
  }
  if (envelopes.length === 0) return;
  try {
    await consumer.handler.call(service, envelopes.map((e) => e.payload) as never, envelopes as never);
  } catch (err) {
    const first = messages[0]!;
    service.logger.warn(`${topic} batch handler failed`, {
      messages: messages.length,
      partition: first.partition,
      offsets: `${first.offset}..${messages[messages.length - 1]!.offset}`,
      error: (err as Error).message,
    });
    throw err;
  }
}

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
          const consumers = (this.schema.topics ?? {}) as Record<string, TopicConsumer<TopicName> | TopicBatchConsumer<TopicName>>;
          const topics = Object.keys(consumers) as TopicName[];
          if (topics.length === 0) return;
          const batchTopics = topics.filter((topic) => consumers[topic]!.batch === true);
          // One group member for all the service's topics, dispatching on the message's topic.
          const subscription = await this.bus.subscribe({
            topics,
            group: this.name,
            handler: async (message) => {
              const topic = message.topic as TopicName;
              const envelope = readEnvelope(topic, message);
              const consumer = consumers[topic]!;
              try {
                if (consumer.batch) await consumer.handler.call(this, [envelope.payload as never], [envelope as never]);
                else await consumer.handler.call(this, envelope.payload as never, envelope as never);
              } catch (err) {
                // The trace id ties this failure to the market event the chain started from.
                this.logger.warn(`${topic} handler failed`, { traceId: envelope.traceId, key: message.key, partition: message.partition, offset: message.offset, error: (err as Error).message });
                throw err;
              }
            },
            ...(batchTopics.length === 0 ? {} : {
              batchTopics,
              // A batch holds messages of one topic's partition.
              batchHandler: async (messages: BusMessage[], markInvalid: (message: BusMessage, error: Error) => void) => {
                const topic = messages[0]!.topic as TopicName;
                await handleBatch(this, topic, consumers[topic] as TopicBatchConsumer<TopicName>, messages, markInvalid);
              },
            }),
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
