/**
 * Hashing of 64-bit FIDs given as two uint32 words, all in 32-bit integer
 * arithmetic (Math.imul) so hot paths never touch BigInt.
 */

/** A well-mixed 32-bit hash of the 64-bit key (hi, lo): murmur3's fmix32 over a fold of both words. */
export function mixFid(lo: number, hi: number): number {
  let h = Math.imul(hi ^ 0x9e3779b9, 0x85ebca6b) ^ lo;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * Which of `n` shards owns a key with hash `h`. Slot positions inside a shard
 * use the top bits of `h` (Fibonacci-style), so the shard is picked from a
 * second multiply of `h` to keep the two choices independent.
 */
export function shardOfHash(h: number, n: number): number {
  if (n === 1) return 0;
  const g = Math.imul(h ^ (h >>> 13), 0x2c1b3c6d) >>> 0;
  // Multiply-shift instead of `g % n`: a uint32 above 2^31 makes V8 use a slow float modulo.
  return ((g * n) / 4294967296) | 0;
}

/** Shard of a FID given as words. */
export function shardOfFid(lo: number, hi: number, n: number): number {
  return shardOfHash(mixFid(lo, hi), n);
}
