import type { Batch, SparseColumn } from '../batch/batch.js';
import { ConfigError } from '../errors.js';
import { mixFid } from './fid-hash.js';
import { TableShard, type ShardMemory } from './table-shard.js';

/**
 * Later passes leave out the ids seen at most this many times in the first. On the planted stream (32k rows, 3
 * passes) 4 to 64 hold the third pass at or above the first, where keeping every id loses 0.005–0.010 (2 leaves
 * it up to 0.001 below); 8 and 16 did best there, and 8 gained at 500k rows too (bench/RESULTS-learning-quality.md).
 */
export const DEFAULT_RARE_ID_COUNT = 8;

/** The counts as another thread attaches to them (`FirstPassIdCounts.attach`): per feature, its shard's shared memory. */
export interface FirstPassIdMemory {
  maxCount: number;
  features: [string, ShardMemory][];
}

/**
 * How often each id occurred in the first pass over the training data, per sparse feature, and the
 * batches of later passes without the ids seen rarely then.
 *
 * Why: held-out rows bring ids the model never saw, which read as zeros. The first pass trains on
 * such rows too — every id is new the first time it comes — so the rest of the model learns to
 * predict when an id tells nothing yet. In a later pass every id already has a trained entry, and an
 * id seen once or twice has mostly learnt the labels of its own few rows: the pass no longer shows
 * the model a row with an unknown id, and pays those ids' rows twice. Leaving them out of later
 * passes keeps what the first pass learnt for them (their entries stay, for held-out rows and
 * serving) and trains the rest as the first pass did.
 *
 * The counts live in the index of a table shard with no rows (an id's value there is its count), one
 * per feature (column name). Ids a later pass brings that the first pass never saw are kept: they are
 * new. An id is left out where it is rare: in a table that several features share, it still trains
 * through a feature where it is frequent. A `first_n` feature's later ids move up a position.
 */
export class FirstPassIdCounts {
  private readonly shards = new Map<string, TableShard>();

  /**
   * The counts read from another thread (a worker leaving the rare ids out of the batches it parses). Attach after
   * the first pass: the counts are shared, but a feature first counted later is not seen by an attached copy.
   */
  static attach(memory: FirstPassIdMemory): FirstPassIdCounts {
    const counts = new FirstPassIdCounts(memory.maxCount);
    for (const [name, mem] of memory.features) counts.shards.set(name, new TableShard(mem));
    return counts;
  }

  /** What `attach` takes: sent to a worker thread, it shares these counts without copying them. */
  memory(): FirstPassIdMemory {
    return { maxCount: this.maxCount, features: [...this.shards].map(([name, sh]) => [name, sh.mem]) };
  }

  /** `maxCount`: later passes leave out ids seen 1..maxCount times in the first pass. */
  constructor(readonly maxCount: number) {
    if (!(Number.isInteger(maxCount) && maxCount >= 1)) throw new ConfigError(`the rare-id count must be an integer >= 1, got ${maxCount}`);
  }

  /** `batch` as pass `pass` trains on it: counted in the first pass, without the rare ids in later ones. */
  forPass(batch: Batch, pass: number): Batch {
    if (pass > 1) return this.withoutRareIds(batch);
    this.count(batch);
    return batch;
  }

  /** Counts the ids of a first-pass batch. */
  count(batch: Batch): void {
    for (const col of batch.sparse) {
      let sh = this.shards.get(col.name);
      if (!sh) this.shards.set(col.name, (sh = TableShard.create(0, 1024)));
      const f = col.fids;
      const to = col.rowSplits[col.rowSplits.length - 1]!;
      for (let i = col.rowSplits[0]!; i < to; i++) {
        const lo = f[2 * i]!;
        const hi = f[2 * i + 1]!;
        const h = mixFid(lo, hi);
        const s = sh.find(lo, hi, h);
        if (s >= 0) sh.setVal(s, Math.min(0x7fffffff, sh.valAt(s) + 1));
        else sh.insert(lo, hi, h, 1, ~s);
      }
    }
  }

  /** Occurrences of (lo, hi) in feature `name` during the first pass (0: never seen). */
  countOf(name: string, lo: number, hi: number): number {
    const sh = this.shards.get(name);
    return sh ? countIn(sh, lo, hi) : 0;
  }

  /** Distinct ids counted, over every feature. */
  get ids(): number {
    let n = 0;
    for (const sh of this.shards.values()) n += sh.size;
    return n;
  }

  /** `batch` without the ids seen 1..maxCount times in the first pass (the same object when it has none). */
  withoutRareIds(batch: Batch): Batch {
    let changed = false;
    const sparse = batch.sparse.map((col) => {
      const kept = this.keptIds(col);
      if (kept === col) return col;
      changed = true;
      return kept;
    });
    return changed ? { ...batch, sparse } : batch;
  }

  private keptIds(col: SparseColumn): SparseColumn {
    const sh = this.shards.get(col.name);
    if (!sh) return col;
    const f = col.fids;
    const rows = col.rowSplits.length - 1;
    const from = col.rowSplits[0]!;
    const to = col.rowSplits[rows]!;
    const keep = new Uint8Array(to - from);
    let kept = 0;
    for (let i = from; i < to; i++) {
      const c = countIn(sh, f[2 * i]!, f[2 * i + 1]!);
      if (c === 0 || c > this.maxCount) {
        keep[i - from] = 1;
        kept++;
      }
    }
    if (kept === to - from) return col;
    const fids = new Uint32Array(2 * kept);
    const rowSplits = new Int32Array(rows + 1);
    let o = 0;
    for (let r = 0; r < rows; r++) {
      for (let i = col.rowSplits[r]!; i < col.rowSplits[r + 1]!; i++) {
        if (!keep[i - from]) continue;
        fids[2 * o] = f[2 * i]!;
        fids[2 * o + 1] = f[2 * i + 1]!;
        o++;
      }
      rowSplits[r + 1] = o;
    }
    return { ...col, fids, rowSplits };
  }
}

/** The count of (lo, hi) in a feature's shard (0: not there). */
function countIn(sh: TableShard, lo: number, hi: number): number {
  const s = sh.find(lo, hi, mixFid(lo, hi));
  return s >= 0 ? sh.valAt(s) : 0;
}
