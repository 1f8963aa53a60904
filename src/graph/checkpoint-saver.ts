import { readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { FormatError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic-file.js';
import { checkpointableTable } from '../hashtable/checkpoint.js';
import { ckptPrefix, HashTableCheckpointRestorerListener, HashTableCheckpointSaverListener } from '../hashtable/checkpoint-listeners.js';
import type { EmbeddingHashTable } from '../hashtable/embedding-hash-table.js';
import { log } from '../util/log.js';
import type { SharedDenseParams } from '../workers/shared-dense-params.js';
import { restoreDenseParams, saveDenseParams } from './dense-checkpoint.js';

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
}

export const CKPT_BASENAME = 'model.ckpt';
/** TF's index file: names the newest complete checkpoint. Written last, atomically. */
export const CKPT_INDEX = 'checkpoint';

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
  private readonly tableList;

  constructor(private readonly opts: CheckpointSaverOptions) {
    this.basename = join(opts.dir, CKPT_BASENAME);
    this.tableList = Object.values(opts.tables).map((t) => checkpointableTable(t, opts.tableShards ? { nshards: opts.tableShards } : {}));
  }

  /** Writes the checkpoint for `step` and returns its path prefix. The caller keeps steps from running meanwhile. */
  async save(step = this.opts.dense.globalStep): Promise<string> {
    const prefix = ckptPrefix(this.basename, step);
    await new HashTableCheckpointSaverListener(this.basename, this.tableList).beforeSave(step);
    await saveDenseParams(`${prefix}.dense`, this.opts.dense);
    const kept = [step, ...(await this.steps()).filter((s) => s !== step)].slice(0, this.opts.keep ?? 5);
    await writeFileAtomic(
      join(this.opts.dir, CKPT_INDEX),
      `model_checkpoint_path: "${CKPT_BASENAME}-${step}"\n${kept.map((s) => `all_model_checkpoint_paths: "${CKPT_BASENAME}-${s}"\n`).join('')}`,
    );
    await this.prune(kept);
    for (const l of this.opts.listeners ?? []) await l.afterSave(prefix, step);
    log.info(`checkpoint ${prefix} saved`);
    return prefix;
  }

  /** Steps of the checkpoints the index lists, newest first. */
  private async steps(): Promise<number[]> {
    const idx = await readIndex(this.opts.dir);
    return idx?.all ?? [];
  }

  private async prune(kept: number[]): Promise<void> {
    const keep = new Set(kept);
    const re = new RegExp(`^${CKPT_BASENAME.replace('.', '\\.')}-(\\d+)\\.(assets|dense)$`);
    for (const n of await readdir(this.opts.dir)) {
      const m = re.exec(n);
      if (m && !keep.has(Number(m[1]))) await rm(join(this.opts.dir, n), { recursive: true, force: true });
      const info = /^ckpt\.info-(\d+)$/.exec(n);
      if (info && !keep.has(Number(info[1]))) await rm(join(this.opts.dir, n), { force: true });
    }
  }

  /**
   * Restores the newest complete checkpoint (the one the index names) into the
   * tables and dense params. Returns its step, or undefined when there is none.
   */
  async restore(): Promise<number | undefined> {
    const idx = await readIndex(this.opts.dir);
    if (!idx) return undefined;
    const prefix = ckptPrefix(this.basename, idx.latest);
    await new HashTableCheckpointRestorerListener(this.basename, this.tableList, { latestPrefix: async () => prefix }).beforeRestore();
    const step = await restoreDenseParams(`${prefix}.dense`, this.opts.dense);
    if (step !== idx.latest) throw new FormatError(`dense checkpoint holds step ${step}, the index names step ${idx.latest}`, { file: `${prefix}.dense` });
    return step;
  }
}

/** The index file's newest step and every listed step (newest first), or undefined when absent. */
export async function readIndex(dir: string): Promise<{ latest: number; all: number[] } | undefined> {
  let text: string;
  try {
    text = await readFile(join(dir, CKPT_INDEX), 'utf8');
  } catch {
    return undefined;
  }
  const step = (line: string | undefined): number | undefined => {
    const m = line && /"[^"]*-(\d+)"/.exec(line);
    return m ? Number(m[1]) : undefined;
  };
  const latest = step(text.split('\n').find((l) => l.startsWith('model_checkpoint_path:')));
  if (latest === undefined) throw new FormatError('checkpoint index names no model_checkpoint_path', { file: join(dir, CKPT_INDEX) });
  const all = text.split('\n').filter((l) => l.startsWith('all_model_checkpoint_paths:')).map(step).filter((s): s is number => s !== undefined);
  return { latest, all: all.length ? all : [latest] };
}

