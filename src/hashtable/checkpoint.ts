import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { CkptInfoCounts } from './ckpt-info.js';
import { FormatError, MonolithError } from '../errors.js';
import { readTFRecords, TFRecordWriter } from '../io/tfrecord.js';
import type { EmbeddingHashTable } from './embedding-hash-table.js';
import { decodeEntryDump, encodeEntryDump, entryToDump, putDecodedEntry, type DecodedEntry } from './entry-dump.js';
import { findShardFiles, removeOtherShardCounts, shardedFileName } from './sharded-files.js';

export interface SaveOptions {
  /** Files to write; default as Monolith: min(4, max(1, size / 1e6)). */
  nshards?: number;
}

/** Monolith's PickNshards. */
export const defaultSaveShards = (size: number): number => Math.min(4, Math.max(1, Math.floor(size / 1e6)));

/**
 * The encoded EntryDump records of table shards `s % nshards == k`, skipping
 * entries expired relative to the table's newest update (as Monolith's save does).
 */
export function encodeTableShardGroup(table: EmbeddingHashTable, k: number, nshards: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  const maxTs = table.maxUpdateTs;
  const scratch = new Float32Array(table.dim);
  for (let s = k; s < table.shards.length; s += nshards) {
    table.forEachEntry(s, (lo, hi, row, sh) => {
      const ts = sh.u32[row * sh.stride + table.layout.tsWord]!;
      if (maxTs - ts >= table.expireSecondsForHi(hi)) return;
      out.push(encodeEntryDump(entryToDump(table, lo, hi, row, sh, scratch)));
    });
  }
  return out;
}

/**
 * Saves `table` as `<basename>-0000k-of-0000N`, TFRecord files of EntryDump.
 * Each file is written to a temp name and renamed, so a crash leaves the
 * previous checkpoint's files whole. Returns the entries written.
 */
export async function saveTable(table: EmbeddingHashTable, basename: string, opts: SaveOptions = {}): Promise<number> {
  const n = opts.nshards ?? defaultSaveShards(table.size);
  await mkdir(dirname(basename), { recursive: true });
  let count = 0;
  for (let k = 0; k < n; k++) {
    const records = encodeTableShardGroup(table, k, n);
    const w = await TFRecordWriter.open(shardedFileName(basename, k, n));
    try {
      for (const r of records) await w.write(r);
      await w.close();
    } catch (err) {
      await w.abort();
      throw err;
    }
    count += records.length;
  }
  await removeOtherShardCounts(basename, n);
  return count;
}

/** Reads and decodes every record of one file; any damage is a FormatError naming the file (and record). */
export async function readEntryFile(file: string, dim: number, onEntry: (e: DecodedEntry) => void): Promise<void> {
  let index = 0;
  try {
    for await (const rec of readTFRecords(file)) {
      let e: DecodedEntry;
      try {
        e = decodeEntryDump(rec);
      } catch (err) {
        throw new FormatError(`record ${index} is not a valid EntryDump: ${(err as Error).message}`, { file, field: 'EntryDump' }, { cause: err });
      }
      if (e.num.length !== dim) throw new FormatError(`record ${index} has ${e.num.length} floats, the table's entries have ${dim}`, { file, field: 'num' });
      onEntry(e);
      index++;
    }
  } catch (err) {
    if (err instanceof MonolithError) throw err;
    throw new FormatError(`cannot read checkpoint file: ${(err as Error).message}`, { file }, { cause: err });
  }
}

/** A restore read and checked in full, not yet applied: `commit` swaps it into the live table(s). */
export interface StagedRestore {
  /** Entries staged per table name. */
  counts: Record<string, number>;
  /** Replaces the live contents; cannot fail on bad input (everything was checked while staging). */
  commit(): number;
}

/**
 * Reads and checks every shard file of `basename` without touching `table`.
 * Missing, mixed or damaged shards are FormatErrors naming the file.
 */
export async function loadTable(table: EmbeddingHashTable, basename: string): Promise<StagedRestore> {
  const files = await findShardFiles(basename);
  if (files.length === 0) throw new FormatError(`no checkpoint files ${basename}-NNNNN-of-NNNNN`, { file: basename });
  const staged: DecodedEntry[] = [];
  for (const f of files) await readEntryFile(f, table.dim, (e) => staged.push(e));
  return {
    counts: { [table.name]: staged.length },
    commit: () => {
      table.clear();
      for (const e of staged) putDecodedEntry(table, e);
      return staged.length;
    },
  };
}

/**
 * Restores a table saved by `saveTable` or by Monolith, with any shard count.
 * Every file is read and checked before the table changes: on a corrupt or
 * missing file this throws and the live table is untouched. On success the
 * table holds exactly the checkpoint's entries. Returns the entries restored.
 */
export async function restoreTable(table: EmbeddingHashTable, basename: string): Promise<number> {
  return (await loadTable(table, basename)).commit();
}

/** Entries per slot of a table (for ckpt.info). */
export function slotCounts(table: EmbeddingHashTable): Record<number, number> {
  const counts: Record<number, number> = {};
  const v = table.config.fidVersion ?? 2;
  for (let s = 0; s < table.shards.length; s++) {
    table.forEachEntry(s, (_lo, hi) => {
      const slot = v === 2 ? hi >>> 16 : hi >>> 22;
      counts[slot] = (counts[slot] ?? 0) + 1;
    });
  }
  return counts;
}

/** File-name prefix of a table name, as Monolith's `_all_table_tensor_prefix` ('/' and ':' become '-'). */
export const tableFilePrefix = (name: string): string => name.replace(/[:/]/g, '-');

/** The prefixes a table may have been saved under: its own name, then its `extraRestoreNames`. */
export function tableRestorePrefixes(table: EmbeddingHashTable): string[] {
  return [table.name, ...(table.config.extraRestoreNames ?? [])].map(tableFilePrefix);
}

/**
 * Restores `table` from the directory of a checkpoint's tables, under the
 * first of its names (own name, then `extraRestoreNames`, e.g. the md5 of the
 * old `slot_*` names of a merged table) that has files there. None found → a
 * FormatError listing the names tried (the model structure probably changed).
 */
export async function restoreTableFromDir(table: EmbeddingHashTable, dir: string): Promise<number> {
  return (await loadTableFromDir(table, dir)).commit();
}

/** `restoreTableFromDir` without the commit: the staged restore of the first name with files. */
export async function loadTableFromDir(table: EmbeddingHashTable, dir: string): Promise<StagedRestore> {
  const prefixes = tableRestorePrefixes(table);
  for (const p of prefixes) {
    if ((await findShardFiles(join(dir, p))).length > 0) return loadTable(table, join(dir, p));
  }
  throw new FormatError(`no checkpoint of table ${table.name} in ${dir} under any of its names [${prefixes.join(', ')}]; maybe the model structure has changed`, { file: dir });
}

export interface CheckpointableTable {
  readonly name: string;
  save(basename: string): Promise<number>;
  restore(basename: string): Promise<number>;
  load(basename: string): Promise<StagedRestore>;
  featureCounts(): CkptInfoCounts;
}

/**
 * A single table as something the checkpoint listeners can save and restore.
 * The listeners save it as `<asset dir>/<name>`; restore falls back to the
 * table's `extraRestoreNames` in the same directory. Its feature count is what
 * the last save wrote (expired entries are not saved), so `ckpt.info` matches the files.
 */
export function checkpointableTable(table: EmbeddingHashTable, opts: SaveOptions = {}): CheckpointableTable {
  let saved: number | undefined;
  const load = async (basename: string) => ((await findShardFiles(basename)).length > 0 ? loadTable(table, basename) : loadTableFromDir(table, dirname(basename)));
  return {
    name: tableFilePrefix(table.name),
    save: async (basename: string) => (saved = await saveTable(table, basename, opts)),
    load,
    restore: async (basename: string) => (await load(basename)).commit(),
    featureCounts: () => ({ featureCounts: { [table.name]: saved ?? table.size }, slotCounts: slotCounts(table) }),
  };
}
