import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { FormatError } from '../errors.js';
import { log } from '../util/log.js';
import type { StagedRestore } from './checkpoint.js';
import { latestIndexedPrefix } from './checkpoint-index.js';
import { readCkptInfo, writeCkptInfo, type CkptInfoCounts } from './ckpt-info.js';

/** Anything a checkpoint listener can save and restore under a basename (a table or a family of tables). */
export interface CheckpointableTables {
  /** The shared name the files are saved under, inside the step's asset directory. */
  readonly name: string;
  save(basename: string): Promise<unknown>;
  restore(basename: string): Promise<unknown>;
  /** Reads and checks the files without changing anything; `restore` = `load` + `commit`. */
  load?(basename: string): Promise<StagedRestore>;
  featureCounts(): CkptInfoCounts;
}

/** Monolith's SaveHelper layout: `<basename>-<step>` is the prefix, tables go to `<prefix>.assets/`. */
export const ckptPrefix = (basename: string, step: number): string => `${basename}-${step}`;
export const ckptAssetDir = (prefix: string): string => `${prefix}.assets/`;

/**
 * The newest complete checkpoint's prefix, if any: the one the index file
 * names; without an index, the newest step whose `ckpt.info-<step>` (written
 * after its tables) exists. Directories of saves cut short are ignored.
 */
export const latestCheckpointPrefix = latestIndexedPrefix;

function mergeCounts(all: CkptInfoCounts[]): CkptInfoCounts {
  const featureCounts: Record<string, number> = {};
  const slotCounts: Record<number, number> = {};
  for (const c of all) {
    for (const [k, v] of Object.entries(c.featureCounts)) featureCounts[k] = (featureCounts[k] ?? 0) + v;
    for (const [k, v] of Object.entries(c.slotCounts ?? {})) slotCounts[Number(k)] = (slotCounts[Number(k)] ?? 0) + v;
  }
  return { featureCounts, slotCounts };
}

/**
 * Saves the tables before the training loop writes its own checkpoint for
 * `step` (so the checkpoint is only recorded once the tables are safely on
 * disk), then writes `ckpt.info-<step>` next to `basename`.
 */
export class HashTableCheckpointSaverListener {
  constructor(
    private readonly basename: string,
    private readonly tables: readonly CheckpointableTables[],
    private readonly opts: { writeCkptInfo?: boolean } = {},
  ) {}

  async beforeSave(step: number): Promise<void> {
    const dir = ckptAssetDir(ckptPrefix(this.basename, step));
    await mkdir(dir, { recursive: true });
    for (const t of this.tables) await t.save(join(dir, t.name));
    if (this.opts.writeCkptInfo ?? true) await writeCkptInfo(dirname(this.basename), step, mergeCounts(this.tables.map((t) => t.featureCounts())));
  }
}

/** Restores the tables from the newest checkpoint before the loop restores its own state. */
export class HashTableCheckpointRestorerListener {
  constructor(
    private readonly basename: string,
    private readonly tables: readonly CheckpointableTables[],
    private readonly opts: { latestPrefix?: (basename: string) => Promise<string | undefined> } = {},
  ) {}

  /** Returns false (and leaves the tables alone) when there is no checkpoint yet. */
  async beforeRestore(): Promise<boolean> {
    const commit = await this.stage();
    if (!commit) return false;
    commit();
    return true;
  }

  /**
   * Reads and checks every table of the newest checkpoint and returns the
   * function that swaps them all in; a damaged or missing file, or an entry
   * count other than `ckpt.info-<step>` records, throws with no table changed.
   * Undefined when there is no checkpoint yet.
   */
  async stage(): Promise<(() => void) | undefined> {
    const prefix = await (this.opts.latestPrefix ?? latestCheckpointPrefix)(this.basename);
    if (!prefix) {
      log.info(`no checkpoint found for ${this.basename}; skipping hash table restore`);
      return undefined;
    }
    const dir = ckptAssetDir(prefix);
    const staged: StagedRestore[] = [];
    const unstaged: CheckpointableTables[] = [];
    for (const t of this.tables) {
      if (t.load) staged.push(await t.load(join(dir, t.name)));
      else unstaged.push(t);
    }
    const step = Number(/-(\d+)$/.exec(prefix)?.[1] ?? NaN);
    const info = Number.isFinite(step) ? await readCkptInfo(dirname(prefix), step) : undefined;
    if (info) {
      for (const s of staged) {
        for (const [name, n] of Object.entries(s.counts)) {
          const want = info.featureCounts[name];
          if (want !== undefined && want !== n) {
            throw new FormatError(`table ${name} has ${n} entries in ${dir}, ckpt.info records ${want}: shard files are missing entries or were damaged`, { file: join(dirname(prefix), `ckpt.info-${step}`), field: `feature_counts[${name}]` });
          }
        }
      }
    }
    // Tables that cannot stage (custom CheckpointableTables without `load`) restore here, before any staged table changes.
    for (const t of unstaged) await t.restore(join(dir, t.name));
    return () => {
      for (const s of staged) s.commit();
    };
  }
}

/** Restores right after each save: Monolith uses this to drop stale entries (the save skips expired ones). */
export class HashTableRestorerSaverListener {
  constructor(private readonly restorer: HashTableCheckpointRestorerListener) {}
  async afterSave(_step: number): Promise<void> {
    await this.restorer.beforeRestore();
  }
}
