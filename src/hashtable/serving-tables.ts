import { copyFile, mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '../errors.js';
import { ckptAssetDir } from './checkpoint-listeners.js';
import { restoreTable, tableRestorePrefixes } from './checkpoint.js';
import type { EmbeddingHashTable } from './embedding-hash-table.js';
import { HashTableError } from './errors.js';
import type { IdsInput } from './id-batch.js';
import { MultiHashTable } from './multi-hash-table.js';
import { findShardFiles } from './sharded-files.js';
import { FormatError } from '../errors.js';

/**
 * Serving-side use of training checkpoints, as Monolith's saved_model_exporters
 * do it: restore every table of a model from a checkpoint's asset directory
 * (copying its files into the export's assets unless the embedding is shared),
 * and the raw "assign" entry points a serving model exposes to push fresh
 * embeddings into its tables.
 */
export type ServingTable = EmbeddingHashTable | MultiHashTable;

export interface RestoreForServingOptions {
  /** Restore straight from the checkpoint's asset dir (Monolith's shared_embedding); default false. */
  sharedEmbedding?: boolean;
  /** Per-table override of `sharedEmbedding` (Monolith's table.export_share_embedding), by table name. */
  shareEmbeddingOf?: Record<string, boolean>;
  /** Where the table files are copied when the embedding is not shared (the export's assets). Required then. */
  exportAssetDir?: string;
}

async function filesWithPrefix(dir: string, prefix: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((n) => n.startsWith(prefix)).sort();
  } catch {
    return [];
  }
}

/**
 * Restores `tables` from the checkpoint `ckptPrefix` (`<basename>-<step>`).
 * A plain table is looked up under its name, then its `extraRestoreNames`; a
 * MultiHashTable under its name. Returns the entries restored per table.
 */
export async function restoreForServing(tables: readonly ServingTable[], ckptPrefix: string, opts: RestoreForServingOptions = {}): Promise<Record<string, number>> {
  const src = ckptAssetDir(ckptPrefix);
  const out: Record<string, number> = {};
  for (const t of tables) {
    const shared = opts.shareEmbeddingOf?.[t.name] ?? opts.sharedEmbedding ?? false;
    const prefixes = t instanceof MultiHashTable ? [t.name] : tableRestorePrefixes(t);
    let prefix: string | undefined;
    for (const p of prefixes) {
      if ((await findShardFiles(join(src, p))).length > 0) {
        prefix = p;
        break;
      }
    }
    if (!prefix) throw new FormatError(`no checkpoint of table ${t.name} in ${src} under any of its names [${prefixes.join(', ')}]`, { file: src });
    let dir = src;
    if (!shared) {
      if (!opts.exportAssetDir) throw new ConfigError(`table ${t.name}: restoring without a shared embedding copies its files into the export's assets; give exportAssetDir`);
      await mkdir(opts.exportAssetDir, { recursive: true });
      for (const f of await filesWithPrefix(src, prefix)) await copyFile(join(src, f), join(opts.exportAssetDir, f));
      dir = opts.exportAssetDir;
    }
    out[t.name] = t instanceof MultiHashTable ? await t.restore(join(dir, prefix)) : await restoreTable(t, join(dir, prefix));
  }
  return out;
}

/** Inputs of the `hashtable_assign` signature: `<name>_id` (ids) and `<name>_value` (n x dim floats) per table. */
export type HashTableAssignInputs = Record<string, IdsInput | Float32Array>;

/**
 * Monolith's `hashtable_assign` signature over plain tables: assigns
 * `<name>_value` to `<name>_id` for every table whose inputs are given, and
 * returns `<name>_result` = the number of ids (the dummy output Monolith returns).
 * A table with only one of its two inputs is an error.
 */
export function hashTableAssign(tables: readonly EmbeddingHashTable[], inputs: HashTableAssignInputs): Record<string, number> {
  const out: Record<string, number> = {};
  const known = new Set(tables.flatMap((t) => [`${t.name}_id`, `${t.name}_value`]));
  for (const k of Object.keys(inputs)) if (!known.has(k)) throw new HashTableError(`hashtable_assign: unknown input ${k} (inputs: ${[...known].join(', ')})`);
  for (const t of tables) {
    const ids = inputs[`${t.name}_id`];
    const values = inputs[`${t.name}_value`];
    if (ids === undefined && values === undefined) continue;
    if (ids === undefined || !(values instanceof Float32Array)) throw new HashTableError(`hashtable_assign: table ${t.name} needs both ${t.name}_id and ${t.name}_value (a Float32Array)`);
    t.assign(ids as IdsInput, values);
    out[`${t.name}_result`] = values.length / t.dim;
  }
  return out;
}

/** Inputs of a `<name>/raw_assign` signature: ragged ids (`id`, row splits `id_split`) and the flat values. */
export interface RawAssignInputs {
  id: IdsInput;
  id_split: ArrayLike<number>;
  flat_value: Float32Array;
}

/**
 * Monolith's `<shared_name>/raw_assign` signatures of multi-hash tables, by
 * signature name; each returns `{ result: 0 }`. Two tables with one name are an error.
 */
export function multiHashTableRawAssignSignatures(tables: readonly MultiHashTable[]): Record<string, (inputs: RawAssignInputs) => { result: number }> {
  const sigs: Record<string, (inputs: RawAssignInputs) => { result: number }> = {};
  for (const t of tables) {
    const name = `${t.name}/raw_assign`;
    if (sigs[name]) throw new ConfigError(`${name} has already been defined in signature`);
    sigs[name] = (inputs) => {
      t.rawAssign({ values: inputs.id, rowSplits: inputs.id_split }, inputs.flat_value);
      return { result: 0 };
    };
  }
  return sigs;
}
