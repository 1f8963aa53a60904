import { threadId } from 'node:worker_threads';
import { mixFid, shardOfHash } from './fid-hash.js';
import { idCount, type IdWords } from './id-batch.js';
import type { TableShard } from './table-shard.js';

/**
 * One thread's view of a batch over a table's shards: the batch laid out by
 * shard, and the round over the shards that holds each one's lock while its
 * slice is worked on. Per-instance (per-thread) scratch space.
 */
export class ShardBatch {
  private hashes = new Uint32Array(0);
  /** 2 words per id, `[hash, input index]`, shard s's ids at `starts[s] .. starts[s + 1]`. */
  packed = new Int32Array(0);
  private shardOfKey = new Int32Array(0);
  readonly starts: Int32Array;
  private readonly deferred: Int32Array;
  private readonly fillAt: Int32Array;
  /** Where this thread starts its round over the shards (threads start apart, so they rarely meet). */
  private readonly firstShard: number;

  constructor(readonly shards: readonly TableShard[]) {
    this.starts = new Int32Array(shards.length + 1);
    this.deferred = new Int32Array(shards.length);
    this.fillAt = new Int32Array(shards.length);
    this.firstShard = Math.floor(((threadId * 0.6180339887498949) % 1) * shards.length);
  }

  /**
   * Hashes every id and lays the batch out by shard (counting sort) in
   * `packed`: 2 words per id `[hash, input index]`, shard s's ids at
   * `starts[s] .. starts[s + 1]`, so each shard's loop reads them in sequence
   * (and the id's words from the batch, which stays in cache).
   */
  partition(w: IdWords): number {
    const n = idCount(w);
    if (this.hashes.length < n) {
      this.hashes = new Uint32Array(n);
      this.packed = new Int32Array(2 * n);
      this.shardOfKey = new Int32Array(n);
    }
    const hashes = this.hashes;
    const packed = this.packed;
    const ns = this.shards.length;
    if (ns === 1) {
      for (let i = 0; i < n; i++) {
        packed[2 * i] = mixFid(w[2 * i]!, w[2 * i + 1]!);
        packed[2 * i + 1] = i;
      }
      this.starts[0] = 0;
      this.starts[1] = n;
      return n;
    }
    const starts = this.starts.fill(0);
    const sk = this.shardOfKey;
    for (let i = 0; i < n; i++) {
      const h = mixFid(w[2 * i]!, w[2 * i + 1]!);
      hashes[i] = h;
      const s = shardOfHash(h, ns);
      sk[i] = s;
      starts[s + 1]!++;
    }
    for (let s = 0; s < ns; s++) starts[s + 1] += starts[s]!;
    const fill = this.fillAt;
    for (let s = 0; s < ns; s++) fill[s] = starts[s]!;
    for (let i = 0; i < n; i++) {
      const p = 2 * fill[sk[i]!]!++;
      packed[p] = hashes[i]!;
      packed[p + 1] = i;
    }
    return n;
  }

  /**
   * Runs `fn` once per shard that has ids in the partitioned batch, holding
   * that shard's lock. Shards are visited from a per-thread starting point and
   * a busy shard is put off (tryLock) until the others are done, so threads
   * working on different batches rarely wait for each other.
   */
  eachShard(fn: (sh: TableShard, from: number, to: number) => void): void {
    const ns = this.shards.length;
    const starts = this.starts;
    const deferred = this.deferred;
    let nd = 0;
    for (let q = 0; q < ns; q++) {
      const s = q + this.firstShard < ns ? q + this.firstShard : q + this.firstShard - ns;
      const from = starts[s]!;
      const to = starts[s + 1]!;
      if (from === to) continue;
      const sh = this.shards[s]!;
      if (ns === 1) sh.lock();
      else if (!sh.tryLock()) {
        deferred[nd++] = s;
        continue;
      }
      try {
        fn(sh, from, to);
      } finally {
        sh.unlock();
      }
    }
    for (let q = 0; q < nd; q++) {
      const s = deferred[q]!;
      const sh = this.shards[s]!;
      sh.lock();
      try {
        fn(sh, starts[s]!, starts[s + 1]!);
      } finally {
        sh.unlock();
      }
    }
  }
}
