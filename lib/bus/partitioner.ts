/** Kafka's default partitioner (murmur2 of the key), so a key lands in the same partition on both buses. */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const murmur2: (key: string) => number = require("kafkajs/src/producer/partitioners/default/murmur2");

export function partitionOf(key: string, partitions: number): number {
  return (murmur2(key) & 0x7fffffff) % partitions;
}
