/**
 * The embedded topic bus: an in-process partitioned log with Kafka's semantics. Messages are stored
 * serialized (as on Kafka) in per-topic partitions chosen by the key's murmur2 hash; each consumer
 * group commits an offset per partition after the handler succeeds; each partition is pumped to one
 * member of a group at a time, sequentially (one message, or the waiting ones as a batch to a batch
 * handler), while partitions run concurrently; members joining or leaving rebalance the partitions.
 * State lives in memory: the system of record is the store, and services rebuild what they need
 * from it on start.
 */
import { wallClock, type Clock } from "../clock";
import { batchDelivery, deliver, deliverBatch, retryPolicy, type BatchDelivery, type DeliveryContext } from "./delivery";
import { partitionOf } from "./partitioner";
import type { BusMessage, BusRecord, MessageHandler, RetryPolicy, SubscribeOptions, Subscription, TopicBus, TopicStats } from "./types";
import { TOPICS } from "../../schemas";

/** Messages kept per partition once every group has consumed them. */
const RETAINED_CONSUMED = 2_000;
/** Hard bound per partition so a group that never consumes cannot exhaust memory. */
const RETAINED_MAX = 200_000;

class Partition {
  messages: BusMessage[] = [];
  /** Offset of messages[0]. */
  base = 0;
  waiters: Array<() => void> = [];

  get end(): number {
    return this.base + this.messages.length;
  }

  append(message: BusMessage): void {
    this.messages.push(message);
  }

  at(offset: number): BusMessage {
    return this.messages[offset - this.base]!;
  }

  /** Up to `count` messages from `offset` on. */
  from(offset: number, count: number): BusMessage[] {
    const start = offset - this.base;
    return this.messages.slice(start, start + count);
  }

  wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  trimBelow(offset: number): void {
    const drop = Math.min(offset, this.end) - this.base;
    if (drop > 0) {
      this.messages.splice(0, drop);
      this.base += drop;
    }
  }
}

interface Member {
  id: number;
  handler: MessageHandler;
  batch?: BatchDelivery;
  policy: RetryPolicy;
  closing: boolean;
}

/** Delivery of one partition to one group. */
class Pump {
  owner?: Member;
  /** Next offset to deliver = committed offset. */
  committed = 0;
  /** Bumped on abort so a loop waiting on a crashed member's handler exits without committing. */
  epoch = 0;
  inFlight?: { member: Member; done: Promise<void> };
  wake?: () => void;
}

class GroupTopic {
  members: Member[] = [];
  pumps: Pump[];

  constructor(
    readonly group: string,
    readonly topic: string,
    partitions: number,
  ) {
    this.pumps = Array.from({ length: partitions }, () => new Pump());
  }
}

export class EmbeddedLog implements TopicBus {
  readonly kind = "embedded" as const;
  private readonly topics = new Map<string, Partition[]>();
  private readonly groups = new Map<string, GroupTopic>();
  private nextMemberId = 1;
  private stopped = false;

  constructor(
    private readonly defaultPartitions = 6,
    private readonly clock: Clock = wallClock,
  ) {}

  async start(): Promise<void> {
    this.stopped = false;
  }

  async ensureTopics(topics: readonly string[], partitions: number): Promise<void> {
    for (const t of topics) this.topic(t, partitions);
  }

  private topic(name: string, partitions = this.defaultPartitions): Partition[] {
    let parts = this.topics.get(name);
    if (!parts) {
      parts = Array.from({ length: partitions }, () => new Partition());
      this.topics.set(name, parts);
    }
    return parts;
  }

  async publish(topic: string, records: BusRecord[]): Promise<void> {
    const parts = this.topic(topic);
    const touched = new Set<Partition>();
    const now = this.clock.now();
    for (const r of records) {
      const partition = partitionOf(r.key, parts.length);
      const p = parts[partition]!;
      p.append({ topic, partition, offset: String(p.end), key: r.key, value: r.value, headers: r.headers ?? {}, timestamp: now });
      touched.add(p);
    }
    for (const p of touched) {
      this.retain(topic, p);
      p.wake();
    }
  }

  /** Drops what every group has consumed (beyond a small tail), and anything beyond the hard bound. */
  private retain(topic: string, p: Partition): void {
    if (p.messages.length < RETAINED_CONSUMED * 2 && p.messages.length < RETAINED_MAX) return;
    const index = this.topic(topic).indexOf(p);
    let minCommitted = p.end;
    for (const gt of this.groups.values()) {
      if (gt.topic === topic) minCommitted = Math.min(minCommitted, gt.pumps[index]!.committed);
    }
    p.trimBelow(Math.max(minCommitted - RETAINED_CONSUMED, p.end - RETAINED_MAX));
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    const member: Member = { id: this.nextMemberId++, handler: options.handler, batch: batchDelivery(options), policy: retryPolicy(options.retry), closing: false };
    const groups = options.topics.map((topic) => this.join(topic, options.group, member));
    return {
      close: async () => {
        member.closing = true;
        for (const gt of groups) this.leave(gt, member);
        await Promise.all(groups.flatMap((gt) => gt.pumps.map((p) => (p.inFlight?.member === member ? p.inFlight.done : undefined))));
      },
      abort: async () => {
        member.closing = true;
        for (const gt of groups) {
          const abandoned: number[] = [];
          gt.pumps.forEach((pump, i) => {
            if (pump.inFlight?.member !== member) return;
            pump.epoch++;
            pump.inFlight = undefined;
            abandoned.push(i);
          });
          this.leave(gt, member);
          // The loops stuck on the crashed member's handlers exit on their own; fresh ones take over.
          for (const i of abandoned) void this.run(gt, i, gt.pumps[i]!.epoch);
        }
      },
    };
  }

  private join(topic: string, group: string, member: Member): GroupTopic {
    const parts = this.topic(topic);
    const id = `${group}\u0000${topic}`;
    let gt = this.groups.get(id);
    if (!gt) {
      const created = new GroupTopic(group, topic, parts.length);
      // A new group reads from the earliest retained message, so nothing published before it started is missed.
      created.pumps.forEach((pump, i) => (pump.committed = parts[i]!.base));
      this.groups.set(id, created);
      created.pumps.forEach((_, i) => void this.run(created, i, 0));
      gt = created;
    }
    gt.members.push(member);
    this.rebalance(gt);
    return gt;
  }

  private leave(gt: GroupTopic, member: Member): void {
    gt.members = gt.members.filter((m) => m !== member);
    this.rebalance(gt);
  }

  /** Range assignment, as Kafka's default: partition i goes to member floor(i * n / partitions). */
  private rebalance(gt: GroupTopic): void {
    const n = gt.members.length;
    gt.pumps.forEach((pump, i) => {
      pump.owner = n === 0 ? undefined : gt.members[Math.floor((i * n) / gt.pumps.length)];
      pump.wake?.();
    });
  }

  private async run(gt: GroupTopic, index: number, epoch: number): Promise<void> {
    const pump = gt.pumps[index]!;
    const partition = this.topic(gt.topic)[index]!;
    while (!this.stopped && pump.epoch === epoch) {
      if (pump.committed < partition.base) pump.committed = partition.base;
      const owner = pump.owner;
      if (!owner || pump.committed >= partition.end) {
        await new Promise<void>((resolve) => {
          pump.wake = resolve;
          partition.waiters.push(resolve);
        });
        continue;
      }
      let finished!: () => void;
      const done = new Promise<void>((resolve) => (finished = resolve));
      pump.inFlight = { member: owner, done };
      const ctx: DeliveryContext = {
        group: gt.group,
        policy: owner.policy,
        clock: this.clock,
        deadLetter: (record) => this.publish(TOPICS.deadLetter, [record]),
        stopping: () => this.stopped || owner.closing,
      };
      // A member that crashed mid-delivery commits nothing more: the rest goes to the next owner.
      const commitThrough = (message: BusMessage) => {
        if (pump.epoch === epoch) pump.committed = Number(message.offset) + 1;
      };
      if (owner.batch?.covers(gt.topic)) {
        await deliverBatch(partition.from(pump.committed, owner.batch.maxBatch), owner.batch, owner.handler, ctx, commitThrough);
      } else {
        const message = partition.at(pump.committed);
        if (await deliver(message, owner.handler, ctx)) commitThrough(message);
      }
      finished();
      if (pump.epoch !== epoch) return; // a fresh loop took over from the crashed member
      pump.inFlight = undefined;
    }
  }

  async stats(topics: readonly string[]): Promise<TopicStats[]> {
    return topics.map((topic) => {
      const parts = this.topic(topic);
      const groups = [...this.groups.values()]
        .filter((gt) => gt.topic === topic)
        .map((gt) => ({
          group: gt.group,
          members: gt.members.length,
          lag: gt.pumps.reduce((sum, pump, i) => sum + Math.max(0, parts[i]!.end - pump.committed), 0),
        }));
      return { topic, partitions: parts.length, messages: parts.reduce((sum, p) => sum + p.end, 0), groups };
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const parts of this.topics.values()) for (const p of parts) p.wake();
  }
}
