/** Kafka's default partitioner (murmur2 of the key), so a key lands in the same partition on both buses. */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const murmur2: (key: string) => number = require("kafkajs/src/producer/partitioners/default/murmur2");

/** Keys are few (instruments, portfolios) and murmur2 here is slow 64-bit arithmetic: remember the hashes. */
const hashes = new Map<string, number>();
const MAX_REMEMBERED = 100_000;

export function partitionOf(key: string, partitions: number): number {
  let hash = hashes.get(key);
  if (hash === undefined) {
    hash = murmur2(key) & 0x7fffffff;
    if (hashes.size >= MAX_REMEMBERED) hashes.clear();
    hashes.set(key, hash);
  }
  return hash % partitions;
}
