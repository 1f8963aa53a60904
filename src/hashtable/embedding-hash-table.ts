import { threadId } from 'node:worker_threads';
import { ConfigError } from '../errors.js';
import { BatchDedup } from './batch-dedup.js';
import { EntryLayout, type EntryConfig } from './entry-config.js';
import { HashTableError, UnsupportedOperationError } from './errors.js';
import { mixFid, shardOfHash } from './fid-hash.js';
import { fromHalf, toHalf } from './fp16.js';
import { idAt, idCount, toIdWords, type IdsInput, type IdWords } from './id-batch.js';
import { applyRows } from './optimizers/segment-optimizer.js';
import { segmentLearningRates, type LearningRate } from './learning-rate.js';
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
  private packed = new Int32Array(0);
  /** Row (or -1) of each id of the current shard slice. */
  private sliceRows = new Int32Array(0);
  private shardOfKey = new Int32Array(0);
  private starts = new Int32Array(0);
  private gradAcc = new Float32Array(0);
  private uniqRows = new Int32Array(0);
  private gradFrom = new Int32Array(0);
  private summed = new Uint8Array(0);
  private soloRows = new Int32Array(0);
  private soloOff = new Int32Array(0);
  private sumRows = new Int32Array(0);
  private sumOff = new Int32Array(0);
  private readonly dedup = new BatchDedup();
  private readonly lrs: Float64Array;
  private deferred = new Int32Array(0);
  private fillAt = new Int32Array(0);
  /** Where this thread starts its round over the shards (threads start apart, so they rarely meet). */
  private readonly firstShard: number;

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
    this.deferred = new Int32Array(shards.length);
    this.fillAt = new Int32Array(shards.length);
    this.firstShard = Math.floor(((threadId * 0.6180339887498949) % 1) * shards.length);
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

  /**
   * Hashes every id and lays the batch out by shard (counting sort) in
   * `packed`: 2 words per id `[hash, input index]`, shard s's ids at
   * `starts[s] .. starts[s + 1]`, so each shard's loop reads them in sequence
   * (and the id's words from the batch, which stays in cache).
   */
  private partition(w: IdWords): number {
    const n = idCount(w);
    if (this.hashes.length < n) {
      this.hashes = new Uint32Array(n);
      this.packed = new Int32Array(2 * n);
      this.shardOfKey = new Int32Array(n);
      this.sliceRows = new Int32Array(n);
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
    else sh.insert(lo, hi, h, row + 1, ~slot);
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
    else sh.insert(lo, hi, h, -1, ~slot);
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
    const res64 = this.layout.wide && res.byteOffset % 8 === 0 ? new Float64Array(res.buffer, res.byteOffset, res.length >>> 1) : undefined;
    this.eachShard((sh, from, to) => {
      if (this.layout.halves) this.lookupSliceGeneric(sh, w, from, to, res, insert, ts);
      else this.lookupSlice(sh, w, from, to, res, res64, insert, ts);
    });
    return res;
  }

  /**
   * Runs `fn` once per shard that has ids in the partitioned batch, holding
   * that shard's lock. Shards are visited from a per-thread starting point and
   * a busy shard is put off (tryLock) until the others are done, so threads
   * working on different batches rarely wait for each other.
   */
  private eachShard(fn: (sh: TableShard, from: number, to: number) => void): void {
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

  /**
   * Reads the home index slot of every id of a slice, and returns a value
   * that depends on them. JavaScript has no prefetch instruction, but these
   * loads do not depend on each other, so the CPU overlaps their cache misses;
   * the probe loop that follows then finds the lines in cache.
   */
  private touchIndex(idx: Int32Array, shift: number, from: number, to: number): number {
    const packed = this.packed;
    let sink = 0;
    for (let k = from; k < to; k++) sink ^= idx[((packed[2 * k]! >>> 0) >>> shift) * 3 + 2]!;
    return sink;
  }

  /** Same for the first and last word of the rows `rows[0 .. count)`. */
  private touchRows(u32: Uint32Array, rows: Int32Array, count: number, st: number, last: number): number {
    let sink = 0;
    for (let u = 0; u < count; u++) {
      const r = rows[u]!;
      if (r >= 0) sink ^= u32[r * st]! ^ u32[r * st + last]!;
    }
    return sink;
  }
  /** Keeps the touch loops' results alive. */
  private sink = 0;

  /**
   * The float-row lookup of one shard's slice, as a pipeline: touch the index
   * slots, probe (inserting misses), touch the rows, copy them out.
   */
  private lookupSlice(sh: TableShard, w: IdWords, from: number, to: number, res: Float32Array, res64: Float64Array | undefined, insert: boolean, ts: number): void {
    const packed = this.packed;
    const dim = this.dim;
    let idx = sh.index;
    const st = sh.stride;
    let log2 = sh.log2;
    let mask = (1 << log2) - 1;
    let shift = 32 - log2;
    const rows = this.sliceRows;
    let sink = this.touchIndex(idx, shift, from, to);
    for (let k = from; k < to; k++) {
      const h = packed[2 * k]! >>> 0;
      const i = packed[2 * k + 1]!;
      const lo = w[2 * i]! | 0;
      const hi = w[2 * i + 1]! | 0;
      let slot = h >>> shift;
      let v = 0;
      for (;;) {
        const b = slot * 3;
        const x = idx[b + 2]!;
        if (x === 0) {
          slot = ~slot;
          break;
        }
        if (idx[b] === lo && idx[b + 1] === hi) {
          v = x;
          break;
        }
        slot = (slot + 1) & mask;
      }
      if (v <= 0 && insert) {
        v = this.admitOrCount(sh, slot, lo, hi, h, v, ts);
        // An insert may have grown the index.
        idx = sh.index;
        log2 = sh.log2;
        mask = (1 << log2) - 1;
        shift = 32 - log2;
      }
      rows[k - from] = v - 1;
    }
    const n = to - from;
    sink ^= this.touchRows(sh.u32, rows, n, st, dim - 1);
    this.sink ^= sink;
    if (res64 !== undefined) {
      // Two floats per move (a plain per-float loop is ~3x slower in V8); rows and output are 8-byte aligned.
      const f64 = sh.f64;
      const half = dim >>> 1;
      const half4 = half & ~3;
      for (let q = 0; q < n; q++) {
        const r = rows[q]!;
        const o2 = packed[2 * (from + q) + 1]! * half;
        if (r < 0) {
          for (let j = 0; j < half; j++) res64[o2 + j] = 0;
          continue;
        }
        const b2 = (r * st) >>> 1;
        let j = 0;
        for (; j < half4; j += 4) {
          res64[o2 + j] = f64[b2 + j]!;
          res64[o2 + j + 1] = f64[b2 + j + 1]!;
          res64[o2 + j + 2] = f64[b2 + j + 2]!;
          res64[o2 + j + 3] = f64[b2 + j + 3]!;
        }
        for (; j < half; j++) res64[o2 + j] = f64[b2 + j]!;
      }
    } else {
      const f = sh.f32;
      for (let q = 0; q < n; q++) {
        const r = rows[q]!;
        const o = packed[2 * (from + q) + 1]! * dim;
        if (r < 0) {
          for (let j = 0; j < dim; j++) res[o + j] = 0;
          continue;
        }
        const base = r * st;
        for (let j = 0; j < dim; j++) res[o + j] = f[base + j]!;
      }
    }
  }

  /** Per-key lookup for rows stored as halves. */
  private lookupSliceGeneric(sh: TableShard, w: IdWords, from: number, to: number, res: Float32Array, insert: boolean, ts: number): void {
    const packed = this.packed;
    const dim = this.dim;
    for (let k = from; k < to; k++) {
      const h = packed[2 * k]! >>> 0;
      const i = packed[2 * k + 1]!;
      const lo = w[2 * i]! | 0;
      const hi = w[2 * i + 1]! | 0;
      const slot = sh.find(lo, hi, h);
      let v = slot >= 0 ? sh.valAt(slot) : 0;
      if (v <= 0 && insert) v = this.admitOrCount(sh, slot, lo, hi, h, v, ts);
      this.readRow(sh, v, res, i * dim);
    }
  }

  /** Runs `fn(sh, row, i)` for each id, creating missing entries (no filter); rows of skipped ids get -1. */
  private forEachRow(ids: IdsInput, fn: (sh: TableShard, row: number, i: number) => void, skip?: (i: number) => boolean): number {
    const w = toIdWords(ids);
    const n = this.partition(w);
    const ts = this.clock();
    const packed = this.packed;
    const tsWord = this.layout.tsWord;
    this.eachShard((sh, from, to) => {
      for (let k = from; k < to; k++) {
        const h = packed[2 * k]! >>> 0;
        const i = packed[2 * k + 1]!;
        const lo = w[2 * i]! | 0;
        const hi = w[2 * i + 1]! | 0;
        const slot = sh.find(lo, hi, h);
        let v = slot >= 0 ? sh.valAt(slot) : 0;
        if (v <= 0) {
          if (skip?.(i)) continue;
          v = this.createRow(sh, slot, lo, hi, h, ts);
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
    const n = this.partition(w);
    this.checkValues('gradients', n, grads);
    const dim = this.dim;
    const step = opts.globalStep ?? 0;
    const lrs = this.learningRates(step, opts.learningRates);
    const ts = this.clock();
    if (this.gradAcc.length < n * dim) this.gradAcc = new Float32Array(n * dim);
    if (this.uniqRows.length < n) {
      this.uniqRows = new Int32Array(n);
      this.gradFrom = new Int32Array(n);
      this.summed = new Uint8Array(n);
      this.soloRows = new Int32Array(n);
      this.soloOff = new Int32Array(n);
      this.sumRows = new Int32Array(n);
      this.sumOff = new Int32Array(n);
    }
    this.eachShard((sh, from, to) => {
      const count = this.dedupSlice(sh, w, from, to, grads, ts);
      if (count > 0) this.updateRows(sh, count, grads, lrs, step, ts);
    });
  }

  /**
   * Finds (or creates) the row of every id of a shard's slice and dedupes
   * them: unique row u is `uniqRows[u]`; its gradient stays where it is in
   * `grads` (offset `gradFrom[u]`) when the id occurs once, and is summed into
   * `gradAcc` (`summed[u]` = 1) when it repeats — so single ids cost no copy.
   * Returns the number of unique rows.
   */
  private dedupSlice(sh: TableShard, w: IdWords, from: number, to: number, grads: Float32Array, ts: number): number {
    const packed = this.packed;
    const dim = this.dim;
    const acc = this.gradAcc;
    const uniq = this.uniqRows;
    const from_ = this.gradFrom;
    const summed = this.summed;
    const filtered = this.filtered;
    const d = this.dedup;
    d.reset(to - from);
    const dKeys = d.keys;
    const dTags = d.tags;
    const dVals = d.vals;
    const dShift = d.shift;
    const dMask = d.mask;
    const epoch = d.epoch;
    let count = 0;
    let idx = sh.index;
    let log2 = sh.log2;
    let mask = (1 << log2) - 1;
    let shift = 32 - log2;
    this.sink ^= this.touchIndex(idx, shift, from, to);
    for (let k = from; k < to; k++) {
      const h = packed[2 * k]! >>> 0;
      const i = packed[2 * k + 1]!;
      const lo = w[2 * i]! | 0;
      const hi = w[2 * i + 1]! | 0;
      let slot = h >>> shift;
      let v = 0;
      for (;;) {
        const b = slot * 3;
        const x = idx[b + 2]!;
        if (x === 0) {
          slot = ~slot;
          break;
        }
        if (idx[b] === lo && idx[b + 1] === hi) {
          v = x;
          break;
        }
        slot = (slot + 1) & mask;
      }
      if (v <= 0) {
        if (filtered && this.thresholds.forHi(hi) > 0) continue; // not admitted: gradient dropped
        v = this.createRow(sh, slot, lo, hi, h, ts);
        idx = sh.index;
        log2 = sh.log2;
        mask = (1 << log2) - 1;
        shift = 32 - log2;
      }
      const row = v - 1;
      let ds = Math.imul(row, 0x9e3779b1) >>> dShift;
      for (;;) {
        if (dTags[ds] !== epoch) {
          dTags[ds] = epoch;
          dKeys[ds] = row;
          const u = count++;
          dVals[ds] = u;
          uniq[u] = row;
          from_[u] = i * dim;
          summed[u] = 0;
          break;
        }
        if (dKeys[ds] === row) {
          const u = dVals[ds]!;
          const a = u * dim;
          const g = i * dim;
          if (summed[u] === 0) {
            const g0 = from_[u]!;
            for (let j = 0; j < dim; j++) acc[a + j] = grads[g0 + j]! + grads[g + j]!;
            summed[u] = 1;
          } else {
            for (let j = 0; j < dim; j++) acc[a + j] += grads[g + j]!;
          }
          break;
        }
        ds = (ds + 1) & dMask;
      }
    }
    return count;
  }

  /** Runs each segment's optimizer once over the `count` unique rows, then stamps their update time. */
  private updateRows(sh: TableShard, count: number, grads: Float32Array, lrs: Float64Array, step: number, ts: number): void {
    const segs = this.layout.segments;
    const f = sh.f32;
    const st = sh.stride;
    const uniq = this.uniqRows;
    const dim = this.dim;
    this.sink ^= this.touchRows(sh.u32, uniq, count, st, st - 1);
    // Rows whose gradient is still in `grads`, and rows with a summed gradient in `gradAcc`.
    const soloRows = this.soloRows;
    const soloOff = this.soloOff;
    const sumRows = this.sumRows;
    const sumOff = this.sumOff;
    const summed = this.summed;
    const from_ = this.gradFrom;
    let n1 = 0;
    let n2 = 0;
    for (let u = 0; u < count; u++) {
      if (summed[u] === 0) {
        soloRows[n1] = uniq[u]!;
        soloOff[n1++] = from_[u]!;
      } else {
        sumRows[n2] = uniq[u]!;
        sumOff[n2++] = u * dim;
      }
    }
    for (let k = 0; k < segs.length; k++) {
      const seg = segs[k]!;
      if (n1 > 0) applyRows(seg.optimizer, f, st, soloRows, n1, seg.embAt, seg.stateAt, grads, soloOff, lrs[k]!, step);
      if (n2 > 0) applyRows(seg.optimizer, f, st, sumRows, n2, seg.embAt, seg.stateAt, this.gradAcc, sumOff, lrs[k]!, step);
    }
    const u32 = sh.u32;
    const tsWord = this.layout.tsWord;
    for (let u = 0; u < count; u++) u32[uniq[u]! * st + tsWord] = ts;
    sh.noteUpdateTs(ts);
  }

  /**
   * Re-runs the initializer (and resets optimizer state) for `ids`. Status per
   * id: 1 when the entry existed, 0 when it was created now.
   */
  reinitialize(ids: IdsInput): Int32Array {
    const w = toIdWords(ids);
    const status = new Int32Array(idCount(w));
    const existed = new Uint8Array(status.length);
    this.partition(w);
    const packed = this.packed;
    this.eachShard((sh, from, to) => {
      for (let k = from; k < to; k++) {
        const i = packed[2 * k + 1]!;
        const slot = sh.find(w[2 * i]!, w[2 * i + 1]!, packed[2 * k]! >>> 0);
        existed[i] = slot >= 0 && sh.valAt(slot) > 0 ? 1 : 0;
      }
    });
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
