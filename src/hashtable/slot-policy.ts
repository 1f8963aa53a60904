import type { monolith } from '../proto.js';

/** Which high bits of a FID hold its slot: v1 `slot << 54`, v2 `slot << 48` (Monolith's slot_id_v2, the default). */
export type FidVersion = 1 | 2;

export const slotOfHi = (hi: number, v: FidVersion): number => (v === 2 ? hi >>> 16 : hi >>> 22);

/**
 * A per-slot number with a default, from Monolith's SlotOccurrenceThresholdConfig
 * or SlotExpireTimeConfig or a plain `{ default, slots }` object.
 */
export interface PerSlot {
  default?: number;
  slots?: Record<number, number>;
}

export type OccurrenceThresholdInput = PerSlot | monolith.hash_table.SlotOccurrenceThresholdConfig.$Properties;
export type ExpireTimeInput = PerSlot | monolith.hash_table.SlotExpireTimeConfig.$Properties;

/** Normalises either shape to `{ default, slots }` (plain data, safe to send to workers). */
export function occurrenceThresholds(c: OccurrenceThresholdInput | undefined): Required<PerSlot> {
  if (!c) return { default: 0, slots: {} };
  if ('slotOccurrenceThresholds' in c || 'defaultOccurrenceThreshold' in c) {
    const p = c as monolith.hash_table.SlotOccurrenceThresholdConfig.$Properties;
    const slots: Record<number, number> = {};
    for (const t of p.slotOccurrenceThresholds ?? []) slots[t.slot ?? 0] = t.occurrenceThreshold ?? 0;
    return { default: p.defaultOccurrenceThreshold ?? 0, slots };
  }
  const q = c as PerSlot;
  return { default: q.default ?? 0, slots: { ...(q.slots ?? {}) } };
}

/** Days; Monolith's default_expire_time is 36500 (a century). */
export function expireTimes(c: ExpireTimeInput | undefined): Required<PerSlot> {
  if (!c) return { default: 36500, slots: {} };
  if ('slotExpireTimes' in c || 'defaultExpireTime' in c) {
    const p = c as monolith.hash_table.SlotExpireTimeConfig.$Properties;
    const slots: Record<number, number> = {};
    for (const t of p.slotExpireTimes ?? []) slots[t.slot ?? 0] = t.expireTime ?? 36500;
    return { default: p.defaultExpireTime ?? 36500, slots };
  }
  const q = c as PerSlot;
  return { default: q.default ?? 36500, slots: { ...(q.slots ?? {}) } };
}

/** Lookup of a per-slot value; a dense array for small slot numbers keeps the hot path cheap. */
export class SlotTable {
  private readonly dense: Int32Array;
  constructor(
    private readonly values: Required<PerSlot>,
    private readonly version: FidVersion,
  ) {
    const max = Math.max(-1, ...Object.keys(values.slots).map(Number));
    this.dense = new Int32Array(max + 1).fill(values.default);
    for (const [k, v] of Object.entries(values.slots)) this.dense[Number(k)] = v;
  }
  /** True when every slot uses the default (the common case: no per-slot lookups needed). */
  get uniform(): boolean {
    return this.dense.every((v) => v === this.values.default);
  }
  get default(): number {
    return this.values.default;
  }
  forSlot(slot: number): number {
    return slot < this.dense.length ? this.dense[slot]! : this.values.default;
  }
  forHi(hi: number): number {
    return this.forSlot(slotOfHi(hi, this.version));
  }
}
