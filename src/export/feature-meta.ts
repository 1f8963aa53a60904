import type protobuf from 'protobufjs';
import { lookupType } from '../io/schema-registry.js';
import type { DType } from './dtypes.js';

/** An entry of a feature list: the slot a named feature lives in and how it is extracted. */
export interface FeatureListEntry {
  slot: number;
  /** Extraction method (Monolith's feature_list `method`, e.g. 'Combine', 'VectorTopString'). */
  method?: string;
}

export type FeatureList = ReadonlyMap<string, FeatureListEntry>;

const lineIdType = (): protobuf.Type => lookupType('idl.matrix.proto.LineId');

/** dtype of a LineId field by its .proto type; float and double both give float32, as Monolith does. */
function lineIdFieldDType(field: protobuf.Field): DType | undefined {
  switch (field.type) {
    case 'float':
    case 'double':
      return 'float32';
    case 'int32':
    case 'uint32':
    case 'sint32':
    case 'fixed32':
    case 'sfixed32':
      return 'int32';
    case 'int64':
    case 'uint64':
    case 'sint64':
    case 'fixed64':
    case 'sfixed64':
      return 'int64';
    case 'bool':
      return 'bool';
    case 'string':
    case 'bytes':
      return 'string';
    default:
      return undefined;
  }
}

/**
 * What to generate for one feature: sparse when it has a slot (shape -1), dense
 * otherwise (shape = values per row). The dtype, unless given, comes from the LineId
 * field of the same name, else float32 for dense and int64 for sparse.
 */
export class FeatureMeta {
  readonly shape: number;
  readonly dtype: DType;

  constructor(
    readonly name: string,
    opts: { slot?: number; shape?: number; dtype?: DType; extra?: FeatureListEntry } = {},
  ) {
    this.slot = opts.slot;
    this.extra = opts.extra;
    this.shape = opts.shape ?? (opts.slot === undefined ? 1 : -1);
    const lineIdField = lineIdType().fields[name];
    this.dtype = opts.dtype ?? (lineIdField && lineIdFieldDType(lineIdField)) ?? (opts.slot === undefined ? 'float32' : 'int64');
  }

  readonly slot: number | undefined;
  readonly extra: FeatureListEntry | undefined;

  get isSparse(): boolean {
    return this.shape === -1;
  }
}

/**
 * Slot of a feature name (Monolith's `get_slot_from_feature_name`): an explicit
 * mapping first, then `slot_N` / `fc_slot_N`, else a new number in order of first use.
 * Unlike Monolith this numbering is per instance, not a process-wide global.
 */
export class FeatureSlots {
  private readonly assigned = new Map<string, number>();

  constructor(private readonly known: ReadonlyMap<string, number> = new Map()) {}

  slotOf(name: string): number {
    const k = this.known.get(name);
    if (k !== undefined) return k;
    const m = /^(?:fc_)?slot_(\d+)$/.exec(name);
    if (m) return Number(m[1]);
    let s = this.assigned.get(name);
    if (s === undefined) {
      s = this.assigned.size + 1;
      this.assigned.set(name, s);
    }
    return s;
  }
}

/** Monolith's `get_slot_feature_name`: `slot_N`, or `fc_slot_N` in the TOB environment. */
export function slotFeatureName(slot: number, tob = false): string {
  return `${tob ? 'fc_slot' : 'slot'}_${slot}`;
}
