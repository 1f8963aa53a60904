import { ConfigError } from '../errors.js';
import { regularizationScaleOf, type ApplyGradientsOptions, type EmbeddingHashTableConfig, type EmbeddingHashTableHandle, type TableRuntimeOptions } from './embedding-hash-table-config.js';
import { EntryLayout } from './entry-config.js';
import { EntryRows } from './entry-rows.js';
import { HashTableError, UnsupportedOperationError } from './errors.js';
import { mixFid, shardOfHash } from './fid-hash.js';
import { idAt, idCount, toIdWords, type IdsInput, type IdWords } from './id-batch.js';
import { segmentLearningRates } from './learning-rate.js';
import { expireTimes, occurrenceThresholds, SlotTable } from './slot-policy.js';
import { ShardBatch } from './shard-batch.js';
import { SliceApply } from './slice-apply.js';
import { SliceLookup } from './slice-lookup.js';
import { TableShard } from './table-shard.js';
import { vocabularyRegularizationFactor } from './vocabulary-regularization.js';

export type { ApplyGradientsOptions, EmbeddingHashTableConfig, EmbeddingHashTableHandle, TableRuntimeOptions } from './embedding-hash-table-config.js';

const wallClock = (): number => Math.floor(Date.now() / 1000);

/**
 * A collisionless embedding table keyed by 64-bit FIDs, sharded by a hash of
 * the FID; each shard is a `TableShard` in shared memory with its own lock.
 * Batched operations take each shard's lock once per batch. Several
 * instances (one per worker thread, via `handle()`/`attach()`) share the
 * same entries.
 */
export class EmbeddingHashTable {
  readonly layout: EntryLayout;
  readonly shards: TableShard[];
  readonly name: string;
  private readonly clock: () => number;
  private readonly thresholds: SlotTable;
  private readonly expiry: SlotTable;
  private readonly entries: EntryRows;
  // Per-instance (per-thread) scratch space.
  private readonly batch: ShardBatch;
  private readonly lookups: SliceLookup;
  private readonly applies: SliceApply;
  private readonly lrs: Float64Array;
  /** Regularization factor per segment for the batch being applied. */
  private readonly regs: Float64Array;

  private constructor(
    readonly config: EmbeddingHashTableConfig,
    shards: TableShard[],
    runtime: TableRuntimeOptions,
  ) {
    this.layout = new EntryLayout(config.entry, config.seed ?? 0);
    this.shards = shards;
    this.name = config.name ?? 'table';
    this.clock = runtime.clock ?? wallClock;
    const v = config.fidVersion ?? 2;
    this.thresholds = new SlotTable(occurrenceThresholds(config.occurrenceThreshold), v);
    this.expiry = new SlotTable(expireTimes(config.expireTime), v);
    this.entries = new EntryRows(this.layout, this.thresholds);
    this.batch = new ShardBatch(shards);
    this.lookups = new SliceLookup(this.entries, this.batch);
    this.applies = new SliceApply(this.entries, this.batch);
    this.lrs = new Float64Array(this.layout.segments.length);
    this.regs = new Float64Array(this.layout.segments.length);
    if (config.learningRates && config.learningRates.length !== this.layout.segments.length) {
      throw new ConfigError(`table ${this.name}: ${config.learningRates.length} learning rates for ${this.layout.segments.length} segments`);
    }
  }

  static create(config: EmbeddingHashTableConfig, runtime: TableRuntimeOptions = {}): EmbeddingHashTable {
    const n = config.shards ?? 1;
    if (!Number.isInteger(n) || n < 1) throw new ConfigError(`table ${config.name ?? ''}: shards must be a positive integer, got ${n}`);
    const layout = new EntryLayout(config.entry, config.seed ?? 0);
    const per = Math.max(16, Math.ceil((config.initialCapacity ?? 16) / n));
    const shards = Array.from({ length: n }, () => TableShard.create(layout.stride, per));
    return new EmbeddingHashTable(config, shards, runtime);
  }

  /** Attaches to a table created in another thread (same shared memory). */
  static attach(handle: EmbeddingHashTableHandle, runtime: TableRuntimeOptions = {}): EmbeddingHashTable {
    return new EmbeddingHashTable(handle.config, handle.shards.map((m) => new TableShard(m)), runtime);
  }

  handle(): EmbeddingHashTableHandle {
    return { config: this.config, shards: this.shards.map((s) => s.mem) };
  }

  get dim(): number {
    return this.layout.dim;
  }
  get serving(): boolean {
    return this.layout.serving;
  }
  /** Admitted entries over all shards. */
  get size(): number {
    let n = 0;
    for (const s of this.shards) n += s.size;
    return n;
  }
  /** Shared bytes held by the table. */
  get bytes(): number {
    let n = 0;
    for (const s of this.shards) n += s.bytes;
    return n;
  }
  now(): number {
    return this.clock();
  }

  // ---- batch plumbing -------------------------------------------------------

  private checkValues(what: string, n: number, values: Float32Array): void {
    if (values.length !== n * this.dim) {
      throw new HashTableError(`table ${this.name}: ${what} needs ${n} x ${this.dim} = ${n * this.dim} floats, got ${values.length}`);
    }
  }


  /**
   * Embeddings of `ids` (n x dim, in input order). A missing id is created by
   * the initializer unless the occurrence filter holds it back (then zeros).
   * Serving tables never insert.
   */
  lookup(ids: IdsInput, out?: Float32Array): Float32Array {
    return this.lookupImpl(ids, out, !this.layout.serving);
  }

  /** Like `lookup` but never inserts or counts: missing ids give zeros. */
  lookupOnly(ids: IdsInput, out?: Float32Array): Float32Array {
    return this.lookupImpl(ids, out, false);
  }

  private lookupImpl(ids: IdsInput, out: Float32Array | undefined, insert: boolean): Float32Array {
    const w = toIdWords(ids);
    const n = this.batch.partition(w);
    const dim = this.dim;
    const res = out ?? new Float32Array(n * dim);
    this.checkValues('lookup output', n, res);
    const ts = insert ? this.clock() : 0;
    const res64 = this.layout.wide && res.byteOffset % 8 === 0 ? new Float64Array(res.buffer, res.byteOffset, res.length >>> 1) : undefined;
    this.batch.eachShard((sh, from, to) => {
      if (this.layout.halves) this.lookups.lookupSliceGeneric(sh, w, from, to, res, insert, ts);
      else this.lookups.lookupSlice(sh, w, from, to, res, res64, insert, ts);
    });
    return res;
  }

  /** Runs `fn(sh, row, i)` for each id, creating missing entries (no filter); rows of skipped ids get -1. */
  private forEachRow(ids: IdsInput, fn: (sh: TableShard, row: number, i: number) => void, skip?: (i: number) => boolean): number {
    const w = toIdWords(ids);
    const n = this.batch.partition(w);
    const ts = this.clock();
    const packed = this.batch.packed;
    const tsWord = this.layout.tsWord;
    this.batch.eachShard((sh, from, to) => {
      for (let k = from; k < to; k++) {
        const h = packed[2 * k]! >>> 0;
        const i = packed[2 * k + 1]!;
        const lo = w[2 * i]! | 0;
        const hi = w[2 * i + 1]! | 0;
        const slot = sh.find(lo, hi, h);
        let v = slot >= 0 ? sh.valAt(slot) : 0;
        if (v <= 0) {
          if (skip?.(i)) continue;
          v = this.entries.createRow(sh, slot, lo, hi, h, ts);
        }
        sh.u32[(v - 1) * sh.stride + tsWord] = ts;
        sh.noteUpdateTs(ts);
        fn(sh, v - 1, i);
      }
    });
    return n;
  }

  /** Sets the embeddings of `ids` (creating entries; for a repeated id the last value wins). */
  assign(ids: IdsInput, values: Float32Array): void {
    const n = idCount(toIdWords(ids));
    this.checkValues('assign values', n, values);
    const dim = this.dim;
    const skipZero = this.config.skipZeroEmbedding ? (i: number) => isZero(values, i * dim, dim) : undefined;
    this.forEachRow(ids, (sh, row, i) => this.entries.writeEmbedding(sh, row, values, i * dim), skipZero);
  }

  /** Adds `values` to the embeddings of `ids` (creating entries with the initializer first). */
  assignAdd(ids: IdsInput, values: Float32Array): void {
    const n = idCount(toIdWords(ids));
    this.checkValues('assign_add values', n, values);
    const dim = this.dim;
    const cur = new Float32Array(dim);
    this.forEachRow(ids, (sh, row, i) => {
      this.entries.readRow(sh, row + 1, cur, 0);
      for (let j = 0; j < dim; j++) cur[j] += values[i * dim + j]!;
      this.entries.writeEmbedding(sh, row, cur, 0);
    });
  }


  /** Learning rate of each segment at `step` (explicit overrides win), including optimizer warmup. */
  learningRates(step: number, explicit?: readonly number[]): Float64Array {
    return segmentLearningRates(this.layout.segments, this.config.learningRates, step, explicit, this.lrs);
  }

  /**
   * Applies gradients (n x dim, in input order): gradients of a repeated id are
   * summed and its optimizer runs once. Missing ids are created (as in
   * Monolith) unless the occurrence filter holds them back: their gradients
   * are dropped.
   */
  applyGradients(ids: IdsInput, grads: Float32Array, opts: ApplyGradientsOptions = {}): void {
    if (this.layout.serving) throw new UnsupportedOperationError(`table ${this.name}: SERVING entries have no optimizer; applyGradients is not supported`);
    const w = toIdWords(ids);
    const n = this.batch.partition(w);
    this.checkValues('gradients', n, grads);
    const dim = this.dim;
    const step = opts.globalStep ?? 0;
    const lrs = this.learningRates(step, opts.learningRates);
    const ts = this.clock();
    const regs = this.regularizationFactors(regularizationScaleOf(opts));
    this.applies.reserve(n);
    this.batch.eachShard((sh, from, to) => {
      const count = this.applies.dedupSlice(sh, w, from, to, grads, ts);
      if (count > 0) this.applies.updateRows(sh, count, grads, lrs, step, ts, regs);
    });
  }

  /**
   * Per segment, the factor its regularization is multiplied by for this batch: `scale` times, for a
   * segment with a vocabularyRegularization, the factor of the table's vocabulary or the ids it holds.
   * Undefined when every factor is 1.
   */
  regularizationFactors(scale = 1): Float64Array | undefined {
    const segs = this.layout.segments;
    if (scale === 1 && !segs.some((sg) => sg.vocabularyRegularization)) return undefined;
    const held = this.size;
    segs.forEach((sg, k) => (this.regs[k] = scale * (sg.vocabularyRegularization ? vocabularyRegularizationFactor(sg.vocabularyRegularization, held) : 1)));
    return this.regs;
  }

  /**
   * Re-runs the initializer (and resets optimizer state) for `ids`. Status per
   * id: 1 when the entry existed, 0 when it was created now.
   */
  reinitialize(ids: IdsInput): Int32Array {
    const w = toIdWords(ids);
    const status = new Int32Array(idCount(w));
    const existed = new Uint8Array(status.length);
    this.batch.partition(w);
    const packed = this.batch.packed;
    this.batch.eachShard((sh, from, to) => {
      for (let k = from; k < to; k++) {
        const i = packed[2 * k + 1]!;
        const slot = sh.find(w[2 * i]!, w[2 * i + 1]!, packed[2 * k]! >>> 0);
        existed[i] = slot >= 0 && sh.valAt(slot) > 0 ? 1 : 0;
      }
    });
    this.forEachRow(w, (sh, row, i) => {
      this.entries.initRow(sh, row, w[2 * i]!, w[2 * i + 1]!);
      status[i] = existed[i]!;
    });
    return status;
  }

  /**
   * Removes entries not updated for longer than their slot's expire time
   * (days) before `now` (default: the clock). Returns how many were removed.
   */
  evict(now = this.clock()): number {
    let removed = 0;
    const tsWord = this.layout.tsWord;
    for (const sh of this.shards) {
      sh.lock();
      try {
        removed += sh.compact((_lo, hi, v) => {
          if (v < 0) return true;
          const ts = sh.u32[(v - 1) * sh.stride + tsWord]!;
          return now - ts < this.expiry.forHi(hi) * 86400;
        });
      } finally {
        sh.unlock();
      }
    }
    return removed;
  }

  /** Expire time in seconds of the slot of a FID's high word. */
  expireSecondsForHi(hi: number): number {
    return this.expiry.forHi(hi) * 86400;
  }

  /** Drops every entry. */
  clear(): void {
    for (const sh of this.shards) {
      sh.lock();
      try {
        sh.clear();
      } finally {
        sh.unlock();
      }
    }
  }

  /** The embedding of one entry as plain numbers (decoded from halves when needed). */
  readEmbedding(sh: TableShard, row: number, out: Float32Array = new Float32Array(this.dim)): Float32Array {
    this.entries.readRow(sh, row + 1, out, 0);
    return out;
  }

  /**
   * Declares broken the shard locks the exited thread `threadId` died holding:
   * threads waiting for them, and every later operation on those shards, throw
   * `LockHolderDiedError` instead of waiting forever. Returns those shards.
   */
  breakLocksOf(threadId: number): number[] {
    const broken: number[] = [];
    this.shards.forEach((sh, s) => sh.breakLockOf(threadId) && broken.push(s));
    return broken;
  }

  /** Shards whose lock is held right now (or was held by a thread that died), with the holder's thread id. */
  heldLocks(): Array<{ shard: number; thread: number }> {
    const held: Array<{ shard: number; thread: number }> = [];
    this.shards.forEach((sh, s) => {
      const t = sh.lockHolder;
      if (t !== undefined) held.push({ shard: s, thread: t });
    });
    return held;
  }

  /**
   * Visits every entry of shard `s` under its lock: `fn(lo, hi, row)`; the
   * row's words are at `row * stride` in the shard's views.
   */
  forEachEntry(s: number, fn: (lo: number, hi: number, row: number, sh: TableShard) => void): void {
    const sh = this.shards[s]!;
    sh.lock();
    try {
      sh.forEachSlot((lo, hi, v) => {
        if (v > 0) fn(lo, hi, v - 1, sh);
      });
    } finally {
      sh.unlock();
    }
  }

  /**
   * Writes one entry as a checkpoint holds it: embedding, the optimizer state
   * `restoreState(rows, base)` fills (or the optimizers' init), and its time.
   */
  putEntry(lo: number, hi: number, num: ArrayLike<number>, ts: number, restoreState?: (f: Float32Array, base: number) => void): void {
    const h = mixFid(lo, hi);
    const sh = this.shards[shardOfHash(h, this.shards.length)]!;
    sh.lock();
    try {
      const slot = sh.find(lo, hi, h);
      let v = slot >= 0 ? sh.valAt(slot) : 0;
      if (v <= 0) v = this.entries.createRow(sh, slot, lo, hi, h, ts);
      const row = v - 1;
      this.entries.writeEmbedding(sh, row, num, 0);
      const base = row * sh.stride;
      if (!this.layout.serving) {
        if (restoreState) restoreState(sh.f32, base);
        else for (const seg of this.layout.segments) seg.optimizer.init(sh.f32, base + seg.stateAt);
      }
      sh.u32[base + this.layout.tsWord] = ts;
      sh.noteUpdateTs(ts);
    } finally {
      sh.unlock();
    }
  }

  /** Largest last-update time over all shards (seconds). */
  get maxUpdateTs(): number {
    let m = 0;
    for (const s of this.shards) m = Math.max(m, s.maxUpdateTs);
    return m;
  }

  /** For error messages. */
  describeId(w: IdWords, i: number): string {
    return idAt(w, i).toString();
  }
}

function isZero(v: Float32Array, at: number, n: number): boolean {
  for (let j = 0; j < n; j++) if (v[at + j] !== 0) return false;
  return true;
}
