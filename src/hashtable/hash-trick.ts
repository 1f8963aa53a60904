import type { Batch } from '../batch/batch.js';
import { ConfigError } from '../errors.js';
import { mixFid } from './fid-hash.js';

/**
 * The hashing trick, as the baseline of Monolith's collisionless tables: a
 * fixed-size table of `buckets` rows per slot, where each FID keeps its slot
 * and its id is replaced by `hash(fid) mod buckets`, so distinct ids may share
 * (collide in) one embedding. FIDs are given as uint32 word pairs [lo, hi].
 * The hash covers the slot bits as well, so the same id collides with
 * different partners in different slots.
 */
export interface HashTrickOptions {
  /** Buckets (embedding rows) per slot, 1..2^32. */
  buckets: number;
  /** Bits of the slot at the top of the FID: 10 for fid v1 (slot << 54), 15 for fid v2 (slot << 48). Default 10. */
  slotBits?: 10 | 15;
  /** Mixed into the hash (a different seed gives a different collision pattern). Default 0. */
  seed?: number;
}

export class HashTrick {
  readonly buckets: number;
  readonly slotBits: number;
  private readonly seed: number;
  private readonly slotMask: number;

  constructor(opts: HashTrickOptions) {
    if (!(Number.isInteger(opts.buckets) && opts.buckets >= 1 && opts.buckets <= 2 ** 32)) {
      throw new ConfigError(`hash trick: buckets must be an integer in 1..2^32, got ${opts.buckets}`);
    }
    this.slotBits = opts.slotBits ?? 10;
    if (this.slotBits !== 10 && this.slotBits !== 15) throw new ConfigError(`hash trick: slotBits must be 10 (fid v1) or 15 (fid v2), got ${String(opts.slotBits)}`);
    this.buckets = opts.buckets;
    this.seed = opts.seed ?? 0;
    this.slotMask = ~(2 ** (32 - this.slotBits) - 1) >>> 0;
  }

  /** The slot bits of a FID's high word (as they stand in the word). */
  slotWord(hi: number): number {
    return (hi & this.slotMask) >>> 0;
  }

  /** Bucket of one FID, in [0, buckets). */
  bucketOf(lo: number, hi: number): number {
    return (mixFid(lo ^ this.seed, hi) >>> 0) % this.buckets;
  }

  /** Maps FID word pairs: same slot, id = bucket. Writes into `out` (default a new array; may be `fids`). */
  mapFids(fids: Uint32Array, out: Uint32Array = new Uint32Array(fids.length)): Uint32Array {
    if (fids.length % 2 !== 0) throw new ConfigError(`hash trick: FIDs come as [lo, hi] word pairs, got ${fids.length} words`);
    for (let i = 0; i < fids.length; i += 2) {
      const lo = fids[i]!;
      const hi = fids[i + 1]!;
      out[i] = this.bucketOf(lo, hi);
      out[i + 1] = this.slotWord(hi);
    }
    return out;
  }

  /** A copy of `batch` whose sparse columns hold mapped FIDs (everything else is shared). */
  mapBatch(batch: Batch): Batch {
    return { ...batch, sparse: batch.sparse.map((c) => ({ ...c, fids: this.mapFids(c.fids) })) };
  }
}

/**
 * Counts, over the distinct FIDs it is shown, how many share a bucket with
 * another distinct FID under a HashTrick (the collision rate). Repeated FIDs
 * count once.
 */
export class CollisionCounter {
  /** Distinct FIDs seen: high word → low words. */
  private readonly seen = new Map<number, Set<number>>();
  /** Distinct FIDs per bucket, keyed by slot · 2^32 + bucket (< 2^47: exact in a double). */
  private readonly perBucket = new Map<number, number>();
  private distinctIds = 0;
  private collidingIds = 0;

  constructor(private readonly trick: HashTrick) {}

  /** Records FID word pairs [lo, hi, lo, hi, ...]. */
  add(fids: Uint32Array): void {
    for (let i = 0; i < fids.length; i += 2) {
      const lo = fids[i]!;
      const hi = fids[i + 1]!;
      let los = this.seen.get(hi);
      if (!los) this.seen.set(hi, (los = new Set()));
      if (los.has(lo)) continue;
      los.add(lo);
      this.distinctIds++;
      const key = (this.trick.slotWord(hi) >>> (32 - this.trick.slotBits)) * 4294967296 + this.trick.bucketOf(lo, hi);
      const n = (this.perBucket.get(key) ?? 0) + 1;
      this.perBucket.set(key, n);
      if (n === 2) this.collidingIds += 2;
      else if (n > 2) this.collidingIds += 1;
    }
  }

  /** Records every sparse column of a batch (original, unmapped FIDs). */
  addBatch(batch: Batch): void {
    for (const c of batch.sparse) this.add(c.fids);
  }

  get distinct(): number {
    return this.distinctIds;
  }
  /** Distinct FIDs that share their bucket with at least one other. */
  get colliding(): number {
    return this.collidingIds;
  }
  /** Buckets holding at least one FID (the rows the hashed table really uses). */
  get usedBuckets(): number {
    return this.perBucket.size;
  }
  /** colliding / distinct (0 when nothing was seen). */
  get rate(): number {
    return this.distinctIds === 0 ? 0 : this.collidingIds / this.distinctIds;
  }
}

/** Expected collision rate of `n` distinct ids hashed uniformly into `buckets`: 1 - (1 - 1/B)^(n-1). */
export function expectedCollisionRate(n: number, buckets: number): number {
  return n <= 1 ? 0 : 1 - Math.pow(1 - 1 / buckets, n - 1);
}
