/**
 * The Kafka topic bus (kafkajs), chosen when KAFKA_BROKERS is set. Same guarantees as the embedded
 * log: an idempotent producer with acks from all replicas, Kafka's murmur2 partitioner, topics
 * created at start, one consumer group per service, offsets committed only after a message is
 * handled (in batches), sequential handling inside a partition (one message at a time, or slices of a
 * fetched batch to a batch handler) with partitions handled concurrently, retries
 * then the dead-letter topic, schema version and trace id in headers, and a graceful leave.
 */
import { AssignerProtocol, Kafka, Partitioners, logLevel, type Admin, type Consumer, type ConsumerRunConfig, type KafkaMessage, type Message, type Producer } from "kafkajs";
import { TOPICS } from "../../schemas";
import { sleep, wallClock, type Clock } from "../clock";
import { batchDelivery, deliver, deliverBatch, deliverEach, retryPolicy, type DeliveryContext } from "./delivery";
import type { BusMessage, BusRecord, SubscribeOptions, Subscription, TopicBus, TopicStats } from "./types";

export interface KafkaBusOptions {
  brokers: string[];
  clientId: string;
  /** Group membership timing: short, so a dead member's partitions move on quickly. */
  sessionTimeoutMs?: number;
  /**
   * Prefix of every topic and group name on the cluster (KAFKA_NAMESPACE), so several environments
   * or test runs share one cluster without reading each other's messages. Services see plain names.
   */
  namespace?: string;
  log?: (level: "error" | "warn" | "info", message: string) => void;
  /** Times the wait for new topics and stamps dead letters; the wall clock by default. */
  clock?: Clock;
}

const MAX_REQUEST_BYTES = 512 * 1024;

interface PendingPublish {
  topic: string;
  records: BusRecord[];
  resolve(): void;
  reject(err: Error): void;
}

const KAFKA_LOG_LEVEL: Record<number, "error" | "warn" | "info"> = { [logLevel.ERROR]: "error", [logLevel.WARN]: "warn", [logLevel.INFO]: "info" };

export class KafkaBus implements TopicBus {
  readonly kind = "kafka" as const;
  private readonly kafka: Kafka;
  private producer?: Producer;
  private admin?: Admin;
  private readonly consumers = new Set<Consumer>();
  private partitions = 6;
  private readonly ns: string;
  private readonly outbox: PendingPublish[] = [];
  private sending?: Promise<void>;
  private readonly clock: Clock;

  constructor(private readonly options: KafkaBusOptions) {
    this.ns = options.namespace ?? "";
    this.clock = options.clock ?? wallClock;
    this.kafka = new Kafka({
      clientId: options.clientId,
      brokers: options.brokers,
      logLevel: logLevel.WARN,
      logCreator: () => ({ level, log }) => options.log?.(KAFKA_LOG_LEVEL[level] ?? "info", `${log.message}${log.error ? `: ${log.error}` : ""}`),
      retry: { initialRetryTime: 200, retries: 12, maxRetryTime: 5000 },
    });
  }

  async start(): Promise<void> {
    this.producer = this.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
      allowAutoTopicCreation: false,
      // An idempotent producer retries until the broker is back (a broker restart pauses publishers).
      retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 200, maxRetryTime: 5000 },
    });
    this.admin = this.kafka.admin();
    await this.admin.connect();
    await this.producer.connect();
  }

  async ensureTopics(topics: readonly string[], partitions: number): Promise<void> {
    this.partitions = partitions;
    const existing = new Set(await this.admin!.listTopics());
    const missing = topics.map((t) => this.ns + t).filter((t) => !existing.has(t));
    if (missing.length === 0) return;
    await this.admin!.createTopics({ waitForLeaders: false, topics: missing.map((topic) => ({ topic, numPartitions: partitions })) });
    await this.waitForLeaders(missing);
  }

  /**
   * Waits until every partition of the new topics has a leader. kafkajs's own wait (waitForLeaders)
   * gives up on UNKNOWN_TOPIC_OR_PARTITION, which a loaded broker answers for a moment after the
   * creation, before its metadata cache has the topic.
   */
  private async waitForLeaders(topics: string[], timeoutMs = 60_000): Promise<void> {
    const deadline = this.clock.now() + timeoutMs;
    for (;;) {
      let pending: string;
      try {
        const { topics: described } = await this.admin!.fetchTopicMetadata({ topics });
        const leaderless = described.find((t) => t.partitions.length === 0 || t.partitions.some((p) => p.leader < 0));
        if (!leaderless) return;
        pending = `topic ${leaderless.name} has a partition without a leader`;
      } catch (err) {
        const cause = (err as { originalError?: unknown }).originalError ?? err;
        const type = (cause as { type?: string }).type;
        if (type !== "UNKNOWN_TOPIC_OR_PARTITION" && type !== "LEADER_NOT_AVAILABLE") throw err;
        pending = (err as Error).message;
      }
      if (this.clock.now() > deadline) throw new Error(`Kafka topics not ready after ${timeoutMs} ms: ${pending}`);
      await sleep(200);
    }
  }

  /**
   * Records published while the producer is busy go out together in its next request (group
   * commit): partitions handled concurrently, each awaiting its publish, share round trips instead
   * of queueing one request each behind the single in-flight request, which is what keeps a stage
   * catching up on a backlog at full speed. Order is kept: requests go one at a time, in call order.
   */
  publish(topic: string, records: BusRecord[]): Promise<void> {
    if (records.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.outbox.push({ topic: this.ns + topic, records, resolve, reject });
      this.sending ??= this.drainOutbox();
    });
  }

  private async drainOutbox(): Promise<void> {
    while (this.outbox.length > 0) {
      const batch = this.outbox.splice(0, this.outbox.length);
      try {
        await this.send(batch);
        for (const p of batch) p.resolve();
      } catch (err) {
        for (const p of batch) p.reject(err as Error);
      }
    }
    this.sending = undefined;
  }

  /** Requests stay well under the broker's 1 MiB default message.max.bytes; order is kept chunk by chunk. */
  private async send(batch: PendingPublish[]): Promise<void> {
    let chunk: Array<{ topic: string; messages: Message[] }> = [];
    let bytes = 0;
    const flush = async () => {
      if (chunk.length === 0) return;
      await this.producer!.sendBatch({ acks: -1, topicMessages: chunk });
      chunk = [];
      bytes = 0;
    };
    for (const { topic, records } of batch) {
      for (const record of records) {
        const size = record.value.length + record.key.length + 100;
        if (bytes + size > MAX_REQUEST_BYTES) await flush();
        const last = chunk[chunk.length - 1];
        const message = { key: record.key, value: record.value, headers: record.headers };
        if (last?.topic === topic) last.messages.push(message);
        else chunk.push({ topic, messages: [message] });
        bytes += size;
      }
    }
    await flush();
  }

  private toBusMessage(topic: string, partition: number, message: KafkaMessage): BusMessage {
    return {
      topic: topic.slice(this.ns.length),
      partition,
      offset: message.offset,
      key: message.key?.toString() ?? "",
      value: message.value?.toString() ?? "",
      headers: Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)])),
      timestamp: Number(message.timestamp),
    };
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    const policy = retryPolicy(options.retry);
    const batch = batchDelivery(options);
    let stopping = false;
    let aborted = false;
    let abandon!: () => void;
    const abandoned = new Promise<false>((resolve) => (abandon = () => resolve(false)));
    let current: Consumer;

    const start = async (): Promise<Consumer> => {
      const consumer = this.kafka.consumer({
        groupId: this.ns + options.group,
        sessionTimeout: this.options.sessionTimeoutMs ?? 10_000,
        rebalanceTimeout: this.options.sessionTimeoutMs ?? 10_000,
        heartbeatInterval: 500,
        maxWaitTimeInMs: 50,
        allowAutoTopicCreation: false,
        retry: { retries: 12, initialRetryTime: 200, maxRetryTime: 5000 },
      });
      // kafkajs gives up on some errors during a broker restart (e.g. no group coordinator yet):
      // such a consumer is replaced by a new one, so the group member comes back by itself.
      consumer.on(consumer.events.CRASH, ({ payload }) => {
        if (payload.restart || stopping) return;
        this.options.log?.("warn", `consumer of ${options.group} crashed (${payload.error.message}); starting a new one`);
        this.consumers.delete(consumer);
        void consumer.disconnect().catch(() => undefined);
        const retry = async (): Promise<void> => {
          if (stopping) return;
          try {
            current = await start();
          } catch (err) {
            this.options.log?.("warn", `consumer of ${options.group} not restarted yet: ${(err as Error).message}`);
            setTimeout(() => void retry(), 2000);
          }
        };
        setTimeout(() => void retry(), 1000);
      });
      const context = (heartbeat: () => Promise<void>): DeliveryContext => ({
        group: options.group,
        policy,
        clock: this.clock,
        deadLetter: (record) => this.publish(TOPICS.deadLetter, [record]),
        stopping: () => stopping,
        whileWaiting: heartbeat,
      });
      // Not handled: the member is leaving; the offset stays unresolved and the next owner redelivers.
      const stoppedBefore = (topic: string, partition: number, offset: string) =>
        new Error(`consumer of ${options.group} stopped before handling ${topic}/${partition}@${offset}`);
      const delivery: Pick<ConsumerRunConfig, "eachMessage" | "eachBatch" | "eachBatchAutoResolve"> = batch
        ? {
            // Offsets are resolved here, only for messages done with: a batch cut short by a leave
            // or a rebalance (isStale) leaves the rest to the next owner.
            eachBatchAutoResolve: false,
            eachBatch: async ({ batch: fetched, resolveOffset, heartbeat, commitOffsetsIfNecessary, isRunning, isStale }) => {
              const { topic, partition } = fetched;
              const size = batch.covers(topic.slice(this.ns.length)) ? batch.maxBatch : 1;
              const commitThrough = (message: BusMessage) => {
                if (!aborted) resolveOffset(message.offset);
              };
              const ctx = context(heartbeat);
              for (let i = 0; i < fetched.messages.length; i += size) {
                if (stopping || !isRunning() || isStale()) return;
                const messages = fetched.messages.slice(i, i + size).map((m) => this.toBusMessage(topic, partition, m));
                const work = size > 1 ? deliverBatch(messages, batch, options.handler, ctx, commitThrough) : deliverEach(messages, options.handler, ctx, commitThrough);
                if (!(await Promise.race([work, abandoned]))) throw stoppedBefore(topic, partition, messages[0]!.offset);
                await heartbeat();
                await commitOffsetsIfNecessary();
              }
            },
          }
        : {
            // kafkajs resolves an offset only when eachMessage returns, i.e. after the handler succeeded.
            eachMessage: async ({ topic, partition, message, heartbeat }) => {
              const handled = await Promise.race([deliver(this.toBusMessage(topic, partition, message), options.handler, context(heartbeat)), abandoned]);
              if (!handled) throw stoppedBefore(topic, partition, message.offset);
            },
          };
      await consumer.connect();
      try {
        await consumer.subscribe({ topics: options.topics.map((t) => this.ns + t), fromBeginning: true });
        await consumer.run({
          // Resolved offsets are committed in batches (and on leave), not one request each.
          autoCommit: true,
          autoCommitInterval: 200,
          autoCommitThreshold: 200,
          partitionsConsumedConcurrently: this.partitions,
          ...delivery,
        });
      } catch (err) {
        await consumer.disconnect();
        throw err;
      }
      this.consumers.add(consumer);
      return consumer;
    };

    current = await start();
    const leave = async () => {
      this.consumers.delete(current);
      await current.disconnect();
    };
    return {
      close: async () => {
        stopping = true;
        await leave();
      },
      abort: async () => {
        stopping = true;
        aborted = true;
        abandon();
        await leave();
      },
    };
  }

  async stats(topics: readonly string[]): Promise<TopicStats[]> {
    const admin = this.admin!;
    const groups = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.startsWith(this.ns));
    const described = groups.length > 0 ? (await admin.describeGroups(groups)).groups : [];
    const names = topics.map((t) => this.ns + t);
    const committed = new Map(await Promise.all(groups.map(async (groupId) => [groupId, await admin.fetchOffsets({ groupId, topics: names })] as const)));
    // Each group's subscription, decoded once rather than per topic.
    const subscriptions = new Map(described.map((d) => [d.groupId, new Set(d.members.flatMap((m) => AssignerProtocol.MemberMetadata.decode(m.memberMetadata)?.topics ?? []))]));
    return Promise.all(
      topics.map(async (topic) => {
        const offsets = await admin.fetchTopicOffsets(this.ns + topic);
        const high = new Map(offsets.map((o) => [o.partition, Number(o.high)]));
        const low = new Map(offsets.map((o) => [o.partition, Number(o.low)]));
        const groupLags = groups.flatMap((group) => {
          const parts = committed.get(group)?.find((t) => t.topic === this.ns + topic)?.partitions ?? [];
          const members = described.find((d) => d.groupId === group)?.members ?? [];
          const subscribed = subscriptions.get(group)?.has(this.ns + topic) ?? false;
          if (!subscribed && !parts.some((p) => Number(p.offset) >= 0)) return [];
          const lag = parts.reduce((sum, p) => {
            const at = Number(p.offset) >= 0 ? Number(p.offset) : low.get(p.partition) ?? 0;
            return sum + Math.max(0, (high.get(p.partition) ?? 0) - at);
          }, 0);
          return [{ group: group.slice(this.ns.length), lag, members: members.length }];
        });
        return { topic, partitions: offsets.length, messages: [...high.values()].reduce((a, b) => a + b, 0), groups: groupLags };
      }),
    );
  }

  async stop(): Promise<void> {
    await Promise.all([...this.consumers].map((c) => c.disconnect()));
    this.consumers.clear();
    await this.sending;
    await this.producer?.disconnect();
    await this.admin?.disconnect();
  }
}
