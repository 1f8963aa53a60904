import { UnsupportedOperationError, HashTableError } from './errors.js';
import { EmbeddingHashTable, type ApplyGradientsOptions, type EmbeddingHashTableConfig, type TableRuntimeOptions } from './embedding-hash-table.js';
import { checkpointableTable, type CheckpointableTable, type SaveOptions } from './checkpoint.js';
import { fusedApplyGradients, fusedLookup, type FusedApplyOptions, type FusedLookupResult } from './fused-ops.js';
import type { IdsInput } from './id-batch.js';

export type SlotIds = Record<string, IdsInput>;
export type SlotIdsAndValues = Record<string, readonly [IdsInput, Float32Array]>;

/** Monolith's BaseMultiTypeHashTable: per-slot lookups and updates. Updates return the table (Monolith returns an updated copy). */
export interface BaseMultiTypeHashTable {
  lookup(slotToId: SlotIds): Record<string, Float32Array>;
  assign(slotToIdAndValue: SlotIdsAndValues): this;
  assignAdd(slotToIdAndValue: SlotIdsAndValues): this;
  applyGradients(slotToIdAndGrad: SlotIdsAndValues, opts?: ApplyGradientsOptions): this;
  reinitialize(slot: string, ids: IdsInput): Int32Array;
  tableDimSizes(): Record<string, number>;
  /** One checkpointable per underlying table, for the checkpoint listeners (each saved under its table name). */
  checkpointables?(opts?: SaveOptions): CheckpointableTable[];
}

/** Builds the table of one slot (Monolith's factory(idx, config)). */
export type TableFactory = (slot: string, config: EmbeddingHashTableConfig, index: number) => EmbeddingHashTable;

export const defaultTableFactory =
  (runtime: TableRuntimeOptions = {}): TableFactory =>
  (slot, config) =>
    EmbeddingHashTable.create({ ...config, name: config.name ?? slot }, runtime);

/** One hash table per slot, built by a factory. `reinitialize` is not supported (as in Monolith). */
export class MultiTypeHashTable implements BaseMultiTypeHashTable {
  readonly tables: Record<string, EmbeddingHashTable> = {};
  readonly slots: string[];

  constructor(slotToConfig: Record<string, EmbeddingHashTableConfig>, factory: TableFactory = defaultTableFactory()) {
    this.slots = Object.keys(slotToConfig);
    this.slots.forEach((slot, i) => (this.tables[slot] = factory(slot, slotToConfig[slot]!, i)));
  }

  private table(slot: string): EmbeddingHashTable {
    const t = this.tables[slot];
    if (!t) throw new HashTableError(`no hash table for slot ${slot} (slots: ${this.slots.join(', ')})`);
    return t;
  }

  lookup(slotToId: SlotIds): Record<string, Float32Array> {
    const out: Record<string, Float32Array> = {};
    for (const [slot, ids] of Object.entries(slotToId)) out[slot] = this.table(slot).lookup(ids);
    return out;
  }
  assign(m: SlotIdsAndValues): this {
    for (const [slot, [ids, v]] of Object.entries(m)) this.table(slot).assign(ids, v);
    return this;
  }
  assignAdd(m: SlotIdsAndValues): this {
    for (const [slot, [ids, v]] of Object.entries(m)) this.table(slot).assignAdd(ids, v);
    return this;
  }
  applyGradients(m: SlotIdsAndValues, opts: ApplyGradientsOptions = {}): this {
    for (const [slot, [ids, g]] of Object.entries(m)) this.table(slot).applyGradients(ids, g, opts);
    return this;
  }
  reinitialize(): Int32Array {
    throw new UnsupportedOperationError('MultiTypeHashTable does not support reinitialize');
  }
  tableDimSizes(): Record<string, number> {
    return Object.fromEntries(this.slots.map((s) => [s, this.tables[s]!.dim]));
  }
  /** The per-slot tables for HashTableCheckpointSaverListener / RestorerListener. */
  checkpointables(opts: SaveOptions = {}): CheckpointableTable[] {
    return this.slots.map((s) => checkpointableTable(this.tables[s]!, opts));
  }
  /** Fused lookup over the slots in construction order. */
  fusedLookup(ids: IdsInput, fusedSlotSize: ArrayLike<number>, numShards: number): FusedLookupResult {
    return fusedLookup(this.slots.map((s) => this.tables[s]!), ids, fusedSlotSize, numShards);
  }
  fusedApplyGradients(ids: IdsInput, fusedSlotSize: ArrayLike<number>, grads: Float32Array, numShards: number, opts: FusedApplyOptions = {}): this {
    fusedApplyGradients(this.slots.map((s) => this.tables[s]!), ids, fusedSlotSize, grads, numShards, opts);
    return this;
  }
}
