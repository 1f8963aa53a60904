import { ConfigError } from '../../errors.js';
import type { ApplyGradientsOptions, EmbeddingHashTable } from '../embedding-hash-table.js';
import { toIdWords, type IdsInput } from '../id-batch.js';
import type { RedisEmbeddingTable, RedisRow } from './redis-embedding-table.js';

export interface RedisRowCacheOptions {
  /**
   * A cached row older than this (ms since it was last read from the cluster)
   * is read again before a step uses it. 0: every step reads every row it uses.
   */
  stalenessMs: number;
  /** Milliseconds clock for the staleness bound (default Date.now). */
  now?: () => number;
}

/**
 * A shared-memory table used as a cache of hot rows in front of a Redis table.
 * `pull(ids)` copies the rows of `ids` that are not cached, or were read more
 * than `stalenessMs` ago, from the cluster into the local table (creating
 * missing rows there first, as a lookup does), whole: embedding, optimizer
 * state and time. `push(ids, grads)` applies gradients on the cluster (the
 * server-side optimizer, atomic per row across trainers) and reads the updated
 * rows back. A step that runs on the local table right after `pull` therefore
 * sees every row at most `stalenessMs` older than the cluster's.
 */
export class RedisRowCache {
  /** Per id ("lo:hi"), when its row was last read from the cluster. */
  private readonly readAt = new Map<string, number>();
  private readonly now: () => number;

  constructor(
    readonly local: EmbeddingHashTable,
    readonly remote: RedisEmbeddingTable,
    private readonly opts: RedisRowCacheOptions,
  ) {
    if (!(opts.stalenessMs >= 0)) throw new ConfigError(`redis cache of table ${remote.name}: stalenessMs must be a non-negative number, got ${opts.stalenessMs}`);
    if (local.dim !== remote.dim || local.layout.stride !== remote.layout.stride) {
      throw new ConfigError(`redis cache of table ${remote.name}: the local table has rows of ${local.layout.stride} words (dim ${local.dim}), the Redis table ${remote.layout.stride} (dim ${remote.dim})`);
    }
    this.now = opts.now ?? Date.now;
  }

  /** Reads the rows of `ids` that are missing or stale into the local table; returns how many were read. */
  async pull(ids: IdsInput): Promise<number> {
    const w = toIdWords(ids);
    const t = this.now();
    const want: number[] = [];
    const seen = new Set<string>();
    for (let i = 0; i < w.length >>> 1; i++) {
      const k = `${w[2 * i]}:${w[2 * i + 1]}`;
      if (seen.has(k)) continue;
      seen.add(k);
      const at = this.readAt.get(k);
      if (at === undefined || t - at >= this.opts.stalenessMs) want.push(i);
    }
    if (want.length === 0) return 0;
    const sel = new BigUint64Array(want.length);
    want.forEach((i, j) => (sel[j] = (BigInt(w[2 * i + 1]!) << 32n) | BigInt(w[2 * i]!)));
    const rows = await this.remote.fetchRows(sel, true);
    this.store(rows, t);
    return rows.length;
  }

  /**
   * Applies `grads` (n x dim, in input order; repeated ids summed) on the
   * cluster (at `opts.globalStep`, with its regularizationScale) and reads the updated rows into the local table.
   */
  async push(ids: IdsInput, grads: Float32Array, opts: ApplyGradientsOptions): Promise<void> {
    if (grads.length === 0) return;
    await this.remote.applyGradients(ids, grads, opts);
    const t = this.now();
    this.store(await this.remote.fetchRows(ids, false), t);
  }

  /** Forgets every cached row's read time (the next pull reads them all again). */
  invalidate(): void {
    this.readAt.clear();
  }

  private store(rows: readonly RedisRow[], t: number): void {
    const L = this.local.layout;
    for (const r of rows) {
      this.local.putEntry(r.lo, r.hi, r.row.subarray(0, L.dim), r.ts, (f, base) => f.set(r.row.subarray(L.dim, L.tsWord), base + L.dim));
      this.readAt.set(`${r.lo}:${r.hi}`, t);
    }
  }
}
