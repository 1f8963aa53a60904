import { readFile } from 'node:fs/promises';
import { ConfigError, FormatError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic-file.js';
import type { EmbeddingHashTableConfig } from '../hashtable/embedding-hash-table.js';
import type { Combiner, ModelSpec } from '../model/model-spec.js';
import type { OutConfigProps } from '../model/layout.js';
import type { FeatureRecord, MonolithModel, SliceRecord } from '../model/monolith-model.js';
import type { SavedModelSignature, TensorSpec } from './export-context.js';
import { expireTimes, occurrenceThresholds, type PerSlot } from '../hashtable/slot-policy.js';

export const MODEL_DUMP_FORMAT = 'monolith-ts-model-dump';
/** Its file name inside an export's assets.extra. */
export const MODEL_DUMP_FILE = 'model_dump';

export interface ReceiverRecord {
  features: Record<string, { isRagged: boolean; dtype: string; lastDim?: number }>;
  receiverTensors: Record<string, TensorSpec>;
}

export type { FeatureRecord, SliceRecord };

/**
 * What a ModelDump file holds (data only: no code, nothing pickled). The
 * feature and slice records are the ones MonolithModel keeps as the model is
 * defined (createEmbeddingFeatureColumn / lookupEmbeddingSlice arguments).
 */
export interface ModelDump {
  format: typeof MODEL_DUMP_FORMAT;
  version: 2;
  /** The model's name (params.name, or its class). */
  modelName: string;
  features: FeatureRecord[];
  slices: SliceRecord[];
  /** Layouts the slices produced (name → OutConfig). */
  layouts: Record<string, OutConfigProps>;
  /** Names added with addExtraOutput. */
  extraOutputs: string[];
  /** Auxiliary losses added with addLoss. */
  extraLosses: number;
  heads: ModelSpec['heads'];
  denseInputs: ModelSpec['denseInputs'];
  servingInputReceiver?: ReceiverRecord;
  params: Record<string, unknown>;
  signatures: SavedModelSignature[];
  tableConfigs: Record<string, EmbeddingHashTableConfig>;
  featureSliceDims: Record<string, number[]>;
  featureCombiners: Record<string, Combiner>;
  /** Feature name → the hash table it is looked up in. */
  tableOf?: Record<string, string>;
  subModels: Record<string, string[]>;
}

const isPlainData = (v: unknown): boolean => {
  if (v === null || ['string', 'number', 'boolean'].includes(typeof v)) return true;
  if (Array.isArray(v)) return v.every(isPlainData);
  if (typeof v === 'object') return Object.getPrototypeOf(v) === Object.prototype && Object.values(v as object).every(isPlainData);
  return false;
};

/** A copy of `v` keeping only plain data at every depth (functions, class instances and undefined are left out). */
function plainCopy(v: unknown): unknown {
  if (v === null || ['string', 'number', 'boolean'].includes(typeof v)) return v;
  if (Array.isArray(v)) return v.map(plainCopy).filter((x) => x !== undefined);
  if (typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as object)) {
      const c = plainCopy(x);
      if (c !== undefined) out[k] = c;
    }
    return out;
  }
  return undefined;
}

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
    return {
      format: MODEL_DUMP_FORMAT,
      version: 2,
      modelName: '',
      features: [],
      slices: [],
      layouts: {},
      extraOutputs: [],
      extraLosses: 0,
      heads: [],
      denseInputs: [],
      params: {},
      signatures: [],
      tableConfigs: {},
      featureSliceDims: {},
      featureCombiners: {},
      subModels: {},
    };
  }

  get dump(): Readonly<ModelDump> {
    return this.data;
  }

  recordFeature(rec: FeatureRecord): void {
    if (!this.enable) return;
    if (!isPlainData(rec)) throw new ConfigError(`feature ${rec.featureName}: only plain data can be dumped`);
    this.data.features.push({ ...rec });
  }

  /** Records a slice; each of its features gets the slice's dim appended to its slice dims. */
  recordSlice(rec: SliceRecord & { learningRateFn?: unknown }): void {
    if (!this.enable) return;
    const what = `slice ${rec.features.join('+')}/${rec.sliceName}`;
    if (rec.learningRateFn !== undefined) throw new ConfigError(`${what}: learning_rate_fn cannot be dumped; give a number`);
    if (!isPlainData(rec)) throw new ConfigError(`${what}: only plain data can be dumped`);
    this.data.slices.push(structuredClone(rec));
    if (rec.sliceDim !== null) for (const f of rec.features) (this.data.featureSliceDims[f] ??= []).push(rec.sliceDim);
  }

  recordReceiver(rec: ReceiverRecord): void {
    if (this.enable) this.data.servingInputReceiver = structuredClone(rec);
  }

  /** Non-function, non-private fields of `model` (skip list applied), as plain data (code inside is left out). */
  recordParams(model: object): void {
    for (const [k, v] of Object.entries(model)) {
      if (k.startsWith('_') || SKIPPED_PARAMS.has(k) || typeof v === 'function') continue;
      const c = plainCopy(v);
      if (c !== undefined) this.data.params[k] = c;
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

  /**
   * Records what a MonolithModel kept while it was defined — its feature and
   * slice records, layouts, extra outputs and losses, params — and the table
   * configs, combiners and heads of the spec it builds (`model.toModelSpec()`
   * when not given).
   */
  recordModel(model: MonolithModel, spec: ModelSpec = model.toModelSpec()): void {
    const r = model.dumpRecord();
    this.data.modelName = spec.name;
    for (const f of r.features) this.recordFeature(f);
    for (const s of r.slices) this.recordSlice(s);
    // The slices name features as the model was given them (slot or name); the model's own dims are by feature name.
    this.data.featureSliceDims = structuredClone(r.featureSliceDims);
    this.data.layouts = structuredClone(r.layouts);
    this.data.extraOutputs = [...r.signatures];
    this.data.extraLosses = r.extraLosses;
    this.recordParams(r.params);
    this.recordSpecShape(spec);
    this.featureCombiners = r.featureCombiners;
  }

  /** Records a plain ModelSpec (a model without MonolithModel records): one feature record and slice dim per feature. */
  recordModelSpec(spec: ModelSpec): void {
    this.data.modelName = spec.name;
    for (const f of spec.features) {
      this.recordFeature({ featureName: f.name, slot: f.slot, occurrenceThreshold: null, expireTime: 0, maxSeqLength: f.maxSeqLength ?? 0, sharedName: null, combiner: f.combiner });
      (this.data.featureSliceDims[f.name] ??= []).push(f.dim);
    }
    this.recordSpecShape(spec);
    this.featureCombiners = Object.fromEntries(spec.features.map((f) => [f.name, f.combiner]));
    this.recordParams({ name: spec.name, denseOptimizer: spec.denseOptimizer ?? null, gradients: spec.gradients ?? null, lossReduction: spec.lossReduction ?? 'mean' });
  }

  private recordSpecShape(spec: ModelSpec): void {
    this.tableConfigs = spec.tables;
    this.data.heads = spec.heads.map((h) => ({ ...h }));
    this.data.denseInputs = spec.denseInputs.map((d) => ({ ...d }));
    this.data.tableOf = Object.fromEntries(spec.features.map((f) => [f.name, f.table]));
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
      const name = this.data.tableOf?.[f.featureName];
      const table = name === undefined ? undefined : this.data.tableConfigs[name];
      if (!table || f.slot === null) continue;
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
    if (d?.format !== MODEL_DUMP_FORMAT) throw new FormatError(`format is "${String(d?.format)}", expected ${MODEL_DUMP_FORMAT}`, { file, field: 'format' });
    if (d.version !== 2) throw new FormatError(`model dump version ${String(d.version)} is not supported (2)`, { file, field: 'version' });
    const u = new DumpUtils();
    u.data = { ...DumpUtils.empty(), ...d };
    return u;
  }
}
