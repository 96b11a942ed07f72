/**
 * The topic bus seam. Two implementations stand behind it: the embedded in-process partitioned log
 * (default) and Kafka (KAFKA_BROKERS set). Both give the same guarantees: per-key order inside a
 * partition, one consumer group per service with partitions shared among its members, fan-out
 * across groups, offsets committed only after a message is handled (at-least-once), retries then
 * the dead-letter topic.
 */

export interface BusRecord {
  key: string;
  /** The serialized envelope. */
  value: string;
  headers?: Record<string, string>;
}

export interface BusMessage {
  topic: string;
  partition: number;
  /** Kafka offsets are strings (int64); the embedded log uses the same form. */
  offset: string;
  key: string;
  value: string;
  headers: Record<string, string>;
  timestamp: number;
}

export type MessageHandler = (message: BusMessage) => Promise<void>;

/**
 * Several messages of one topic's partition, in offset order. A message the handler cannot read is passed
 * to `markInvalid` instead of failing the batch: it goes to the dead-letter topic (invalid_message)
 * once the batch succeeded, so a failed batch retried one by one never dead-letters it twice.
 */
export type BatchHandler = (messages: BusMessage[], markInvalid: (message: BusMessage, error: Error) => void) => Promise<void>;

/** Messages handed to a batch handler at once when no maxBatch is given. */
export const DEFAULT_MAX_BATCH = 500;

export interface RetryPolicy {
  /** Retries of a failing handler before the message goes to the dead-letter topic. */
  maxRetries: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxRetries: 3, initialBackoffMs: 50, maxBackoffMs: 5000 };

/**
 * One member of a consumer group, reading every topic the group consumes (Kafka's assigners expect
 * the members of a group to share one subscription). The handler sees `message.topic`.
 */
export interface SubscribeOptions {
  topics: readonly string[];
  group: string;
  handler: MessageHandler;
  retry?: Partial<RetryPolicy>;
  /**
   * When given, the messages waiting in a partition (in order, up to maxBatch) go to it at once and
   * the partition's offset commits after it succeeds. When it fails, the batch's messages go one by
   * one through `handler` (its retries, then the dead-letter topic), so one bad message never blocks
   * or drops the others. A DependencyUnavailableError retries the whole batch after a backoff instead.
   */
  batchHandler?: BatchHandler;
  /** The topics whose messages go to batchHandler (all of `topics` when absent); the others' go one at a time to `handler`. */
  batchTopics?: readonly string[];
  /** The largest batch handed to batchHandler; DEFAULT_MAX_BATCH by default. */
  maxBatch?: number;
}

export interface Subscription {
  /** Leaves the group gracefully: in-flight messages finish and are committed, partitions move to the others. */
  close(): Promise<void>;
  /** Leaves at once as a crash would: in-flight messages are not committed and go to the next owner. */
  abort(): Promise<void>;
}

export interface GroupLag {
  group: string;
  /** Messages published but not yet committed by the group, summed over partitions. */
  lag: number;
  members: number;
}

export interface TopicStats {
  topic: string;
  partitions: number;
  /** Messages ever published (sum of the partitions' end offsets). */
  messages: number;
  groups: GroupLag[];
}

export interface TopicBus {
  readonly kind: "embedded" | "kafka";
  start(): Promise<void>;
  /** Creates the topics that do not exist yet, each with `partitions` partitions. */
  ensureTopics(topics: readonly string[], partitions: number): Promise<void>;
  publish(topic: string, records: BusRecord[]): Promise<void>;
  subscribe(options: SubscribeOptions): Promise<Subscription>;
  stats(topics: readonly string[]): Promise<TopicStats[]>;
  stop(): Promise<void>;
}
