import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { FormatError } from '../errors.js';
import { removeStaleTemps, writeFileAtomic } from '../io/atomic-file.js';
import { checkpointIndexText, CKPT_INDEX, readCheckpointIndex } from '../hashtable/checkpoint-index.js';
import { checkpointableTable } from '../hashtable/checkpoint.js';
import { ckptPrefix, HashTableCheckpointRestorerListener, HashTableCheckpointSaverListener, type CheckpointableTables } from '../hashtable/checkpoint-listeners.js';
import type { EmbeddingHashTable } from '../hashtable/embedding-hash-table.js';
import { log } from '../util/log.js';
import type { SharedDenseParams } from '../workers/shared-dense-params.js';
import { loadDenseParams, saveDenseParams } from './dense-checkpoint.js';

/** Called after every checkpoint is complete (the export helper's ExportSaverListener implements it). */
export interface CheckpointListener {
  afterSave(ckptPath: string, step: number): void | Promise<void>;
}

export interface CheckpointSaverOptions {
  dir: string;
  tables: Record<string, EmbeddingHashTable>;
  dense: SharedDenseParams;
  /** Checkpoints kept (default 5, as TF's Saver). */
  keep?: number;
  listeners?: CheckpointListener[];
  /** Files per table (default: the hash-table saver's rule). */
  tableShards?: number;
  /** What is saved and restored as the tables (default: `tables` themselves; e.g. their Redis-backed originals). */
  tableCheckpoints?: CheckpointableTables[];
}

export const CKPT_BASENAME = 'model.ckpt';
export { CKPT_INDEX };
/**
 * Saves and restores the whole training state, in Monolith's layout:
 * `dir/model.ckpt-<step>.assets/<table>-0000k-of-0000N` (hash tables, via the
 * hash-table saver listener, with `ckpt.info-<step>`), `dir/model.ckpt-<step>.dense`
 * (dense weights, optimizer slots, global step) and last the index file
 * `dir/checkpoint`. Every file is written to a temp name and renamed and the
 * index moves only once everything else is on disk, so a process killed at any
 * moment leaves the previous checkpoint whole and still named by the index.
 */
export class CheckpointSaver {
  private readonly basename: string;
  private readonly tableList: CheckpointableTables[];

  constructor(private readonly opts: CheckpointSaverOptions) {
    this.basename = join(opts.dir, CKPT_BASENAME);
    this.tableList = opts.tableCheckpoints ?? Object.values(opts.tables).map((t) => checkpointableTable(t, opts.tableShards ? { nshards: opts.tableShards } : {}));
  }

  /** Writes the checkpoint for `step` and returns its path prefix. The caller keeps steps from running meanwhile. */
  async save(step = this.opts.dense.globalStep): Promise<string> {
    const prefix = ckptPrefix(this.basename, step);
    await new HashTableCheckpointSaverListener(this.basename, this.tableList).beforeSave(step);
    await saveDenseParams(`${prefix}.dense`, this.opts.dense);
    const kept = keptSteps(await this.steps(), step, this.opts.keep ?? 5);
    await writeFileAtomic(join(this.opts.dir, CKPT_INDEX), checkpointIndexText(CKPT_BASENAME, kept, step));
    await this.prune(kept);
    for (const l of this.opts.listeners ?? []) await l.afterSave(prefix, step);
    log.info(`checkpoint ${prefix} saved`);
    return prefix;
  }

  /** Steps of the checkpoints the index lists, oldest first. */
  private async steps(): Promise<number[]> {
    const idx = await readCheckpointIndex(this.opts.dir);
    return idx?.all ?? [];
  }

  /** Removes checkpoints the index no longer lists, directories of saves cut short and temp files of killed writers. */
  private async prune(kept: number[]): Promise<void> {
    const keep = new Set(kept);
    const re = new RegExp(`^${CKPT_BASENAME.replace('.', '\\.')}-(\\d+)\\.(assets|dense)$`);
    for (const n of await readdir(this.opts.dir)) {
      const m = re.exec(n);
      if (m && !keep.has(Number(m[1]))) await rm(join(this.opts.dir, n), { recursive: true, force: true });
      const info = /^ckpt\.info-(\d+)$/.exec(n);
      if (info && !keep.has(Number(info[1]))) await rm(join(this.opts.dir, n), { force: true });
    }
    await removeStaleTemps(this.opts.dir);
  }

  /**
   * Restores the newest complete checkpoint (the one the index names) into the
   * tables and dense params. Returns its step, or undefined when there is none.
   */
  async restore(): Promise<number | undefined> {
    const idx = await readCheckpointIndex(this.opts.dir);
    if (!idx) return undefined;
    const prefix = ckptPrefix(this.basename, idx.latest);
    const tables = await new HashTableCheckpointRestorerListener(this.basename, this.tableList, { latestPrefix: async () => prefix }).stage();
    const dense = await loadDenseParams(`${prefix}.dense`, this.opts.dense);
    if (dense.step !== idx.latest) throw new FormatError(`dense checkpoint holds step ${dense.step}, the index names step ${idx.latest}`, { file: `${prefix}.dense`, field: 'globalStep' });
    // Everything is read and checked: only now does the live state change.
    tables!();
    return dense.commit();
  }
}

/**
 * The steps an index keeps after saving `step`: `step` itself (the latest, as
 * TensorFlow's Saver records it), the highest-numbered step listed (never
 * deleted, whatever order an index lists its steps in), and the newest others
 * up to `keep`; oldest first.
 */
export function keptSteps(listed: readonly number[], step: number, keep: number): number[] {
  const others = [...new Set(listed)].filter((s) => s !== step).sort((a, b) => a - b);
  const out = new Set<number>([step]);
  if (others.length && others[others.length - 1]! > step) out.add(others[others.length - 1]!);
  for (let i = others.length - 1; i >= 0 && out.size < Math.max(1, keep); i--) out.add(others[i]!);
  return [...out].sort((a, b) => a - b);
}

/** The index's newest step and every listed step (oldest first), or undefined when absent. */
export const readIndex = readCheckpointIndex;
