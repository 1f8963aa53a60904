import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { uniformBigInt } from 'pure-rand/distribution/uniformBigInt';
import type { RandomGenerator } from 'pure-rand/types/RandomGenerator';

function mixSeed(seed: number): number {
  let x = (seed + 0x9e3779b9) | 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) | 0;
}

/** A seeded random source (xoroshiro128+); the same seed gives the same sequence everywhere. */
export class Rng {
  private readonly gen: RandomGenerator;
  private spare: number | undefined;

  constructor(seed: number = Date.now()) {
    // xoroshiro128+ seeded with nearby small integers starts with nearly equal
    // draws; scrambling the seed first (a murmur3 finalizer) decorrelates them.
    this.gen = xoroshiro128plus(mixSeed(seed | 0));
  }

  /** Uniform in [0, 1). */
  float(): number {
    return uniformFloat64(this.gen);
  }

  /** Uniform in [a, b). */
  uniform(a = 0, b = 1): number {
    return a + (b - a) * this.float();
  }

  /** Uniform integer in [lo, hi], both included. */
  int(lo: number, hi: number): number {
    return uniformInt(this.gen, lo, hi);
  }

  /** Uniform bigint in [lo, hi], both included. */
  bigint(lo: bigint, hi: bigint): bigint {
    return uniformBigInt(this.gen, lo, hi);
  }

  /** 32 random bits as an unsigned number. */
  u32(): number {
    return this.gen.next() >>> 0;
  }

  /** Standard normal (Box-Muller). */
  normal(mean = 0, std = 1): number {
    if (this.spare !== undefined) {
      const s = this.spare;
      this.spare = undefined;
      return mean + std * s;
    }
    let u = 0;
    while (u === 0) u = this.float();
    const v = this.float();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return mean + std * r * Math.cos(2 * Math.PI * v);
  }

  choice<T>(items: readonly T[]): T {
    return items[this.int(0, items.length - 1)]!;
  }

  /** A new independent generator seeded from this one. */
  fork(): Rng {
    return new Rng(this.gen.next());
  }
}
