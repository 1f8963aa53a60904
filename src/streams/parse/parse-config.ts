import { ConfigError } from '../../errors.js';

/** What a record holds: Monolith's three variant types. */
export type RecordVariant = 'instance' | 'example' | 'example_batch';

/** A sparse feature: its name (Example / ExampleBatch / Instance fid-v2 `feature`) and slot (Instance fid-v1 `fid`). */
export interface SparseFeatureSpec {
  name: string;
  slot: number;
}

/** A dense feature with `width` float32 values per row. */
export interface DenseFeatureSpec {
  name: string;
  width: number;
}

/** Scalar LineId fields the parser can keep, with their field numbers and wire meaning. */
export const LINE_ID_FIELDS = {
  uid: { number: 2, kind: 'uint64' },
  req_time: { number: 3, kind: 'int64' },
  item_id: { number: 4, kind: 'uint64' },
  chnid: { number: 19, kind: 'int64' },
  sample_rate: { number: 27, kind: 'float' },
  is_draw: { number: 87, kind: 'int32' },
  rank: { number: 145, kind: 'int32' },
} as const;
export type LineIdField = keyof typeof LINE_ID_FIELDS;

export interface ParseConfig {
  sparse: SparseFeatureSpec[];
  dense?: DenseFeatureSpec[];
  /** Label values per row. Default 1. 0 keeps no labels. */
  labelWidth?: number;
  /** LineId fields to keep, one column each. Default none. */
  lineIdFields?: LineIdField[];
  /** Keep instance weights (`Batch.weights`). Default true. */
  weights?: boolean;
  /**
   * Label value for a row without (enough) labels. Default as Monolith's parsers:
   * 0 for Instance, `INVALID_LABEL` (-FLT_MAX) for Example and ExampleBatch.
   */
  missingLabel?: number;
  /** Rewrite Instance fid-v1 ids as fid v2 (`slot << 48 | low48`), as Monolith does when fid-v2 features are configured. Default false. */
  fidV1ToV2?: boolean;
}

/** Monolith's `internal::INVALID_LABEL`: `std::numeric_limits<float>::lowest()`. */
export const INVALID_LABEL = -3.4028234663852886e38;

/** Names the ExampleBatch format reserves (data_reader.cc). */
export const LABEL_LIST = '__LABEL__';
export const LINE_ID_LIST = '__LINE_ID__';
export const INSTANCE_WEIGHT = 'instance_weight';
/** An Example / Instance named feature called `label` fills the labels, as in Monolith's ExampleParser. */
export const LABEL_FEATURE = 'label';

/** A validated config with the lookup tables both decoders share. */
export interface ResolvedParseConfig {
  readonly sparse: readonly SparseFeatureSpec[];
  readonly dense: readonly DenseFeatureSpec[];
  readonly labelWidth: number;
  readonly lineIdFields: readonly LineIdField[];
  readonly weights: boolean;
  readonly fidV1ToV2: boolean;
  missingLabelFor(variant: RecordVariant): number;
  /** fid-v1 slot (0..1023) → sparse column index, -1 if not configured. */
  readonly v1SlotToColumn: Int32Array;
  readonly sparseByName: ReadonlyMap<string, number>;
  readonly denseByName: ReadonlyMap<string, number>;
}

export function resolveParseConfig(config: ParseConfig): ResolvedParseConfig {
  if (!config || !Array.isArray(config.sparse)) throw new ConfigError('parse config needs a `sparse` feature list (may be empty)');
  const dense = config.dense ?? [];
  const labelWidth = config.labelWidth ?? 1;
  if (!Number.isInteger(labelWidth) || labelWidth < 0) throw new ConfigError(`labelWidth must be an integer >= 0, got ${labelWidth}`);
  const names = new Set<string>();
  const claim = (name: string, what: string) => {
    if (typeof name !== 'string' || name === '') throw new ConfigError(`${what} feature needs a non-empty name`);
    if ([LABEL_LIST, LINE_ID_LIST, INSTANCE_WEIGHT, LABEL_FEATURE].includes(name)) throw new ConfigError(`${what} feature "${name}" uses a reserved name`);
    if (names.has(name)) throw new ConfigError(`feature "${name}" is configured twice`);
    names.add(name);
  };
  const v1SlotToColumn = new Int32Array(1024).fill(-1);
  const sparseByName = new Map<string, number>();
  config.sparse.forEach((s, i) => {
    claim(s.name, 'sparse');
    if (!Number.isInteger(s.slot) || s.slot < 0 || s.slot > 65535) throw new ConfigError(`sparse feature "${s.name}": slot must be an integer in 0..65535, got ${s.slot}`);
    sparseByName.set(s.name, i);
    if (s.slot < 1024) {
      if (v1SlotToColumn[s.slot] !== -1) throw new ConfigError(`sparse features "${config.sparse[v1SlotToColumn[s.slot]!]!.name}" and "${s.name}" share slot ${s.slot}`);
      v1SlotToColumn[s.slot] = i;
    }
  });
  const denseByName = new Map<string, number>();
  dense.forEach((d, i) => {
    claim(d.name, 'dense');
    if (!Number.isInteger(d.width) || d.width < 1) throw new ConfigError(`dense feature "${d.name}": width must be an integer >= 1, got ${d.width}`);
    denseByName.set(d.name, i);
  });
  const lineIdFields = [...(config.lineIdFields ?? [])];
  for (const f of lineIdFields) {
    if (!(f in LINE_ID_FIELDS)) throw new ConfigError(`unknown LineId field "${f}"; known: ${Object.keys(LINE_ID_FIELDS).join(', ')}`);
  }
  if (new Set(lineIdFields).size !== lineIdFields.length) throw new ConfigError(`LineId fields listed twice: ${lineIdFields.join(', ')}`);
  const missing = config.missingLabel;
  if (missing !== undefined && typeof missing !== 'number') throw new ConfigError(`missingLabel must be a number, got ${missing}`);
  return {
    sparse: config.sparse.map((s) => ({ ...s })),
    dense: dense.map((d) => ({ ...d })),
    labelWidth,
    lineIdFields,
    weights: config.weights ?? true,
    fidV1ToV2: config.fidV1ToV2 ?? false,
    missingLabelFor: (variant) => missing ?? (variant === 'instance' ? 0 : INVALID_LABEL),
    v1SlotToColumn,
    sparseByName,
    denseByName,
  };
}
