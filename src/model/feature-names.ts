/**
 * Monolith's `get_feature_name_and_slot`, without its process-global tables:
 * each model owns one registry. Slot numbers name features `fc_slot_<n>`
 * (MonolithBaseModel turns Monolith's TOB naming on).
 */
export class FeatureNames {
  private readonly nameToSlot = new Map<string, number>();
  private readonly slotToName = new Map<number, string>();
  private readonly autoSlots = new Map<string, number>();

  constructor(featureList: Record<string, number> | null = null) {
    if (featureList) this.register(featureList);
  }

  /** `register_slots`: names with fixed slots (later registrations win). */
  register(slots: Record<string, number> | number[]): void {
    const entries: [string, number][] = Array.isArray(slots) ? slots.map((s) => [slotFeatureName(s), s]) : Object.entries(slots);
    for (const [name, slot] of entries) {
      this.nameToSlot.set(name, slot);
      if (!this.slotToName.has(slot)) this.slotToName.set(slot, name);
    }
  }

  /** [feature name, slot] of a slot number or a feature name; unknown names get the next free counter (Monolith's USED_FREATUE_NAMES), `slot_<x>` names without digits get null. */
  resolve(item: string | number): [string, number | null] {
    if (typeof item === 'number') return [this.slotToName.get(item) ?? slotFeatureName(item), item];
    const known = this.nameToSlot.get(item);
    if (known !== undefined) return [item, known];
    if (item.startsWith('slot_') || item.startsWith('fc_slot_')) {
      const tail = item.slice(item.lastIndexOf('_') + 1);
      return [item, /^\d+$/.test(tail) ? Number(tail) : null];
    }
    let auto = this.autoSlots.get(item);
    if (auto === undefined) {
      auto = this.autoSlots.size + 1;
      this.autoSlots.set(item, auto);
    }
    return [item, auto];
  }
}

export const slotFeatureName = (slot: number): string => `fc_slot_${slot}`;
