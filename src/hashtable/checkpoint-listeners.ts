import { mkdir, readdir } from 'node:fs/promises';
import { basename as baseOf, dirname, join } from 'node:path';
import { log } from '../util/log.js';
import { writeCkptInfo, type CkptInfoCounts } from './ckpt-info.js';

/** Anything a checkpoint listener can save and restore under a basename (a table or a family of tables). */
export interface CheckpointableTables {
  /** The shared name the files are saved under, inside the step's asset directory. */
  readonly name: string;
  save(basename: string): Promise<unknown>;
  restore(basename: string): Promise<unknown>;
  featureCounts(): CkptInfoCounts;
}

/** Monolith's SaveHelper layout: `<basename>-<step>` is the prefix, tables go to `<prefix>.assets/`. */
export const ckptPrefix = (basename: string, step: number): string => `${basename}-${step}`;
export const ckptAssetDir = (prefix: string): string => `${prefix}.assets/`;

/** The newest `<basename>-<step>.assets` directory's prefix, if any. */
export async function latestCheckpointPrefix(basename: string): Promise<string | undefined> {
  const re = new RegExp(`^${baseOf(basename).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-(\\d+)\\.assets$`);
  let best = -1;
  try {
    for (const n of await readdir(dirname(basename))) {
      const m = re.exec(n);
      if (m && Number(m[1]) > best) best = Number(m[1]);
    }
  } catch {
    return undefined;
  }
  return best < 0 ? undefined : ckptPrefix(basename, best);
}

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
    const prefix = await (this.opts.latestPrefix ?? latestCheckpointPrefix)(this.basename);
    if (!prefix) {
      log.info(`no checkpoint found for ${this.basename}; skipping hash table restore`);
      return false;
    }
    const dir = ckptAssetDir(prefix);
    for (const t of this.tables) await t.restore(join(dir, t.name));
    return true;
  }
}

/** Restores right after each save: Monolith uses this to drop stale entries (the save skips expired ones). */
export class HashTableRestorerSaverListener {
  constructor(private readonly restorer: HashTableCheckpointRestorerListener) {}
  async afterSave(_step: number): Promise<void> {
    await this.restorer.beforeRestore();
  }
}
