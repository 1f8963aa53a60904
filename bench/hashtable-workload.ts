import { EmbeddingHashTable } from '../src/hashtable/embedding-hash-table.js';

/** The bench-ref workload in TypeScript: ids as (lo, hi) words, Zipf(1.05) popularity ranks. */
export const BATCH = 4096;

function fmix(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/** Rank -> distinct FID words: slot 1..1000 in the high 16 bits, rank mixed into the low 48. */
export function fidWords(rank: number, out: Uint32Array, at: number): void {
  // fmix is a bijection on 32 bits, so distinct ranks (< 2^32) give distinct low words.
  out[2 * at] = fmix(rank);
  out[2 * at + 1] = (((1 + (fmix(rank + 0x9e3779b9) % 1000)) << 16) | (Math.floor(rank / 2 ** 32) & 0xffff)) >>> 0;
}

/**
 * Zipf(s) ranks over [0, U) by inverting the continuous approximation of the
 * CDF (an approximation of bench-ref's exact sampler; same head/tail shape).
 */
export function zipfRanks(n: number, U: number, s: number, seed: number): Float64Array {
  const out = new Float64Array(n);
  let x = seed >>> 0 || 1;
  const a = 1 - s;
  const top = Math.pow(U + 1, a) - 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    const u = (x >>> 0) / 4294967296;
    const r = Math.floor(Math.pow(1 + u * top, 1 / a)) - 1;
    out[i] = Math.min(U - 1, Math.max(0, r));
  }
  return out;
}

export function wordsOfRanks(ranks: Float64Array): Uint32Array {
  const w = new Uint32Array(ranks.length * 2);
  for (let i = 0; i < ranks.length; i++) fidWords(ranks[i]!, w, i);
  return w;
}

export function adagradTable(dim: number, size: number, shards: number): EmbeddingHashTable {
  return EmbeddingHashTable.create({
    entry: { segments: [{ dimSize: dim, initConfig: { randomUniform: {} }, optConfig: { adagrad: { learningRate: 0.01, initialAccumulatorValue: 0.1 } } }] },
    shards,
    initialCapacity: size,
  });
}
