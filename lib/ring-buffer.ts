/** Fixed-capacity buffer keeping the newest items: bounded in-memory history. */
export class RingBuffer<T> {
  private readonly items: T[] = [];
  private start = 0;

  constructor(private readonly capacity: number) {}

  push(item: T): void {
    if (this.items.length < this.capacity) this.items.push(item);
    else {
      this.items[this.start] = item;
      this.start = (this.start + 1) % this.capacity;
    }
  }

  get size(): number {
    return this.items.length;
  }

  /** Oldest first. */
  toArray(): T[] {
    return [...this.items.slice(this.start), ...this.items.slice(0, this.start)];
  }
}

/** One bounded buffer per key: an instrument's recent trades, its recent signals. */
export class RingsByKey<T> {
  private readonly rings = new Map<string, RingBuffer<T>>();

  constructor(private readonly capacity: number) {}

  push(key: string, item: T): void {
    let ring = this.rings.get(key);
    if (!ring) this.rings.set(key, (ring = new RingBuffer<T>(this.capacity)));
    ring.push(item);
  }

  /** The newest `limit` items of a key, oldest first. */
  newest(key: string, limit: number): T[] {
    return (this.rings.get(key)?.toArray() ?? []).slice(-limit);
  }
}
