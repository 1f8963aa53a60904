import { readFile } from 'node:fs/promises';
import { ConfigError, FormatError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic-file.js';
import type { EmbeddingHashTableConfig } from '../hashtable/embedding-hash-table.js';
import type { Combiner, ModelSpec } from '../model/model-spec.js';
import type { SavedModelSignature, TensorSpec } from './export-context.js';
import { expireTimes, occurrenceThresholds, type PerSlot } from '../hashtable/slot-policy.js';

export const MODEL_DUMP_FORMAT = 'monolith-ts-model-dump';

/** A feature column as it was declared (name, slot and the declaration's other arguments). */
export interface FeatureRecord {
  featureName: string;
  slot?: number;
  [arg: string]: unknown;
}

/** An embedding slice of a feature: dim, initializer / optimizer / compressor configs, the tensor it produced. */
export interface SliceRecord {
  featureName: string;
  sliceName?: string;
  dim: number;
  initializer?: unknown;
  optimizer?: unknown;
  compressor?: unknown;
  /** Must be a number or absent: a learning-rate function cannot be dumped (Monolith raises too). */
  learningRate?: number;
  outputTensor?: string;
}

export interface ReceiverRecord {
  features: Record<string, { isRagged: boolean; dtype: string; lastDim?: number }>;
  receiverTensors: Record<string, TensorSpec>;
}

/** What a ModelDump file holds (data only: no code, nothing pickled). */
export interface ModelDump {
  format: typeof MODEL_DUMP_FORMAT;
  version: 1;
  features: FeatureRecord[];
  slices: SliceRecord[];
  servingInputReceiver?: ReceiverRecord;
  params: Record<string, unknown>;
  signatures: SavedModelSignature[];
  tableConfigs: Record<string, EmbeddingHashTableConfig>;
  featureSliceDims: Record<string, number[]>;
  featureCombiners: Record<string, Combiner>;
  subModels: Record<string, string[]>;
}

const isPlainData = (v: unknown): boolean => {
  if (v === null || ['string', 'number', 'boolean'].includes(typeof v)) return true;
  if (Array.isArray(v)) return v.every(isPlainData);
  if (typeof v === 'object') return Object.getPrototypeOf(v) === Object.prototype && Object.values(v as object).every(isPlainData);
  return false;
};

/** Parameter names never recorded (runtime objects, as Monolith's skip list). */
const SKIPPED_PARAMS = new Set(['buildDense', 'loss', 'tables', 'features', 'heads', 'denseInputs']);

/**
 * Records what a model declares — features, embedding slices, the serving
 * receiver, parameters, signatures, table configs, slice dims and combiners —
 * and writes it as a ModelDump file that `DumpUtils.load` reads back.
 * Monolith keeps one process-wide singleton; this is a plain object.
 */
export class DumpUtils {
  enable = true;
  private data: ModelDump = DumpUtils.empty();

  static empty(): ModelDump {
    return { format: MODEL_DUMP_FORMAT, version: 1, features: [], slices: [], params: {}, signatures: [], tableConfigs: {}, featureSliceDims: {}, featureCombiners: {}, subModels: {} };
  }

  get dump(): Readonly<ModelDump> {
    return this.data;
  }

  recordFeature(rec: FeatureRecord): void {
    if (!this.enable) return;
    if (!isPlainData(rec)) throw new ConfigError(`feature ${rec.featureName}: only plain data can be dumped`);
    this.data.features.push({ ...rec });
  }

  recordSlice(rec: SliceRecord & { learningRateFn?: unknown }): void {
    if (!this.enable) return;
    if (rec.learningRateFn !== undefined) throw new ConfigError(`slice ${rec.featureName}/${rec.sliceName ?? ''}: learning_rate_fn cannot be dumped; give a number`);
    if (!isPlainData(rec)) throw new ConfigError(`slice ${rec.featureName}: only plain data can be dumped`);
    this.data.slices.push({ ...rec });
    const dims = (this.data.featureSliceDims[rec.featureName] ??= []);
    dims.push(rec.dim);
  }

  recordReceiver(rec: ReceiverRecord): void {
    if (this.enable) this.data.servingInputReceiver = structuredClone(rec);
  }

  /** Non-function, non-private fields of `model` (skip list applied). */
  recordParams(model: object): void {
    for (const [k, v] of Object.entries(model)) {
      if (k.startsWith('_') || SKIPPED_PARAMS.has(k) || typeof v === 'function' || !isPlainData(v)) continue;
      this.data.params[k] = structuredClone(v);
    }
  }

  addSignatures(sigs: readonly SavedModelSignature[]): void {
    for (const s of sigs) {
      this.data.signatures = this.data.signatures.filter((x) => x.name !== s.name);
      this.data.signatures.push(structuredClone(s));
    }
  }

  addSubModel(type: 'ps' | 'dense', name: string): void {
    const l = (this.data.subModels[type] ??= []);
    if (!l.includes(name)) l.push(name);
  }

  set tableConfigs(c: Record<string, EmbeddingHashTableConfig>) {
    for (const [name, cfg] of Object.entries(c)) {
      const lrs = cfg.learningRates ?? [];
      if (!lrs.every((x) => typeof x === 'number' || isPlainData(x))) throw new ConfigError(`table ${name}: learning rates must be numbers or schedule configs to be dumped`);
    }
    this.data.tableConfigs = structuredClone(c);
  }
  get tableConfigs(): Record<string, EmbeddingHashTableConfig> {
    return this.data.tableConfigs;
  }
  set featureCombiners(c: Record<string, Combiner>) {
    for (const [k, v] of Object.entries(c)) if (!['reduce_sum', 'reduce_mean', 'first_n'].includes(v)) throw new ConfigError(`feature ${k}: unknown combiner ${v}`);
    this.data.featureCombiners = { ...c };
  }
  get featureCombiners(): Record<string, Combiner> {
    return this.data.featureCombiners;
  }
  get featureSliceDims(): Record<string, number[]> {
    return this.data.featureSliceDims;
  }

  /** Records everything a ModelSpec declares in one go. */
  recordModelSpec(spec: ModelSpec): void {
    for (const f of spec.features) {
      this.recordFeature({ featureName: f.name, slot: f.slot, table: f.table });
      this.recordSlice({ featureName: f.name, dim: f.dim });
    }
    this.tableConfigs = spec.tables;
    this.featureCombiners = Object.fromEntries(spec.features.map((f) => [f.name, f.combiner]));
    this.recordParams({ name: spec.name, denseOptimizer: spec.denseOptimizer ?? null, heads: undefined });
    this.data.params.heads = spec.heads.map((h) => ({ ...h }));
    this.data.params.denseInputs = spec.denseInputs.map((d) => ({ ...d }));
  }

  /** Per slot occurrence thresholds / expire times of the recorded table configs. */
  slotToOccurrenceThreshold(): Map<number, number> {
    return this.slotMap((c) => occurrenceThresholds(c.occurrenceThreshold));
  }
  slotToExpireTime(): Map<number, number> {
    return this.slotMap((c) => expireTimes(c.expireTime));
  }
  private slotMap(pick: (c: EmbeddingHashTableConfig) => Required<PerSlot>): Map<number, number> {
    const out = new Map<number, number>();
    for (const f of this.data.features) {
      const table = typeof f.table === 'string' ? this.data.tableConfigs[f.table] : undefined;
      if (!table || f.slot === undefined) continue;
      const p = pick(table);
      out.set(f.slot, p.slots[f.slot] ?? p.default);
    }
    return out;
  }

  /** True when table configs, slice dims and combiners were all recorded (all or none, as Monolith asserts). */
  hasCollected(): boolean {
    const sizes = [Object.keys(this.tableConfigs).length, Object.keys(this.featureSliceDims).length, Object.keys(this.featureCombiners).length];
    if (sizes.every((n) => n > 0)) return true;
    if (sizes.some((n) => n > 0)) throw new ConfigError(`model dump is half collected: ${sizes[0]} table configs, ${sizes[1]} slice dims, ${sizes[2]} combiners`);
    return false;
  }

  /** Writes the dump (JSON) through a temp file and a rename. */
  async save(file: string): Promise<void> {
    await writeFileAtomic(file, JSON.stringify(this.data, null, 1));
  }

  static async load(file: string): Promise<DumpUtils> {
    let d: ModelDump;
    try {
      d = JSON.parse(await readFile(file, 'utf8')) as ModelDump;
    } catch (err) {
      throw new FormatError(`not a model dump: ${(err as Error).message}`, { file }, { cause: err });
    }
    if (d.format !== MODEL_DUMP_FORMAT) throw new FormatError(`format is "${String(d.format)}", expected ${MODEL_DUMP_FORMAT}`, { file, field: 'format' });
    const u = new DumpUtils();
    u.data = { ...DumpUtils.empty(), ...d };
    return u;
  }
}
