import { Rng } from '../util/random.js';

/** A seed or a generator to draw from; null / undefined: an unseeded generator. */
export type RandomSource = number | Rng | null | undefined;

/** murmur3's 32-bit finalizer: spreads small, consecutive seeds over the whole state. */
function mix32(x: number): number {
  x = (x + 0x9e3779b9) | 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) | 0;
}

/**
 * The generator of a random source. Seeds are mixed and the first draws
 * skipped: xoroshiro128+ seeded with a small integer starts with nearly the
 * same outputs for neighbouring seeds (seeds 0..15 all draw ~1.0 first).
 */
export function rngOf(r: RandomSource): Rng {
  if (r instanceof Rng) return r;
  const rng = new Rng(mix32(r ?? (Math.random() * 2 ** 31) | 0));
  for (let i = 0; i < 4; i++) rng.u32();
  return rng;
}
