import { ConfigError } from '../errors.js';
import type { monolith } from '../proto.js';

/** Monolith's DEFAULT_EXPIRE_TIME (days). */
export const DEFAULT_EXPIRE_TIME = 36500;

/** Which hash table implementation a feature slot asks for (Monolith's CuckooHashTableConfig / GpucucoHashTableConfig). */
export type HashTableKind = 'cuckoo' | 'gpucuco';

/** The table-related part of Monolith's FeatureSlotConfig. */
export interface FeatureSlotConfig {
  /** The shared table name; defaults to the slot id as a string (as FeatureSlotConfig.__post_init__). */
  name: string;
  hasBias: boolean;
  slotId: number;
  occurrenceThreshold: number;
  /** Days. */
  expireTime: number;
  hashtableConfig: HashTableKind;
}

/**
 * Monolith's `MonolithModel._get_fs_conf`: the config of a feature slot shared
 * under `sharedName` — no bias, the slot's occurrence threshold and expire
 * time, and a GPU table kind when `useGpuEmbTable` (this runtime has only the
 * shared-memory CPU table: a 'gpucuco' slot is served by it and the kind is
 * kept for round trips).
 */
export function getFsConf(sharedName: string | undefined, slot: number, occurrenceThreshold = 0, expireTime = DEFAULT_EXPIRE_TIME, opts: { useGpuEmbTable?: boolean } = {}): FeatureSlotConfig {
  if (!Number.isInteger(slot) || slot < 0) throw new ConfigError(`feature slot id must be a non-negative integer, got ${slot}`);
  if (!Number.isInteger(occurrenceThreshold) || occurrenceThreshold < 0) throw new ConfigError(`slot ${slot}: occurrence_threshold must be a non-negative integer, got ${occurrenceThreshold}`);
  if (!(expireTime > 0)) throw new ConfigError(`slot ${slot}: expire_time must be positive (days), got ${expireTime}`);
  return {
    name: sharedName || String(slot),
    hasBias: false,
    slotId: slot,
    occurrenceThreshold,
    expireTime,
    hashtableConfig: opts.useGpuEmbTable ? 'gpucuco' : 'cuckoo',
  };
}

export interface SlotPolicies {
  occurrenceThreshold: monolith.hash_table.SlotOccurrenceThresholdConfig.$Properties;
  expireTime: monolith.hash_table.SlotExpireTimeConfig.$Properties;
  /** True when some slot has a threshold > 0 (Monolith then enables its hash filter). */
  enableHashFilter: boolean;
}

/**
 * The per-slot table policies of a set of feature slots, in Monolith's proto
 * shapes (SlotOccurrenceThresholdConfig / SlotExpireTimeConfig, as
 * cpu_training builds them), ready for `EmbeddingHashTableConfig.occurrenceThreshold`
 * and `.expireTime`. Two configs of one slot that disagree are a ConfigError.
 */
export function slotPolicies(confs: readonly FeatureSlotConfig[], defaults: { occurrenceThreshold?: number; expireTime?: number } = {}): SlotPolicies {
  const thr = new Map<number, number>();
  const exp = new Map<number, number>();
  for (const c of confs) {
    const t = thr.get(c.slotId);
    if (t !== undefined && t !== c.occurrenceThreshold) throw new ConfigError(`slot ${c.slotId}: occurrence_threshold ${t} and ${c.occurrenceThreshold} in two feature slot configs`);
    const e = exp.get(c.slotId);
    if (e !== undefined && e !== c.expireTime) throw new ConfigError(`slot ${c.slotId}: expire_time ${e} and ${c.expireTime} in two feature slot configs`);
    thr.set(c.slotId, c.occurrenceThreshold);
    exp.set(c.slotId, c.expireTime);
  }
  const slots = [...thr.keys()].sort((a, b) => a - b);
  return {
    occurrenceThreshold: {
      defaultOccurrenceThreshold: defaults.occurrenceThreshold ?? 0,
      slotOccurrenceThresholds: slots.map((slot) => ({ slot, occurrenceThreshold: thr.get(slot)! })),
    },
    expireTime: {
      defaultExpireTime: defaults.expireTime ?? DEFAULT_EXPIRE_TIME,
      slotExpireTimes: slots.map((slot) => ({ slot, expireTime: exp.get(slot)! })),
    },
    enableHashFilter: slots.some((s) => thr.get(s)! > 0),
  };
}
