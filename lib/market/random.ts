/**
 * A small seeded PRNG (mulberry32) for the market simulator: deterministic, fast, and good enough
 * for simulated prices. Not for anything security related.
 */
// Bound once: global lookups are slow in vm sandboxes (jest runs tests in one), and these are hot.
const { cos, imul, log, sin, sqrt, PI } = Math;

export class Random {
  private state: number;
  /** Second value of the last Box-Muller pair, handed out by the next `normal()` call. */
  private spare: number | undefined;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) | 0;
    let t = this.state;
    t = imul(t ^ (t >>> 15), t | 1);
    t ^= t + imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Standard normal (Box-Muller). */
  normal(): number {
    if (this.spare !== undefined) {
      const value = this.spare;
      this.spare = undefined;
      return value;
    }
    const u1 = 1 - this.next(); // in (0, 1]: log(0) never happens
    const u2 = this.next();
    const radius = sqrt(-2 * log(u1));
    this.spare = radius * sin(2 * PI * u2);
    return radius * cos(2 * PI * u2);
  }

  /** Exponentially distributed with the given rate (mean 1 / rate). */
  exponential(rate: number): number {
    return -log(1 - this.next()) / rate;
  }
}

/** Hashes the parts (FNV-1a, then a murmur3 finaliser) into a 32-bit unsigned seed. */
export function seedFrom(...parts: (string | number)[]): number {
  let hash = 0x811c9dc5;
  const text = parts.map(String).join("\u0000");
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = imul(hash, 0x01000193);
  }
  hash ^= hash >>> 16;
  hash = imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}
