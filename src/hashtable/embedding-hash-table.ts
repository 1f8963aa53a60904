import { ConfigError } from '../errors.js';
import { BatchDedup } from './batch-dedup.js';
import { EntryLayout, type EntryConfig } from './entry-config.js';
import { HashTableError, UnsupportedOperationError } from './errors.js';
import { mixFid, shardOfHash } from './fid-hash.js';
import { fromHalf, toHalf } from './fp16.js';
import { idAt, idCount, toIdWords, type IdsInput, type IdWords } from './id-batch.js';
import { learningRateAt, type LearningRate } from './learning-rate.js';
import { expireTimes, occurrenceThresholds, SlotTable, type ExpireTimeInput, type FidVersion, type OccurrenceThresholdInput } from './slot-policy.js';
import { TableShard, type ShardMemory } from './table-shard.js';

/** Everything that defines a table. Plain data: it is sent to worker threads with the shard buffers. */
export interface EmbeddingHashTableConfig {
  name?: string;
  entry: EntryConfig;
  /** Per segment; default: each segment's optimizer learning_rate. */
  learningRates?: LearningRate[];
  /** Shards, each with its own lock (default 1). */
  shards?: number;
  /** Expected entries, to size the shards up front (default 16 per shard). */
  initialCapacity?: number;
  /** Seed of the random initializers (default 0). */
  seed?: number;
  /** Per-slot occurrence thresholds: an id becomes an entry once it was seen `threshold` times before. */
  occurrenceThreshold?: OccurrenceThresholdInput;
  /** Per-slot expire time in days for `evict()` and for saving (default 36500). */
  expireTime?: ExpireTimeInput;
  /** Serving: `assign` of an all-zero embedding does not create an entry. */
  skipZeroEmbedding?: boolean;
  fidVersion?: FidVersion;
  /** Older names this table's checkpoint may have been saved under (MergedMultiTypeHashTable's `fc_slot_*` names). */
  extraRestoreNames?: string[];
}

export interface TableRuntimeOptions {
  /** Seconds since the epoch; injectable for tests. Default: wall clock. */
  clock?: () => number;
}

/** What a worker needs to attach to a table made elsewhere. */
export interface EmbeddingHashTableHandle {
  config: EmbeddingHashTableConfig;
  shards: ShardMemory[];
}

export interface ApplyGradientsOptions {
  /** Global step for learning-rate functions and warmup (default 0). */
  globalStep?: number;
  /** Explicit learning rate per segment, overriding the configured ones. */
  learningRates?: readonly number[];
}

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
  private readonly filtered: boolean;
  // Per-instance (per-thread) scratch space.
  private hashes = new Uint32Array(0);
  private order = new Int32Array(0);
  private shardOfKey = new Int32Array(0);
  private starts = new Int32Array(0);
  private gradAcc = new Float32Array(0);
  private uniqRows = new Int32Array(0);
  private readonly dedup = new BatchDedup();
  private readonly lrs: Float64Array;

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
    this.filtered = !(this.thresholds.uniform && this.thresholds.default <= 0);
    this.starts = new Int32Array(shards.length + 1);
    this.lrs = new Float64Array(this.layout.segments.length);
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

  /** Hashes every id and orders the batch by shard (counting sort) into `order`/`starts`. */
  private partition(w: IdWords): number {
    const n = idCount(w);
    if (this.hashes.length < n) {
      this.hashes = new Uint32Array(n);
      this.order = new Int32Array(n);
      this.shardOfKey = new Int32Array(n);
    }
    const hashes = this.hashes;
    const order = this.order;
    const ns = this.shards.length;
    if (ns === 1) {
      for (let i = 0; i < n; i++) {
        hashes[i] = mixFid(w[2 * i]!, w[2 * i + 1]!);
        order[i] = i;
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
    const fill = Int32Array.from(starts.subarray(0, ns));
    for (let i = 0; i < n; i++) order[fill[sk[i]!]!++] = i;
    return n;
  }

  private checkValues(what: string, n: number, values: Float32Array): void {
    if (values.length !== n * this.dim) {
      throw new HashTableError(`table ${this.name}: ${what} needs ${n} x ${this.dim} = ${n * this.dim} floats, got ${values.length}`);
    }
  }

  /** Makes a new row for (lo, hi) in `sh`, initialised, and returns row + 1. `slot` is the find() result. */
  private createRow(sh: TableShard, slot: number, lo: number, hi: number, h: number, ts: number): number {
    const row = sh.allocRow();
    this.initRow(sh, row, lo, hi);
    sh.u32[row * sh.stride + this.layout.tsWord] = ts;
    sh.noteUpdateTs(ts);
    if (slot >= 0) sh.admit(slot, row);
    else sh.insert(lo, hi, h, row + 1);
    return row + 1;
  }

  private initRow(sh: TableShard, row: number, lo: number, hi: number): void {
    const base = row * sh.stride;
    const f = sh.f32;
    const L = this.layout;
    if (L.halves) {
      const tmp = this.tmpRow();
      for (const seg of L.segments) seg.initializer(tmp, seg.embAt, lo, hi);
      this.writeHalves(sh, base, tmp, 0);
      return;
    }
    for (const seg of L.segments) {
      seg.initializer(f, base + seg.embAt, lo, hi);
      if (!L.serving) seg.optimizer.init(f, base + seg.stateAt);
    }
  }

  private tmp: Float32Array | undefined;
  private tmpRow(): Float32Array {
    return (this.tmp ??= new Float32Array(this.dim));
  }
  private writeHalves(sh: TableShard, base: number, src: ArrayLike<number>, at: number): void {
    const h = sh.u16;
    const b = base * 2;
    for (let i = 0; i < this.dim; i++) h[b + i] = toHalf(src[at + i]!);
  }

  /**
   * Occurrence filter for a missing id (`v <= 0` is minus its count so far):
   * admits it (returns row + 1) once it was seen `threshold` times before,
   * otherwise counts this sighting and returns 0.
   */
  private admitOrCount(sh: TableShard, slot: number, lo: number, hi: number, h: number, v: number, ts: number): number {
    const threshold = this.filtered ? this.thresholds.forHi(hi) : 0;
    const seen = -v;
    if (seen >= threshold) return this.createRow(sh, slot, lo, hi, h, ts);
    if (slot >= 0) sh.setVal(slot, v - 1);
    else sh.insert(lo, hi, h, -1);
    return 0;
  }

  /** Copies the embedding of row `v - 1` (or zeros when v <= 0) to out[o ..]. */
  private readRow(sh: TableShard, v: number, out: Float32Array, o: number): void {
    const dim = this.dim;
    if (v <= 0) {
      out.fill(0, o, o + dim);
      return;
    }
    const base = (v - 1) * sh.stride;
    if (this.layout.halves) {
      const hv = sh.u16;
      for (let j = 0; j < dim; j++) out[o + j] = fromHalf(hv[base * 2 + j]!);
      return;
    }
    const f = sh.f32;
    for (let j = 0; j < dim; j++) out[o + j] = f[base + j]!;
  }

  // ---- operations ---------------------------------------------------------------

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
    const n = this.partition(w);
    const dim = this.dim;
    const res = out ?? new Float32Array(n * dim);
    this.checkValues('lookup output', n, res);
    const ts = insert ? this.clock() : 0;
    const { hashes, order, starts } = this;
    for (let s = 0; s < this.shards.length; s++) {
      const from = starts[s]!;
      const to = starts[s + 1]!;
      if (from === to) continue;
      const sh = this.shards[s]!;
      sh.lock();
      try {
        for (let k = from; k < to; k++) {
          const i = order[k]!;
          const lo = w[2 * i]!;
          const hi = w[2 * i + 1]!;
          const h = hashes[i]!;
          const slot = sh.find(lo, hi, h);
          let v = slot >= 0 ? sh.valAt(slot) : 0;
          if (v <= 0 && insert) v = this.admitOrCount(sh, slot, lo, hi, h, v, ts);
          this.readRow(sh, v, res, i * dim);
        }
      } finally {
        sh.unlock();
      }
    }
    return res;
  }

  /** Runs `fn(sh, row, i)` for each id, creating missing entries (no filter); rows of skipped ids get -1. */
  private forEachRow(ids: IdsInput, fn: (sh: TableShard, row: number, i: number) => void, skip?: (i: number) => boolean): number {
    const w = toIdWords(ids);
    const n = this.partition(w);
    const ts = this.clock();
    const { hashes, order, starts } = this;
    for (let s = 0; s < this.shards.length; s++) {
      const from = starts[s]!;
      const to = starts[s + 1]!;
      if (from === to) continue;
      const sh = this.shards[s]!;
      sh.lock();
      try {
        for (let k = from; k < to; k++) {
          const i = order[k]!;
          const lo = w[2 * i]!;
          const hi = w[2 * i + 1]!;
          const slot = sh.find(lo, hi, hashes[i]!);
          let v = slot >= 0 ? sh.valAt(slot) : 0;
          if (v <= 0) {
            if (skip?.(i)) continue;
            v = this.createRow(sh, slot, lo, hi, hashes[i]!, ts);
          }
          sh.u32[(v - 1) * sh.stride + this.layout.tsWord] = ts;
          sh.noteUpdateTs(ts);
          fn(sh, v - 1, i);
        }
      } finally {
        sh.unlock();
      }
    }
    return n;
  }

  /** Sets the embeddings of `ids` (creating entries; for a repeated id the last value wins). */
  assign(ids: IdsInput, values: Float32Array): void {
    const n = idCount(toIdWords(ids));
    this.checkValues('assign values', n, values);
    const dim = this.dim;
    const skipZero = this.config.skipZeroEmbedding ? (i: number) => isZero(values, i * dim, dim) : undefined;
    this.forEachRow(ids, (sh, row, i) => this.writeEmbedding(sh, row, values, i * dim), skipZero);
  }

  /** Adds `values` to the embeddings of `ids` (creating entries with the initializer first). */
  assignAdd(ids: IdsInput, values: Float32Array): void {
    const n = idCount(toIdWords(ids));
    this.checkValues('assign_add values', n, values);
    const dim = this.dim;
    const cur = new Float32Array(dim);
    this.forEachRow(ids, (sh, row, i) => {
      this.readRow(sh, row + 1, cur, 0);
      for (let j = 0; j < dim; j++) cur[j] += values[i * dim + j]!;
      this.writeEmbedding(sh, row, cur, 0);
    });
  }

  private writeEmbedding(sh: TableShard, row: number, src: ArrayLike<number>, at: number): void {
    const base = row * sh.stride;
    if (this.layout.halves) return this.writeHalves(sh, base, src, at);
    const f = sh.f32;
    for (let j = 0; j < this.dim; j++) f[base + j] = src[at + j]!;
  }

  /** Learning rate of each segment at `step` (explicit overrides win), including optimizer warmup. */
  learningRates(step: number, explicit?: readonly number[]): Float64Array {
    this.layout.segments.forEach((seg, k) => {
      let lr = explicit?.[k] ?? learningRateAt(this.config.learningRates?.[k] ?? seg.optimizer.learningRate, step);
      if (seg.warmupSteps > 0) lr *= Math.min(1, (step + 1) / seg.warmupSteps);
      this.lrs[k] = lr;
    });
    return this.lrs;
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
    const n = this.partition(w);
    this.checkValues('gradients', n, grads);
    const dim = this.dim;
    const step = opts.globalStep ?? 0;
    const lrs = this.learningRates(step, opts.learningRates);
    const segs = this.layout.segments;
    const tsWord = this.layout.tsWord;
    const ts = this.clock();
    if (this.gradAcc.length < n * dim) {
      this.gradAcc = new Float32Array(n * dim);
      this.uniqRows = new Int32Array(n);
    }
    const acc = this.gradAcc;
    const uniq = this.uniqRows;
    const dedup = this.dedup;
    const { hashes, order, starts } = this;
    for (let s = 0; s < this.shards.length; s++) {
      const from = starts[s]!;
      const to = starts[s + 1]!;
      if (from === to) continue;
      const sh = this.shards[s]!;
      sh.lock();
      try {
        dedup.reset(to - from);
        for (let k = from; k < to; k++) {
          const i = order[k]!;
          const lo = w[2 * i]!;
          const hi = w[2 * i + 1]!;
          const h = hashes[i]!;
          const slot = sh.find(lo, hi, h);
          let v = slot >= 0 ? sh.valAt(slot) : 0;
          if (v <= 0) {
            if (this.filtered && this.thresholds.forHi(hi) > 0) continue; // not admitted: gradient dropped
            v = this.createRow(sh, slot, lo, hi, h, ts);
          }
          const u = dedup.indexOf(v - 1);
          const g = i * dim;
          const a = u * dim;
          if (dedup.isNew) {
            uniq[u] = v - 1;
            for (let j = 0; j < dim; j++) acc[a + j] = grads[g + j]!;
          } else {
            for (let j = 0; j < dim; j++) acc[a + j] += grads[g + j]!;
          }
        }
        const f = sh.f32;
        const st = sh.stride;
        for (let u = 0; u < dedup.count; u++) {
          const base = uniq[u]! * st;
          for (let k = 0; k < segs.length; k++) {
            const seg = segs[k]!;
            seg.optimizer.apply(f, base + seg.embAt, base + seg.stateAt, acc, u * dim + seg.embAt, lrs[k]!, step);
          }
          sh.u32[base + tsWord] = ts;
        }
        if (dedup.count > 0) sh.noteUpdateTs(ts);
      } finally {
        sh.unlock();
      }
    }
  }

  /**
   * Re-runs the initializer (and resets optimizer state) for `ids`. Status per
   * id: 1 when the entry existed, 0 when it was created now.
   */
  reinitialize(ids: IdsInput): Int32Array {
    const w = toIdWords(ids);
    const status = new Int32Array(idCount(w));
    const existed = new Uint8Array(status.length);
    const n = this.partition(w);
    const { hashes, order } = this;
    for (let k = 0; k < n; k++) {
      const i = order[k]!;
      const sh = this.shards[this.shards.length === 1 ? 0 : shardOfHash(hashes[i]!, this.shards.length)]!;
      sh.lock();
      try {
        const slot = sh.find(w[2 * i]!, w[2 * i + 1]!, hashes[i]!);
        existed[i] = slot >= 0 && sh.valAt(slot) > 0 ? 1 : 0;
      } finally {
        sh.unlock();
      }
    }
    this.forEachRow(w, (sh, row, i) => {
      this.initRow(sh, row, w[2 * i]!, w[2 * i + 1]!);
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
    this.readRow(sh, row + 1, out, 0);
    return out;
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
      if (v <= 0) v = this.createRow(sh, slot, lo, hi, h, ts);
      const row = v - 1;
      this.writeEmbedding(sh, row, num, 0);
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
