import { HashTableError } from './errors.js';
import { breakLockOf, lockOwner, lockWord, tryLockWord, unlockWord } from './shard-lock.js';
import { mixFid } from './fid-hash.js';

/**
 * One shard of an embedding table, entirely in SharedArrayBuffers so any
 * worker thread can attach to it (see `ShardMemory`) and see every update.
 *
 * Index: open addressing with linear probing over a power-of-two number of
 * 12-byte slots `[lo, hi, val]`; the home slot is the top bits of the FID's
 * mixed hash. `val` is 0 for an empty slot, `row + 1` for an entry, and
 * `-count` for an id the occurrence filter has seen `count` times but not yet
 * admitted. Rows live in a second buffer, `strideWords` 32-bit words each:
 * embedding, optimizer state, and last-update time (uint32 seconds) in the
 * last word. Both buffers are growable SharedArrayBuffers, so growth needs
 * no message between threads. The views are fixed-length views re-made when
 * the buffer's byteLength changed, checked on every `lock()`: Node 20's
 * length-tracking views on growable buffers are ~15x slower to index.
 *
 * Every method here assumes the caller holds the shard lock (`lock()`),
 * except `lock`/`unlock` themselves and the plain counters.
 */

const CTL_WORDS = 8;
/**
 * The control words sit 64 bytes into a 256-byte buffer, so the cache line
 * holding them belongs to this buffer alone: small SharedArrayBuffers are
 * allocated next to each other, and two shards' lock words sharing a line
 * would make threads working on different shards slow each other down.
 */
const CTL_OFFSET = 64;
const CTL_BYTES = 256;
const C_LOCK = 0;
const C_SIZE = 1; // admitted entries (= rows in use)
const C_LOG2CAP = 2; // log2 of the index capacity
const C_USED = 3; // occupied index slots (entries + pending ids)
const C_MAXTS = 4; // largest last-update time written, seconds

/** Index load above which the index doubles (linear probing stays short below 3/4). */
const MAX_LOAD_NUM = 3;
const MAX_LOAD_DEN = 4;
const MIN_LOG2CAP = 4;
const MAX_BYTES = 2 ** 32; // the largest growable SharedArrayBuffer Node 20 allows
const ROW_GROWTH_MIN = 1 << 16;

/** The shared buffers of one shard: what a worker needs to attach to it. */
export interface ShardMemory {
  control: SharedArrayBuffer;
  index: SharedArrayBuffer;
  rows: SharedArrayBuffer;
  strideWords: number;
}

export class TableShard {
  readonly ctl: Int32Array;
  /** Index slots as int32: keys compare as `lo | 0`, `hi | 0`. */
  index!: Int32Array;
  f32!: Float32Array;
  /** The row buffer's byteLength when the views were made (reading a growable buffer's byteLength is slow). */
  private rowBytes = 0;
  /** The rows as float64 (pairs of floats), for copying aligned embeddings two floats at a time. */
  f64!: Float64Array;
  u32!: Uint32Array;
  u16!: Uint16Array;
  readonly stride: number;

  constructor(readonly mem: ShardMemory) {
    this.ctl = new Int32Array(mem.control, CTL_OFFSET, CTL_WORDS);
    this.stride = mem.strideWords;
    this.refreshIndex();
    this.refreshRows();
  }

  private indexBytes = 0;
  private refreshIndex(): void {
    this.indexBytes = this.mem.index.byteLength;
    this.index = new Int32Array(this.mem.index, 0, this.indexBytes >>> 2);
  }
  private refreshRows(): void {
    const b = this.mem.rows;
    this.rowBytes = b.byteLength;
    this.f32 = new Float32Array(b, 0, b.byteLength >>> 2);
    this.f64 = new Float64Array(b, 0, b.byteLength >>> 3);
    this.u32 = new Uint32Array(b, 0, b.byteLength >>> 2);
    this.u16 = new Uint16Array(b, 0, b.byteLength >>> 1);
  }

  static create(strideWords: number, initialCapacity = 16): TableShard {
    let log2 = MIN_LOG2CAP;
    while ((1 << log2) * MAX_LOAD_NUM < initialCapacity * MAX_LOAD_DEN && log2 < 28) log2++;
    const control = new SharedArrayBuffer(CTL_BYTES);
    const index = new SharedArrayBuffer((1 << log2) * 12, { maxByteLength: MAX_BYTES });
    const rowBytes = Math.max(1, initialCapacity) * strideWords * 4;
    const rows = new SharedArrayBuffer(Math.min(rowBytes, MAX_BYTES), { maxByteLength: MAX_BYTES });
    new Int32Array(control, CTL_OFFSET, CTL_WORDS)[C_LOG2CAP] = log2;
    return new TableShard({ control, index, rows, strideWords });
  }

  /** Takes the lock; throws `LockHolderDiedError` when its holder died holding it (see `breakLockOf`). */
  lock(what?: string): void {
    lockWord(this.ctl, C_LOCK, what);
    this.afterLock();
  }
  /** Takes the lock only if it is free right now (no spin, no wait). */
  tryLock(what?: string): boolean {
    if (!tryLockWord(this.ctl, C_LOCK, what)) return false;
    this.afterLock();
    return true;
  }
  /** The thread holding the lock (or that died holding it), undefined when free. */
  get lockHolder(): number | undefined {
    return lockOwner(this.ctl, C_LOCK);
  }
  /** Declares the lock broken if the exited thread `threadId` held it (its waiters then throw). */
  breakLockOf(threadId: number): boolean {
    return breakLockOf(this.ctl, C_LOCK, threadId);
  }
  private afterLock(): void {
    // Another thread may have grown a buffer since this thread last looked.
    if (this.indexBytes !== this.mem.index.byteLength) this.refreshIndex();
    if (this.rowBytes !== this.mem.rows.byteLength) this.refreshRows();
  }
  unlock(): void {
    unlockWord(this.ctl, C_LOCK);
  }

  /** Admitted entries. Safe to read without the lock (may be momentarily stale). */
  get size(): number {
    return Atomics.load(this.ctl, C_SIZE);
  }
  /** Ids seen but not yet admitted by the occurrence filter. */
  get pending(): number {
    return Atomics.load(this.ctl, C_USED) - Atomics.load(this.ctl, C_SIZE);
  }
  get capacity(): number {
    return 1 << this.ctl[C_LOG2CAP]!;
  }
  /** log2 of the index capacity (read under the lock; hot loops keep it in a local). */
  get log2(): number {
    return this.ctl[C_LOG2CAP]!;
  }
  get maxUpdateTs(): number {
    return this.ctl[C_MAXTS]! >>> 0;
  }
  noteUpdateTs(ts: number): void {
    if (ts > this.ctl[C_MAXTS]! >>> 0) this.ctl[C_MAXTS] = ts;
  }
  /** Bytes of shared memory held (index + rows + control). */
  get bytes(): number {
    return this.mem.index.byteLength + this.mem.rows.byteLength + this.mem.control.byteLength;
  }

  /** The slot holding key (lo, hi), or `~slot` of the empty slot where it would go. */
  find(lo: number, hi: number, h: number): number {
    const log2 = this.ctl[C_LOG2CAP]!;
    return probeSlot(this.index, lo | 0, hi | 0, h >>> (32 - log2), (1 << log2) - 1);
  }

  valAt(slot: number): number {
    return this.index[slot * 3 + 2]!;
  }
  setVal(slot: number, v: number): void {
    this.index[slot * 3 + 2] = v;
  }

  /**
   * Puts an absent key with value `val` into the index, doubling it first when
   * the load would pass 3/4. Returns the slot (which a growth may have moved).
   */
  insert(lo: number, hi: number, h: number, val: number, freeSlot = -1): number {
    const used = this.ctl[C_USED]! + 1;
    let s = freeSlot;
    if (used * MAX_LOAD_DEN > this.capacity * MAX_LOAD_NUM) {
      this.rehash(this.ctl[C_LOG2CAP]! + 1);
      s = -1;
    }
    if (s < 0) s = ~this.find(lo, hi, h);
    const b = s * 3;
    this.index[b] = lo;
    this.index[b + 1] = hi;
    this.index[b + 2] = val;
    this.ctl[C_USED] = used;
    if (val > 0) this.ctl[C_SIZE]!++;
    return s;
  }

  /** Turns a pending slot into an entry (or counts an entry made by `insert`). */
  admit(slot: number, row: number): void {
    this.index[slot * 3 + 2] = row + 1;
    this.ctl[C_SIZE]!++;
  }

  /**
   * A fresh row at the end of the row buffer, growing it when full. A growable
   * SharedArrayBuffer grows in place (its address range is reserved up front),
   * so growth is by 1/16 (at least 64 KiB): cheap, and little unused slack.
   */
  allocRow(): number {
    const row = this.ctl[C_SIZE]!; // rows are kept dense: row count == admitted entries
    const need = (row + 1) * this.stride * 4;
    if (need > this.rowBytes) {
      const buf = this.mem.rows;
      if (need > MAX_BYTES) {
        throw new HashTableError(`table shard is full: ${row} rows of ${this.stride * 4} bytes reach the 4 GiB shared-buffer limit; use more shards`);
      }
      const step = Math.max(ROW_GROWTH_MIN, Math.ceil(buf.byteLength / 16));
      const words = Math.ceil(Math.max(need, buf.byteLength + step) / 4);
      if (words * 4 > buf.byteLength) buf.grow(Math.min(MAX_BYTES, words * 4));
      this.refreshRows();
    }
    return row;
  }

  /** Rebuilds the index at capacity `2^log2`; no entry is lost or duplicated (each old slot is re-inserted once). */
  private rehash(log2: number, keep?: Int32Array): void {
    const oldCap = this.capacity;
    const old = keep ?? this.index.slice(0, oldCap * 3);
    const bytes = (1 << log2) * 12;
    if (bytes > MAX_BYTES) throw new HashTableError(`table shard index cannot grow past ${oldCap} slots`);
    if (bytes > this.indexBytes) {
      this.mem.index.grow(bytes);
      this.refreshIndex();
    }
    this.index.fill(0, 0, (1 << log2) * 3);
    this.ctl[C_LOG2CAP] = log2;
    const idx = this.index;
    const mask = (1 << log2) - 1;
    const shift = 32 - log2;
    for (let b = 0; b < old.length; b += 3) {
      const v = old[b + 2]!;
      if (v === 0) continue;
      const lo = old[b]!;
      const hi = old[b + 1]!;
      let s = mixFid(lo, hi) >>> shift;
      while (idx[s * 3 + 2] !== 0) s = (s + 1) & mask;
      idx[s * 3] = lo;
      idx[s * 3 + 1] = hi;
      idx[s * 3 + 2] = v;
    }
  }

  /** Calls `fn(lo, hi, val)` for every occupied slot (entries: val > 0; pending ids: val < 0). */
  forEachSlot(fn: (lo: number, hi: number, val: number) => void): void {
    const idx = this.index;
    const n = this.capacity * 3;
    for (let b = 0; b < n; b += 3) {
      const v = idx[b + 2]!;
      if (v !== 0) fn(idx[b]! >>> 0, idx[b + 1]! >>> 0, v);
    }
  }

  /**
   * Removes every slot for which `keep(lo, hi, val)` is false and packs the
   * surviving rows to the front, preserving their order. Returns the number of
   * entries (not pending ids) removed.
   */
  compact(keep: (lo: number, hi: number, val: number) => boolean): number {
    const idx = this.index;
    const n = this.capacity * 3;
    const kept: number[] = [];
    let removed = 0;
    for (let b = 0; b < n; b += 3) {
      const v = idx[b + 2]!;
      if (v === 0) continue;
      if (keep(idx[b]! >>> 0, idx[b + 1]! >>> 0, v)) kept.push(idx[b]!, idx[b + 1]!, v);
      else if (v > 0) removed++;
    }
    // Renumber rows in ascending old-row order so every move goes to a lower or equal row.
    const entrySlots: number[] = [];
    for (let i = 0; i < kept.length; i += 3) if (kept[i + 2]! > 0) entrySlots.push(i);
    entrySlots.sort((a, b) => kept[a + 2]! - kept[b + 2]!);
    const st = this.stride;
    entrySlots.forEach((i, newRow) => {
      const oldRow = kept[i + 2]! - 1;
      if (oldRow !== newRow) this.u32.copyWithin(newRow * st, oldRow * st, oldRow * st + st);
      kept[i + 2] = newRow + 1;
    });
    this.ctl[C_SIZE] = entrySlots.length;
    this.ctl[C_USED] = kept.length / 3;
    this.rehash(this.ctl[C_LOG2CAP]!, Int32Array.from(kept));
    return removed;
  }

  /** Drops every entry and pending id. */
  clear(): void {
    this.index.fill(0, 0, this.capacity * 3);
    this.ctl[C_SIZE] = 0;
    this.ctl[C_USED] = 0;
    this.ctl[C_MAXTS] = 0;
  }
}

/**
 * Linear probing from `slot` in an index of 12-byte slots `[lo, hi, val]`:
 * the slot holding key (lo, hi), or `~slot` of the empty slot where it would
 * go. Small enough for V8 to inline into the batch loops that call it.
 */
export function probeSlot(idx: Int32Array, lo: number, hi: number, slot: number, mask: number): number {
  for (;;) {
    const b = slot * 3;
    if (idx[b + 2] === 0) return ~slot;
    if (idx[b] === lo && idx[b + 1] === hi) return slot;
    slot = (slot + 1) & mask;
  }
}
