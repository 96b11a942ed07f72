/**
 * The topic-bus conformance suite: the same tests for every bus implementation (embedded log now,
 * Kafka in the distributed mode), so both give the pipeline the same guarantees.
 */
import { randomUUID } from "node:crypto";
import { TOPICS } from "../../schemas";
import { createEnvelope, readEnvelope, toRecord } from "../../lib/bus/envelope";
import { DependencyUnavailableError, InvalidMessageError } from "../../lib/errors";
import type { BusMessage, TopicBus } from "../../lib/bus/types";

export interface BusFactory {
  name: string;
  create(): Promise<TopicBus>;
  partitions: number;
}

const until = async (check: () => boolean, timeoutMs = 20000, what = "condition") => {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

const record = (key: string, value: object) => ({ key, value: JSON.stringify(value) });

export function topicBusConformance(factory: BusFactory): void {
  describe(`topic bus conformance: ${factory.name}`, () => {
    let bus: TopicBus;
    let topic: string;
    beforeEach(async () => {
      bus = await factory.create();
      topic = `conformance.${randomUUID().slice(0, 8)}`;
      await bus.ensureTopics([topic, TOPICS.deadLetter, TOPICS.portfolioUpdated], factory.partitions);
    });
    afterEach(async () => {
      await bus.stop();
    });

    it("keeps per-key order inside one group", async () => {
      const seen = new Map<string, number[]>();
      const sub = await bus.subscribe({
        topics: [topic],
        group: "g-order",
        handler: async (m: BusMessage) => {
          const { key, n } = JSON.parse(m.value);
          seen.set(key, [...(seen.get(key) ?? []), n]);
        },
      });
      const keys = ["a", "b", "c", "d", "e", "f", "g", "h"];
      const records = [];
      for (let n = 0; n < 50; n++) for (const key of keys) records.push(record(key, { key, n }));
      await bus.publish(topic, records);
      await until(() => [...seen.values()].reduce((s, v) => s + v.length, 0) === 400, 20000, "400 messages");
      for (const key of keys) expect(seen.get(key)).toEqual(Array.from({ length: 50 }, (_, i) => i));
      await sub.close();
    });

    it("keeps call order of concurrent publishes on a key, across topics, and settles every call", async () => {
      const other = `${topic}.other`;
      await bus.ensureTopics([other], factory.partitions);
      const seen = new Map<string, number[]>();
      const sub = await bus.subscribe({
        topics: [topic, other],
        group: "g-concurrent",
        handler: async (m: BusMessage) => {
          const { n } = JSON.parse(m.value);
          const at = `${m.topic}/${m.key}`;
          seen.set(at, [...(seen.get(at) ?? []), n]);
        },
      });
      // Not awaited one by one: the calls overlap, as when partitions are handled concurrently.
      const calls = [];
      for (let n = 0; n < 100; n++) calls.push(bus.publish(n % 2 ? other : topic, [record(`k${n % 6}`, { n })]));
      await Promise.all(calls);
      await until(() => [...seen.values()].reduce((s, v) => s + v.length, 0) === 100, 20000, "100 messages");
      for (let k = 0; k < 6; k++) {
        const expected = Array.from({ length: 100 }, (_, n) => n).filter((n) => n % 6 === k);
        expect(seen.get(`${expected[0]! % 2 ? other : topic}/k${k}`)).toEqual(expected);
      }
      await sub.close();
    });

    it("shares partitions among the members of a group, each message once", async () => {
      const byMember: Array<Set<number>> = [new Set(), new Set()];
      const counts = new Map<string, number>();
      const handlerFor = (i: number) => async (m: BusMessage) => {
        byMember[i]!.add(m.partition);
        counts.set(m.key, (counts.get(m.key) ?? 0) + 1);
      };
      const a = await bus.subscribe({ topics: [topic], group: "g-share", handler: handlerFor(0) });
      const b = await bus.subscribe({ topics: [topic], group: "g-share", handler: handlerFor(1) });
      await new Promise((r) => setTimeout(r, factory.name === "kafka" ? 3000 : 50));
      await bus.publish(topic, Array.from({ length: 200 }, (_, i) => record(`k${i}`, { i })));
      await until(() => counts.size === 200, 30000, "200 keys");
      expect([...counts.values()].every((c) => c === 1)).toBe(true);
      expect(byMember[0]!.size).toBeGreaterThan(0);
      expect(byMember[1]!.size).toBeGreaterThan(0);
      for (const p of byMember[0]!) expect(byMember[1]!.has(p)).toBe(false);
      await a.close();
      await b.close();
    });

    it("fans out to every group", async () => {
      const got = { x: 0, y: 0 };
      const x = await bus.subscribe({ topics: [topic], group: "g-x", handler: async () => void got.x++ });
      const y = await bus.subscribe({ topics: [topic], group: "g-y", handler: async () => void got.y++ });
      await bus.publish(topic, Array.from({ length: 30 }, (_, i) => record(`k${i}`, { i })));
      await until(() => got.x === 30 && got.y === 30, 20000, "both groups");
      await x.close();
      await y.close();
    });

    it("redelivers a message whose consumer died before committing, and resumes from committed offsets", async () => {
      const handled: string[] = [];
      let release!: () => void;
      const hang = new Promise<void>((r) => (release = r));
      const dying = await bus.subscribe({
        topics: [topic],
        group: "g-crash",
        handler: async (m) => {
          if (JSON.parse(m.value).n === 3) await hang; // dies while handling message 3
          handled.push(`first:${JSON.parse(m.value).n}`);
        },
      });
      await bus.publish(topic, [0, 1, 2, 3, 4].map((n) => record("same-key", { n })));
      await until(() => handled.length === 3, 20000, "first three");
      await dying.abort();
      release();
      const second = await bus.subscribe({
        topics: [topic],
        group: "g-crash",
        handler: async (m) => void handled.push(`second:${JSON.parse(m.value).n}`),
      });
      await until(() => handled.some((h) => h === "second:4"), 30000, "redelivery");
      expect(handled.filter((h) => h.startsWith("second:"))).toEqual(["second:3", "second:4"]);
      await second.close();
    });

    it("dead-letters an invalid message with the reason and keeps consuming", async () => {
      const good: number[] = [];
      const dead: BusMessage[] = [];
      const dl = await bus.subscribe({ topics: [TOPICS.deadLetter], group: `g-dl-${topic}`, handler: async (m) => void dead.push(m) });
      const sub = await bus.subscribe({
        topics: [topic],
        group: "g-dlq",
        retry: { maxRetries: 1, initialBackoffMs: 10 },
        handler: async (m) => {
          let body: { n: number };
          try {
            body = JSON.parse(m.value);
          } catch {
            throw new InvalidMessageError("not JSON");
          }
          if (body.n === 2) throw new Error("boom");
          good.push(body.n);
        },
      });
      await bus.publish(topic, [
        record("k", { n: 1 }),
        { key: "k", value: "{not json" },
        record("k", { n: 2 }),
        record("k", { n: 3 }),
      ]);
      await until(() => good.length === 2 && dead.filter((d) => readEnvelope(TOPICS.deadLetter, d).payload.topic === topic).length === 2, 30000, "dead letters");
      expect(good).toEqual([1, 3]);
      const reasons = dead.map((d) => readEnvelope(TOPICS.deadLetter, d).payload).filter((p) => p.topic === topic);
      expect(reasons.map((r) => r.reason).sort()).toEqual(["handler_failed", "invalid_message"]);
      expect(reasons.find((r) => r.reason === "invalid_message")!.value).toBe("{not json");
      expect(reasons.find((r) => r.reason === "handler_failed")!.error).toContain("boom");
      await sub.close();
      await dl.close();
    });

    it("reports message counts and group lag", async () => {
      await bus.publish(topic, Array.from({ length: 10 }, (_, i) => record(`k${i}`, { i })));
      let n = 0;
      const sub = await bus.subscribe({ topics: [topic], group: "g-stats", handler: async () => void n++ });
      await until(() => n === 10, 20000, "10 messages");
      const [stats] = await bus.stats([topic]);
      expect(stats!.messages).toBe(10);
      expect(stats!.partitions).toBe(factory.partitions);
      await sub.close();
      const [after] = await bus.stats([topic]);
      expect(after!.groups.find((g) => g.group === "g-stats")?.lag).toBe(0);
    });

    it("carries envelopes that validate on both ends", async () => {
      const envelope = createEnvelope(TOPICS.portfolioUpdated, {
        portfolioId: "p1",
        cash: "100",
        equity: "100",
        realizedPnl: "0",
        unrealizedPnl: "0",
        fees: "0",
        exposure: "0",
        halted: false,
        openOrders: 0,
        positions: [],
        cause: "created",
        updatedAt: 1,
      }, "test");
      const got: string[] = [];
      const sub = await bus.subscribe({ topics: [TOPICS.portfolioUpdated],
        group: `g-env-${topic}`,
        handler: async (m) => void got.push(readEnvelope(TOPICS.portfolioUpdated, m).payload.portfolioId),
      });
      await bus.publish(TOPICS.portfolioUpdated, [toRecord(envelope)]);
      await until(() => got.includes("p1"), 20000, "envelope");
      await sub.close();
    });

    describe("batch delivery", () => {
      const byMessage = async () => {
        throw new Error("a batch subscription that succeeds never calls the per-message handler");
      };

      it("hands each partition's waiting messages over in offset order, at most maxBatch at once", async () => {
        const keys = ["a", "b", "c", "d", "e", "f", "g", "h"];
        const records = [];
        for (let n = 0; n < 50; n++) for (const key of keys) records.push(record(key, { key, n }));
        await bus.publish(topic, records);
        const batches: BusMessage[][] = [];
        const sub = await bus.subscribe({
          topics: [topic],
          group: "g-batch-order",
          maxBatch: 30,
          handler: byMessage,
          batchHandler: async (messages) => void batches.push(messages),
        });
        await until(() => batches.reduce((s, b) => s + b.length, 0) === 400, 20000, "400 messages");
        expect(batches.every((b) => b.length >= 1 && b.length <= 30)).toBe(true);
        expect(Math.max(...batches.map((b) => b.length))).toBeGreaterThan(1);
        const lastOffset = new Map<number, number>();
        for (const batch of batches) {
          expect(new Set(batch.map((m) => `${m.topic}/${m.partition}`)).size).toBe(1);
          for (const m of batch) {
            // Consecutive offsets per partition across batches: nothing skipped, nothing repeated.
            const previous = lastOffset.get(m.partition);
            if (previous !== undefined) expect(Number(m.offset)).toBe(previous + 1);
            lastOffset.set(m.partition, Number(m.offset));
          }
        }
        const seen = new Map<string, number[]>();
        for (const m of batches.flat()) {
          const { key, n } = JSON.parse(m.value);
          seen.set(key, [...(seen.get(key) ?? []), n]);
        }
        for (const key of keys) expect(seen.get(key)).toEqual(Array.from({ length: 50 }, (_, i) => i));
        await sub.close();
        const [stats] = await bus.stats([topic]);
        expect(stats!.groups.find((g) => g.group === "g-batch-order")?.lag).toBe(0);
      });

      it("refuses a maxBatch that is not a positive integer", async () => {
        for (const maxBatch of [0, -1, 2.5]) {
          await expect(bus.subscribe({ topics: [topic], group: "g-batch-bad", maxBatch, handler: byMessage, batchHandler: async () => undefined })).rejects.toThrow(
            `maxBatch must be a positive integer, got ${maxBatch}`,
          );
        }
      });

      it("retries a failed batch one message at a time: the poison message is dead-lettered once, the others handled once", async () => {
        const handled: number[] = [];
        const dead: BusMessage[] = [];
        const dl = await bus.subscribe({ topics: [TOPICS.deadLetter], group: `g-dl-${topic}`, handler: async (m) => void dead.push(m) });
        const parse = (m: BusMessage): { n: number; poison?: boolean } => {
          try {
            return JSON.parse(m.value);
          } catch {
            throw new InvalidMessageError("not JSON");
          }
        };
        const sub = await bus.subscribe({
          topics: [topic],
          group: "g-batch-poison",
          retry: { maxRetries: 1, initialBackoffMs: 10 },
          handler: async (m) => {
            const body = parse(m);
            if (body.poison) throw new Error("boom");
            handled.push(body.n);
          },
          batchHandler: async (messages, markInvalid) => {
            const bodies = [];
            for (const m of messages) {
              try {
                bodies.push(parse(m));
              } catch (err) {
                markInvalid(m, err as Error);
              }
            }
            if (bodies.some((b) => b.poison)) throw new Error("boom");
            handled.push(...bodies.map((b) => b.n));
          },
        });
        await bus.publish(topic, [
          record("k", { n: 1 }),
          { key: "k", value: "{not json" },
          record("k", { n: 2, poison: true }),
          record("k", { n: 3 }),
        ]);
        // A later batch without poison: its invalid message is set aside and the batch goes through whole.
        await until(() => handled.includes(3), 30000, "the first batch");
        await bus.publish(topic, [record("k", { n: 4 }), { key: "k", value: "[" }, record("k", { n: 5 })]);
        const deadOfTopic = () => dead.map((d) => readEnvelope(TOPICS.deadLetter, d).payload).filter((p) => p.topic === topic);
        await until(() => handled.includes(5) && deadOfTopic().length >= 3, 30000, "dead letters");
        await new Promise((r) => setTimeout(r, 300)); // time for a doubled dead letter to show up
        expect(handled).toEqual([1, 3, 4, 5]);
        const reasons = deadOfTopic();
        expect(reasons.map((r) => `${r.reason}:${r.value}`).sort()).toEqual(["handler_failed:" + JSON.stringify({ n: 2, poison: true }), "invalid_message:[", "invalid_message:{not json"]);
        expect(reasons.find((r) => r.reason === "handler_failed")!.error).toContain("boom");
        await sub.close();
        await dl.close();
      });

      it("retries a batch whose dependency is unavailable as a whole, without dead letters", async () => {
        let failures = 2;
        const batches: number[][] = [];
        const sub = await bus.subscribe({
          topics: [topic],
          group: "g-batch-dependency",
          retry: { initialBackoffMs: 10 },
          handler: byMessage,
          batchHandler: async (messages) => {
            if (failures-- > 0) throw new DependencyUnavailableError("store down");
            batches.push(messages.map((m) => JSON.parse(m.value).n));
          },
        });
        await bus.publish(topic, [1, 2, 3].map((n) => record("k", { n })));
        await until(() => batches.flat().length === 3, 30000, "the batch after the outage");
        expect(batches.flat()).toEqual([1, 2, 3]);
        await sub.close();
      });

      it("commits nothing of a batch cut short by a crash: the next member gets it again", async () => {
        const first: number[][] = [];
        const second: number[] = [];
        let release!: () => void;
        const hang = new Promise<void>((r) => (release = r));
        await bus.publish(topic, [0, 1, 2, 3, 4, 5].map((n) => record("same-key", { n })));
        const dying = await bus.subscribe({
          topics: [topic],
          group: "g-batch-crash",
          maxBatch: 2,
          handler: byMessage,
          batchHandler: async (messages) => {
            const ns = messages.map((m) => JSON.parse(m.value).n as number);
            first.push(ns);
            if (ns.includes(2)) await hang; // dies while handling the second batch
          },
        });
        await until(() => first.length === 2, 20000, "the second batch");
        await dying.abort();
        release();
        const next = await bus.subscribe({
          topics: [topic],
          group: "g-batch-crash",
          maxBatch: 2,
          handler: byMessage,
          batchHandler: async (messages) => void second.push(...messages.map((m) => JSON.parse(m.value).n as number)),
        });
        await until(() => second.includes(5), 30000, "redelivery");
        expect(first).toEqual([[0, 1], [2, 3]]);
        expect(second).toEqual([2, 3, 4, 5]);
        await next.close();
      });

      it("takes a backlog in batches when each call has a fixed cost", async () => {
        const total = 20_000;
        const seen = new Set<number>();
        let calls = 0;
        const sub = await bus.subscribe({
          topics: [topic],
          group: "g-batch-throughput",
          handler: byMessage,
          batchHandler: async (messages) => {
            calls++;
            await new Promise((r) => setTimeout(r, 2)); // a store round trip, paid once per call
            for (const m of messages) seen.add(JSON.parse(m.value).i);
          },
        });
        for (let start = 0; start < total; start += 2000) {
          await bus.publish(topic, Array.from({ length: 2000 }, (_, j) => record(`k${(start + j) % 64}`, { i: start + j })));
        }
        await until(() => seen.size === total, 60000, `${total} messages`);
        // One call per message would cost 20,000 round trips; batches cut that at least tenfold.
        expect(calls).toBeLessThan(total / 10);
        await sub.close();
      });
    });
  });
}
