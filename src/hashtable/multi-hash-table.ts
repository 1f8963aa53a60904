import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { FormatError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic-file.js';
import { readTFRecords } from '../io/tfrecord.js';
import { monolith } from '../proto.js';
import { encodeTableShardGroup, slotCounts, defaultSaveShards, type StagedRestore } from './checkpoint.js';
import type { CheckpointableTables } from './checkpoint-listeners.js';
import type { CkptInfoCounts } from './ckpt-info.js';
import { EmbeddingHashTable, type ApplyGradientsOptions, type EmbeddingHashTableConfig, type EmbeddingHashTableHandle, type TableRuntimeOptions } from './embedding-hash-table.js';
import { decodeEntryDump, putDecodedEntry, type DecodedEntry } from './entry-dump.js';
import { HashTableError } from './errors.js';
import { fusedApplyGradients, fusedLookup, type FusedApplyOptions, type FusedLookupResult } from './fused-ops.js';
import { idCount, toIdWords, type IdsInput } from './id-batch.js';
import type { SlotIds, SlotIdsAndValues } from './multi-type-hash-table.js';
import { decodeRecordFile, encodeRecordFile } from './tf-snappy.js';
import { findShardFiles, removeOtherShardCounts, shardedFileName, shardedMetaFileName } from './sharded-files.js';

/** Ids of many tables in one ragged batch: table t owns values[rowSplits[t] .. rowSplits[t+1]). */
export interface RaggedIds {
  values: IdsInput;
  rowSplits: ArrayLike<number>;
}

/**
 * Many named tables in one object (Monolith's MultiHashTable), in sorted name
 * order. Raw ops take ragged ids and flat values (tables concatenated).
 * Checkpoints: `<basename>-k-of-N` holds EntryDump records of all tables
 * grouped by table, `<basename>.meta-k-of-N` a MultiHashTableMetadata record
 * (table name, entry count) per table, as Monolith's save op writes them
 * (data files SNAPPY-compressed the way TensorFlow's RecordWriter does it).
 */
export class MultiHashTable implements CheckpointableTables {
  readonly names: string[];
  readonly tables: Map<string, EmbeddingHashTable>;
  /** Entries per table written by the last save (ckpt.info counts what is on disk). */
  private savedCounts?: Map<string, number>;

  private constructor(
    readonly name: string,
    tables: Map<string, EmbeddingHashTable>,
  ) {
    this.names = [...tables.keys()];
    this.tables = tables;
  }

  static fromConfigs(configs: Record<string, EmbeddingHashTableConfig>, opts: { name?: string; runtime?: TableRuntimeOptions } = {}): MultiHashTable {
    const tables = new Map<string, EmbeddingHashTable>();
    for (const n of Object.keys(configs).sort()) tables.set(n, EmbeddingHashTable.create({ ...configs[n]!, name: n }, opts.runtime));
    return new MultiHashTable(opts.name ?? 'MultiHashTable', tables);
  }

  handle(): { name: string; tables: [string, EmbeddingHashTableHandle][] } {
    return { name: this.name, tables: this.names.map((n) => [n, this.tables.get(n)!.handle()]) };
  }
  static attach(h: { name: string; tables: [string, EmbeddingHashTableHandle][] }, runtime?: TableRuntimeOptions): MultiHashTable {
    return new MultiHashTable(h.name, new Map(h.tables.map(([n, th]) => [n, EmbeddingHashTable.attach(th, runtime)])));
  }

  private table(name: string): EmbeddingHashTable {
    const t = this.tables.get(name);
    if (!t) throw new HashTableError(`MultiHashTable ${this.name}: no table ${name} (tables: ${this.names.join(', ')})`);
    return t;
  }
  get dims(): number[] {
    return this.names.map((n) => this.tables.get(n)!.dim);
  }

  lookup(slotToId: SlotIds): Record<string, Float32Array> {
    return Object.fromEntries(Object.entries(slotToId).map(([n, ids]) => [n, this.table(n).lookup(ids)]));
  }
  assign(m: SlotIdsAndValues): this {
    for (const [n, [ids, v]] of Object.entries(m)) this.table(n).assign(ids, v);
    return this;
  }
  assignAdd(m: SlotIdsAndValues): this {
    for (const [n, [ids, v]] of Object.entries(m)) this.table(n).assignAdd(ids, v);
    return this;
  }
  applyGradients(m: SlotIdsAndValues, opts: ApplyGradientsOptions = {}): this {
    for (const [n, [ids, g]] of Object.entries(m)) this.table(n).applyGradients(ids, g, opts);
    return this;
  }
  /** Status per id: 1 reinitialised, 0 created; -1 for every id when the table does not exist. */
  reinitialize(name: string, ids: IdsInput): Int32Array {
    const t = this.tables.get(name);
    if (!t) return new Int32Array(idCount(toIdWords(ids))).fill(-1);
    return t.reinitialize(ids);
  }

  /** Splits ragged ids per table and checks the splits. */
  private split(r: RaggedIds): Uint32Array[] {
    const w = toIdWords(r.values);
    const s = r.rowSplits;
    if (s.length !== this.names.length + 1 || s[0] !== 0 || s[s.length - 1] !== idCount(w)) {
      throw new HashTableError(`MultiHashTable ${this.name}: row_splits must have ${this.names.length + 1} entries from 0 to ${idCount(w)}`);
    }
    return this.names.map((_, t) => w.subarray(2 * s[t]!, 2 * s[t + 1]!));
  }
  private flatSize(parts: Uint32Array[]): number {
    return parts.reduce((a, p, t) => a + idCount(p) * this.tables.get(this.names[t]!)!.dim, 0);
  }

  rawLookup(ids: RaggedIds): Float32Array {
    const parts = this.split(ids);
    const out = new Float32Array(this.flatSize(parts));
    let at = 0;
    parts.forEach((p, t) => {
      const n = idCount(p) * this.tables.get(this.names[t]!)!.dim;
      if (n) this.tables.get(this.names[t]!)!.lookup(p, out.subarray(at, at + n));
      at += n;
    });
    return out;
  }
  private rawEach(ids: RaggedIds, flat: Float32Array, fn: (t: EmbeddingHashTable, p: Uint32Array, v: Float32Array) => void): void {
    const parts = this.split(ids);
    const total = this.flatSize(parts);
    if (flat.length !== total) throw new HashTableError(`MultiHashTable ${this.name}: ${flat.length} flat values for ${total} embedding floats`);
    let at = 0;
    parts.forEach((p, t) => {
      const table = this.tables.get(this.names[t]!)!;
      const n = idCount(p) * table.dim;
      if (n) fn(table, p, flat.subarray(at, at + n));
      at += n;
    });
  }
  rawAssign(ids: RaggedIds, values: Float32Array): this {
    this.rawEach(ids, values, (t, p, v) => t.assign(p, v));
    return this;
  }
  rawAssignAdd(ids: RaggedIds, values: Float32Array): this {
    this.rawEach(ids, values, (t, p, v) => t.assignAdd(p, v));
    return this;
  }
  rawApplyGradients(ids: RaggedIds, grads: Float32Array, opts: ApplyGradientsOptions = {}): this {
    this.rawEach(ids, grads, (t, p, g) => t.applyGradients(p, g, opts));
    return this;
  }
  fusedLookup(ids: IdsInput, fusedSlotSize: ArrayLike<number>, numShards: number): FusedLookupResult {
    return fusedLookup(this.names.map((n) => this.tables.get(n)!), ids, fusedSlotSize, numShards);
  }
  /** `learningRates` flattened over tables (in name order) and their segments. */
  fusedApplyGradients(ids: IdsInput, fusedSlotSize: ArrayLike<number>, grads: Float32Array, numShards: number, opts: FusedApplyOptions = {}): this {
    fusedApplyGradients(this.names.map((n) => this.tables.get(n)!), ids, fusedSlotSize, grads, numShards, opts);
    return this;
  }

  get size(): number {
    let n = 0;
    for (const t of this.tables.values()) n += t.size;
    return n;
  }

  featureCounts(): CkptInfoCounts {
    const featureCounts: Record<string, number> = {};
    const slots: Record<number, number> = {};
    for (const [n, t] of this.tables) {
      featureCounts[n] = this.savedCounts?.get(n) ?? t.size;
      for (const [k, v] of Object.entries(slotCounts(t))) slots[Number(k)] = (slots[Number(k)] ?? 0) + v;
    }
    return { featureCounts, slotCounts: slots };
  }

  /**
   * Saves every table as Monolith's MultiHashTable save op does: data files
   * SNAPPY-compressed (TensorFlow's record-file compression, `compression:
   * 'none'` to write plain TFRecords), metadata files plain. Each file goes to
   * a temp name and is renamed.
   */
  async save(basename: string, opts: { nshards?: number; compression?: 'snappy' | 'none' } = {}): Promise<number> {
    const n = opts.nshards ?? defaultSaveShards(this.size);
    await mkdir(dirname(basename), { recursive: true });
    let total = 0;
    const saved = new Map<string, number>();
    for (let k = 0; k < n; k++) {
      const data: Uint8Array[] = [];
      const meta: Uint8Array[] = [];
      for (const name of this.names) {
        const records = encodeTableShardGroup(this.tables.get(name)!, k, n);
        data.push(...records);
        meta.push(monolith.hash_table.MultiHashTableMetadata.encode({ tableName: name, numEntries: records.length }).finish());
        total += records.length;
        saved.set(name, (saved.get(name) ?? 0) + records.length);
      }
      await writeFileAtomic(shardedFileName(basename, k, n), encodeRecordFile(data, opts.compression ?? 'snappy'));
      await writeFileAtomic(shardedMetaFileName(basename, k, n), encodeRecordFile(meta, 'none'));
    }
    await removeOtherShardCounts(basename, n);
    this.savedCounts = saved;
    return total;
  }

  /**
   * Restores every table found in the checkpoint (tables it lacks end up
   * empty, as after Monolith's initializer; tables only in the checkpoint are
   * skipped). All files are read and checked before any table changes.
   */
  async restore(basename: string): Promise<number> {
    return (await this.load(basename)).commit();
  }

  /** `restore` without the commit: every file read and checked, no table changed yet. */
  async load(basename: string): Promise<StagedRestore> {
    const files = await findShardFiles(basename);
    if (files.length === 0) throw new FormatError(`no checkpoint files ${basename}-NNNNN-of-NNNNN`, { file: basename });
    const staged = new Map<string, DecodedEntry[]>();
    for (let k = 0; k < files.length; k++) {
      const metaFile = shardedMetaFileName(basename, k, files.length);
      const metas: { name: string; n: number }[] = [];
      try {
        for await (const rec of readTFRecords(metaFile)) {
          const m = monolith.hash_table.MultiHashTableMetadata.decode(rec);
          const num = m.numEntries as unknown as number | { toNumber(): number };
          metas.push({ name: m.tableName ?? '', n: typeof num === 'number' ? num : num.toNumber() });
        }
      } catch (err) {
        if (err instanceof FormatError) throw err;
        throw new FormatError(`cannot read table metadata: ${(err as Error).message}`, { file: metaFile }, { cause: err });
      }
      let raw: Buffer;
      try {
        raw = await readFile(files[k]!);
      } catch (err) {
        throw new FormatError(`cannot read checkpoint file: ${(err as Error).message}`, { file: files[k]! }, { cause: err });
      }
      const all = await decodeRecordFile(raw, files[k]!);
      const expected = metas.reduce((a, m) => a + m.n, 0);
      if (all.length !== expected) throw new FormatError(`data file has ${all.length} records, its metadata lists ${expected}`, { file: files[k]! });
      let at = 0;
      for (const m of metas) {
        const table = this.tables.get(m.name);
        const recs = all.slice(at, at + m.n);
        at += m.n;
        if (!table) continue;
        const list = staged.get(m.name) ?? [];
        recs.forEach((r, i) => {
          let e: DecodedEntry;
          try {
            e = decodeEntryDump(r);
          } catch (err) {
            throw new FormatError(`record of table ${m.name} is not a valid EntryDump`, { file: files[k]!, field: `record ${i}` }, { cause: err });
          }
          if (e.num.length !== table.dim) throw new FormatError(`table ${m.name}: record has ${e.num.length} floats, expected ${table.dim}`, { file: files[k]!, field: 'num' });
          list.push(e);
        });
        staged.set(m.name, list);
      }
    }
    const counts: Record<string, number> = {};
    for (const [name, list] of staged) counts[name] = list.length;
    return {
      counts,
      commit: () => {
        let count = 0;
        for (const [name, t] of this.tables) {
          t.clear();
          for (const e of staged.get(name) ?? []) putDecodedEntry(t, e);
          count += staged.get(name)?.length ?? 0;
        }
        return count;
      },
    };
  }
}


