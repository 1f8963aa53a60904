import { createHash } from 'node:crypto';
import { UnsupportedOperationError, HashTableError } from './errors.js';
import type { ApplyGradientsOptions, EmbeddingHashTableConfig } from './embedding-hash-table.js';
import type { CheckpointableTable, SaveOptions } from './checkpoint.js';
import { configKey } from './config-key.js';
import { idCount, toIdWords, type IdsInput } from './id-batch.js';
import type { BaseMultiTypeHashTable, SlotIds, SlotIdsAndValues } from './multi-type-hash-table.js';

const md5 = (s: string): string => createHash('md5').update(s, 'utf8').digest('hex');

/**
 * Monolith's merged-slot name: the md5 hex of the sorted slot names joined by
 * ','. Names must stay stable across versions, because checkpoints use them.
 */
export function mergedSlotName(slots: readonly string[]): string {
  return md5(slots.join(','));
}

/**
 * Slots with identical configs share one table (named by `mergedSlotName`).
 * Lookups and updates are merged per table and split back per slot in input
 * order. The caller must keep ids of merged slots distinct (as in Monolith).
 */
export class MergedMultiTypeHashTable implements BaseMultiTypeHashTable {
  /** slot -> merged slot name. */
  readonly slotMapping: Record<string, string> = {};
  readonly mergedSlotToConfig: Record<string, EmbeddingHashTableConfig> = {};
  readonly table: BaseMultiTypeHashTable;

  constructor(slotToConfig: Record<string, EmbeddingHashTableConfig>, factory: (mergedSlotToConfig: Record<string, EmbeddingHashTableConfig>) => BaseMultiTypeHashTable) {
    const byConfig = new Map<string, string[]>();
    for (const slot of Object.keys(slotToConfig).sort()) {
      const key = configKey(slotToConfig[slot]!);
      byConfig.set(key, [...(byConfig.get(key) ?? []), slot]);
    }
    for (const slots of byConfig.values()) {
      const merged = mergedSlotName(slots);
      const config: EmbeddingHashTableConfig = { ...slotToConfig[slots[0]!]!, extraRestoreNames: [...(slotToConfig[slots[0]!]!.extraRestoreNames ?? [])] };
      // Checkpoints of older versions named these slots "slot_*" instead of "fc_slot_*".
      const old = mergedSlotName(slots.map((s) => (/^fc_slot_[0-9]*$/.test(s) ? s.slice(3) : s)));
      if (old !== merged) config.extraRestoreNames!.push(old);
      this.mergedSlotToConfig[merged] = config;
      for (const s of slots) this.slotMapping[s] = merged;
    }
    this.table = factory(this.mergedSlotToConfig);
  }

  private merged(slot: string): string {
    const m = this.slotMapping[slot];
    if (!m) throw new HashTableError(`no hash table for slot ${slot}`);
    return m;
  }

  /** Groups per-slot ids (and values) by merged table, remembering each slot's span. */
  private merge(entries: [string, IdsInput, Float32Array | undefined][]) {
    const groups = new Map<string, { slot: string; words: Uint32Array; values?: Float32Array }[]>();
    for (const [slot, ids, values] of entries) {
      const m = this.merged(slot);
      groups.set(m, [...(groups.get(m) ?? []), { slot, words: toIdWords(ids), values }]);
    }
    const out = new Map<string, { ids: Uint32Array; values?: Float32Array; parts: { slot: string; n: number }[] }>();
    for (const [m, parts] of groups) {
      const n = parts.reduce((a, p) => a + idCount(p.words), 0);
      const ids = new Uint32Array(2 * n);
      let at = 0;
      for (const p of parts) {
        ids.set(p.words, 2 * at);
        at += idCount(p.words);
      }
      let values: Float32Array | undefined;
      if (parts[0]!.values) {
        values = new Float32Array(parts.reduce((a, p) => a + p.values!.length, 0));
        let v = 0;
        for (const p of parts) {
          values.set(p.values!, v);
          v += p.values!.length;
        }
      }
      out.set(m, { ids, values, parts: parts.map((p) => ({ slot: p.slot, n: idCount(p.words) })) });
    }
    return out;
  }

  lookup(slotToId: SlotIds): Record<string, Float32Array> {
    const groups = this.merge(Object.entries(slotToId).map(([s, ids]) => [s, ids, undefined]));
    const res = this.table.lookup(Object.fromEntries([...groups].map(([m, g]) => [m, g.ids])));
    const out: Record<string, Float32Array> = {};
    for (const [m, g] of groups) {
      const emb = res[m]!;
      const dim = g.ids.length ? emb.length / (g.ids.length / 2) : 0;
      let at = 0;
      for (const p of g.parts) {
        out[p.slot] = emb.slice(at * dim, (at + p.n) * dim);
        at += p.n;
      }
    }
    // Results in the caller's slot order.
    return Object.fromEntries(Object.keys(slotToId).map((s) => [s, out[s]!]));
  }

  private update(m: SlotIdsAndValues): SlotIdsAndValues {
    const groups = this.merge(Object.entries(m).map(([s, [ids, v]]) => [s, ids, v]));
    return Object.fromEntries([...groups].map(([name, g]) => [name, [g.ids, g.values!] as const]));
  }
  assign(m: SlotIdsAndValues): this {
    this.table.assign(this.update(m));
    return this;
  }
  assignAdd(m: SlotIdsAndValues): this {
    this.table.assignAdd(this.update(m));
    return this;
  }
  applyGradients(m: SlotIdsAndValues, opts: ApplyGradientsOptions = {}): this {
    this.table.applyGradients(this.update(m), opts);
    return this;
  }
  reinitialize(): Int32Array {
    throw new UnsupportedOperationError('MergedMultiTypeHashTable does not support reinitialize');
  }
  tableDimSizes(): Record<string, number> {
    return this.table.tableDimSizes();
  }
  /**
   * The merged tables for the checkpoint listeners: saved under the merged
   * (md5) names, restored from them or from the old `slot_*` md5 names.
   */
  checkpointables(opts: SaveOptions = {}): CheckpointableTable[] {
    if (!this.table.checkpointables) throw new UnsupportedOperationError('the underlying table family of this MergedMultiTypeHashTable cannot be checkpointed');
    return this.table.checkpointables(opts);
  }
}
