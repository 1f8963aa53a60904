import * as tf from '@tensorflow/tfjs-core';
import { input as symbolicInput, layers, model as functionalModel, type LayersModel, type SymbolicTensor } from '@tensorflow/tfjs-layers';
import type { Batch, SparseColumn } from '../batch/batch.js';
import { ConfigError } from '../errors.js';
import type { FloatCompressorConfig } from '../hashtable/entry-config.js';
import type { InitializerConfig } from '../hashtable/initializers.js';
import type { LearningRate } from '../hashtable/learning-rate.js';
import type { OptimizerConfig } from '../hashtable/optimizers/index.js';
import { defaultLoss } from './default-loss.js';
import { DuplicateOutputError, FeaturesShapeError, FusedLayoutError, ModeError, SharedEmbeddingError } from './errors.js';
import { FeatureNames } from './feature-names.js';
import { combinerFromName, DEFAULT_EXPIRE_TIME, FeatureColumn, firstN, reduceSum, type CombinerConfig, type FeatureSlice, type FeatureSlot, type FeatureSlotConfig, type LookupBinder, type SliceVocabularyRegularization } from './feature-slot.js';
import { EmbeddingSlice, StackEmbeddings } from './layers/embedding-layers.js';
import './layers/interaction-layers.js'; // registers FieldWeightedFm and CrossLayer wherever models load
import { layoutName, outConfig, type LayoutKey, type LayoutOutType, type OutConfigProps } from './layout.js';
import { ModeKeys, type Mode } from './mode.js';
import type { Combiner as CombinerName, DenseInputSpec, EmbeddingFeatureSpec, HeadSpec, LossInputs, ModelSpec } from './model-spec.js';
import { createModelFunction, type ModelFunction, type RunFlags } from './model-function.js';
import { appendExtraOutputs } from './extra-outputs.js';
import type { MonoTypeOperatorFunction } from 'rxjs';
import { NativeTask } from './native-task.js';
import { monolithModelParams, type MonolithModelParams } from './params.js';

/**
 * A training hook: `kind` identifies it (at most one 'kafka' and one 'file'
 * metric hook); `op`, when given, is a stream operator the task runner
 * attaches after the step (it receives every StepResult and must pass it on).
 */
export interface TrainingHook {
  kind: 'kafka' | 'file' | string;
  /** Node name in the runner's graph (default `hook-<kind>`). */
  name?: string;
  op?: MonoTypeOperatorFunction<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export type LossFn = (inputs: LossInputs) => tf.Scalar;

export interface HeadOutput {
  name: string;
  /** [rows, 1] logit of the head. */
  logit: SymbolicTensor;
  /** Default 'classification'. */
  kind?: HeadSpec['kind'];
  /** Column of the batch labels; default the head's position. */
  labelIndex?: number;
  /**
   * Name of a trainable [1] weight added into this head's logit — the output layer's bias, e.g. `'out/bias'`
   * for a `dense({ name: 'out' })` layer. The first training step (global step 0) sets it to the logit of
   * that batch's positive rate, so training starts calibrated instead of at p = 0.5.
   */
  warmStartBias?: string;
}

/** What `modelFn` returns: the heads' logits and optionally the loss (default: ModelSpec's) and dense optimizer. */
export interface ModelFnOutput {
  heads: HeadOutput[];
  loss?: LossFn;
  denseOptimizer?: ModelSpec['denseOptimizer'];
  /** How the default loss reduces rows (default 'mean'; Monolith's sigmoid loss uses 'sum'). */
  lossReduction?: ModelSpec['lossReduction'];
}

export type FeatureRef = string | number | FeatureColumn;
/** The shapes `lookupEmbeddingSlice` accepts (Monolith's dict / list + dim / groups + dim / (feature, dim) pairs). */
export type SliceFeatures = Record<string, number> | Map<FeatureRef, number> | FeatureRef[] | FeatureRef[][] | [FeatureRef, number][];

export interface SliceOptions {
  sliceDim?: number;
  initializer?: InitializerConfig;
  optimizer?: OptimizerConfig;
  compressor?: FloatCompressorConfig;
  learningRate?: LearningRate;
  groupOutType?: 'add_n' | 'concat';
  outType?: 'concat' | 'stack' | 'add_n' | 'addn';
  /** Regularization of the slice's optimizer scaled per slot with the slot's vocabulary (counted, or given per slot). */
  vocabularyRegularization?: SliceVocabularyRegularization | null;
}

export interface FeatureColumnOptions {
  occurrenceThreshold?: number;
  expireTime?: number;
  maxSeqLength?: number;
  sharedName?: string;
  combiner?: CombinerName;
}

/** Per-build state that Monolith keeps on the TF graph (`__losses`, `__training_hooks`, `__export_outputs`). */
export class GraphState {
  readonly losses: LossFn[] = [];
  readonly trainingHooks: TrainingHook[] = [];
  readonly exportOutputs = new Map<string, SymbolicTensor | Record<string, SymbolicTensor>>();
  readonly signatureNames: string[] = [];
}

/** What a model records for the model dump (features, slices, tables, layouts, ...). */
export interface FeatureRecord {
  featureName: string;
  slot: number | null;
  occurrenceThreshold: number | null;
  expireTime: number;
  maxSeqLength: number;
  sharedName: string | null;
  combiner: CombinerName;
}
export interface SliceRecord {
  features: string[];
  sliceName: string;
  sliceDim: number | null;
  layoutName: string;
  groupOutType: string;
  outType: string | null;
  initializer: InitializerConfig | null;
  optimizer: OptimizerConfig | null;
  compressor: FloatCompressorConfig | null;
  learningRate: LearningRate | null;
  outputShapes: (number | null)[][];
}

interface LookupRecord {
  column: FeatureColumn;
  input: SymbolicTensor;
}

/** Dry pass: every lookup gets an input of the slice's own shape, so the slots' widths can grow while the model is defined. */
class DryBinder implements LookupBinder {
  readonly lookups: LookupRecord[] = [];
  lookup(column: FeatureColumn, slice: FeatureSlice): SymbolicTensor {
    const w = slice.end - slice.start;
    const input = symbolicInput({ shape: column.maxSeqLength > 0 ? [column.maxSeqLength, w] : [w] });
    this.lookups.push({ column, input });
    return input;
  }
}

/** Real pass: one input per planned feature with the table's full row; lookups slice it. */
class InputBinder implements LookupBinder {
  readonly inputs = new Map<string, SymbolicTensor>();
  readonly seen = new Map<string, FeatureSlot>();
  constructor(private readonly plan: Map<string, EmbeddingFeatureSpec>) {
    for (const f of plan.values()) this.inputs.set(f.name, symbolicInput({ shape: [outputWidth(f)], name: `emb_${f.name}` }));
  }
  lookup(column: FeatureColumn, slice: FeatureSlice): SymbolicTensor {
    const f = this.plan.get(column.featureName);
    if (!f) return symbolicInput({ shape: column.maxSeqLength > 0 ? [column.maxSeqLength, slice.end - slice.start] : [slice.end - slice.start] });
    if (slice.end > f.dim) throw new ConfigError(`feature ${f.name}: slice [${slice.start}, ${slice.end}) is outside the ${f.dim} columns of the first build; modelFn must build the same model every time`);
    this.seen.set(f.name, slice.featureSlot);
    return new EmbeddingSlice({ rowDim: f.dim, start: slice.start, end: slice.end, seqLength: f.maxSeqLength ?? 0 }).apply(this.inputs.get(f.name)!) as SymbolicTensor;
  }
}

const outputWidth = (f: EmbeddingFeatureSpec): number => (f.combiner === 'first_n' ? f.dim * (f.maxSeqLength ?? 1) : f.dim);

interface InternalNode {
  inboundNodes: { inputTensors: SymbolicTensor[] }[];
}

/** Every SymbolicTensor the outputs depend on (by id). */
function reachable(outputs: SymbolicTensor[]): Set<number> {
  const seen = new Set<number>();
  const stack = [...outputs];
  while (stack.length) {
    const t = stack.pop()!;
    if (seen.has(t.id)) continue;
    seen.add(t.id);
    const layer = t.sourceLayer as unknown as InternalNode | undefined;
    const node = layer?.inboundNodes[t.nodeIndex];
    if (node) stack.push(...node.inputTensors);
  }
  return seen;
}

/**
 * Monolith's MonolithModel in TypeScript: a model author subclasses it,
 * declares embedding feature columns and dense inputs, looks up embedding
 * slices and returns head logits from `modelFn` (built with tfjs-layers'
 * functional API). `toModelSpec()` turns that into the runtime's ModelSpec:
 *
 * 1. a dry pass runs `modelFn` to learn every slot's slices (table segments);
 * 2. each `buildDense()` runs `modelFn` again with one input per feature,
 *    and lookups become `EmbeddingSlice` layers over those inputs.
 *
 * `modelFn` must therefore build the same model each time it is called.
 */
export abstract class MonolithModel<P extends MonolithModelParams = MonolithModelParams> extends NativeTask<P> {
  fsDict = new Map<string, FeatureSlot>();
  fcDict = new Map<string, FeatureColumn>();
  /** feature name → slice name → slice. */
  sliceDict = new Map<string, Map<string, FeatureSlice>>();
  layoutDict = new Map<string, OutConfigProps>();
  protected shareSlotMapping = new Map<string, string>();
  readonly featureNames: FeatureNames;
  /** Set by the exporter while it builds a serving model (Monolith's `export_context.is_exporting()`). */
  exporting = false;
  private graph = new GraphState();
  private denseInputs = new Map<string, { spec: DenseInputSpec; input: SymbolicTensor }>();
  private featureRecords: FeatureRecord[] = [];
  private sliceRecords: SliceRecord[] = [];

  constructor(params?: P) {
    super(params ?? (monolithModelParams() as P));
    this.featureNames = new FeatureNames(this.p.featureList);
  }

  /** Defines the model for `mode`: declare features, look up slices, return head logits. */
  abstract modelFn(mode: Mode): ModelFnOutput;

  /** Batches for `mode` (Monolith's input_fn); optional, sources may come from elsewhere. */
  inputFn?(mode: Mode): Iterable<Batch> | AsyncIterable<Batch>;

  createInputFn(mode: Mode): () => Iterable<Batch> | AsyncIterable<Batch> {
    return () => {
      if (!this.inputFn) throw new ConfigError(`${this.constructor.name}: no inputFn defined`);
      return this.inputFn(mode);
    };
  }

  /** PREDICT stays PREDICT; TRAIN becomes `p.mode` (which may be EVAL); anything else is an error. */
  getRealMode(mode: Mode): Mode {
    if (mode === ModeKeys.PREDICT) return mode;
    if (mode === ModeKeys.TRAIN) return this.p.mode;
    throw new ModeError('model error!');
  }

  isFusedLayout(): boolean {
    return this.ctx.layoutFactory !== null;
  }

  instantiate(): this {
    return this;
  }

  /** Forgets the feature slots and columns (each build defines them again). */
  clean(): void {
    this.fsDict = new Map();
    this.fcDict = new Map();
    this.sliceDict = new Map();
    this.shareSlotMapping = new Map();
    this.slotCollector.clear();
  }

  get losses(): readonly LossFn[] {
    return this.graph.losses;
  }
  get trainingHooks(): readonly TrainingHook[] {
    return this.graph.trainingHooks;
  }
  get exportOutputs(): ReadonlyMap<string, SymbolicTensor | Record<string, SymbolicTensor>> {
    return this.graph.exportOutputs;
  }
  get signatureNames(): readonly string[] {
    return this.graph.signatureNames;
  }

  /** Auxiliary losses added to the model's loss. */
  addLoss(losses: LossFn | LossFn[] | null | undefined): void {
    if (!losses) return;
    if (Array.isArray(losses)) this.graph.losses.push(...losses);
    else this.graph.losses.push(losses);
  }

  /** Adds a hook; a second Kafka or a second file metric hook is ignored, as in Monolith. */
  addTrainingHook(hook: TrainingHook): void {
    if ((hook.kind === 'kafka' || hook.kind === 'file') && this.graph.trainingHooks.some((h) => h.kind === hook.kind)) return;
    this.graph.trainingHooks.push(hook);
  }

  /** A serving signature `name` with `outputs`; kept only while exporting. A name used twice is an error. */
  addExtraOutput(name: string, outputs: SymbolicTensor | Record<string, SymbolicTensor>, _headName?: string, _headType?: string): void {
    if (this.graph.signatureNames.includes(name)) throw new DuplicateOutputError(`key ${name} exists!`);
    this.graph.signatureNames.push(name);
    if (this.exporting) this.graph.exportOutputs.set(name, outputs);
  }

  /** A dense (non-embedding) input of the model: a batch dense column `width` floats wide. */
  denseInput(name: string, width: number): SymbolicTensor {
    if (!Number.isInteger(width) || width < 1) throw new ConfigError(`dense input ${name}: width must be a positive integer, got ${width}`);
    const had = this.denseInputs.get(name);
    if (had) {
      if (had.spec.width !== width) throw new ConfigError(`dense input ${name}: declared with widths ${had.spec.width} and ${width}`);
      return had.input;
    }
    const input = symbolicInput({ shape: [width], name: `dense_${name}` });
    this.denseInputs.set(name, { spec: { name, width }, input });
    return input;
  }

  // ---- feature columns and slices -------------------------------------------

  private fsConf(name: string, slot: number | null, occurrenceThreshold: number | undefined, expireTime: number): FeatureSlotConfig {
    return {
      name,
      slotId: slot,
      hasBias: false,
      occurrenceThreshold: occurrenceThreshold ?? this.p.defaultOccurrenceThreshold,
      expireTime,
    };
  }

  /**
   * The feature column of `feature` (a name or a slot number), made on first
   * use. Its occurrence threshold and expire time go to its table's config;
   * with `sharedName` it uses the table of that feature.
   */
  createEmbeddingFeatureColumn(feature: string | number, opts: FeatureColumnOptions = {}): FeatureColumn {
    const expireTime = opts.expireTime ?? DEFAULT_EXPIRE_TIME;
    const maxSeqLength = opts.maxSeqLength ?? 0;
    let combiner: CombinerConfig | undefined = opts.combiner ? combinerFromName(opts.combiner, maxSeqLength) : undefined;
    const [featureName, slot] = this.featureNames.resolve(feature);
    const existing = this.fcDict.get(featureName);
    if (existing) return existing;
    let fs: FeatureSlot;
    const shared = opts.sharedName;
    if (shared) {
      this.shareSlotMapping.set(featureName, shared);
      const owner = this.fsDict.get(shared) ?? this.fcDict.get(shared)?.featureSlot;
      if (owner) fs = owner;
      else {
        const [sharedFeature, sharedSlot] = this.featureNames.resolve(shared);
        if (sharedSlot === null) throw new SharedEmbeddingError(`${featureName} shared embedding with ${shared}, so ${shared} should create first!`);
        fs = this.ctx.createFeatureSlot(this.fsConf(sharedFeature, sharedSlot, opts.occurrenceThreshold, expireTime));
        this.fsDict.set(sharedFeature, fs);
      }
    } else {
      fs = this.ctx.createFeatureSlot(this.fsConf(featureName, slot, opts.occurrenceThreshold, expireTime));
    }
    combiner ??= maxSeqLength > 0 ? firstN(maxSeqLength) : reduceSum();
    const fc = new FeatureColumn(fs, featureName, { combiner, slot: slot ?? fs.slot });
    this.fcDict.set(featureName, fc);
    this.featureRecords.push({
      featureName,
      slot,
      occurrenceThreshold: opts.occurrenceThreshold ?? null,
      expireTime,
      maxSeqLength,
      sharedName: shared ?? null,
      combiner: combiner.kind,
    });
    return fc;
  }

  private columnOf(ref: FeatureRef): FeatureColumn {
    if (ref instanceof FeatureColumn) return ref;
    const [name] = this.featureNames.resolve(ref);
    const fc = this.fcDict.get(name);
    if (!fc) throw new ConfigError(`feature ${name}: no feature column; call createEmbeddingFeatureColumn(${JSON.stringify(ref)}) first`);
    return fc;
  }

  private embeddingSliceLookup(ref: FeatureRef, sliceName: string, sliceDim: number, o: SliceOptions, sliceList: [string, FeatureSlice][]): SymbolicTensor {
    const fc = this.columnOf(ref);
    const owner = this.shareSlotMapping.get(fc.featureName) ?? fc.featureName;
    let slices = this.sliceDict.get(owner);
    if (!slices) this.sliceDict.set(owner, (slices = new Map()));
    let s = slices.get(sliceName);
    if (!s) {
      s = fc.featureSlot.addFeatureSlice(sliceDim, o.initializer, o.optimizer, o.compressor, o.learningRate, o.vocabularyRegularization);
      slices.set(sliceName, s);
    }
    sliceList.push([fc.featureName, s]);
    return fc.embeddingLookup(s);
  }

  /**
   * Looks up slice `sliceName` of several features:
   * - `{ name: dim }` (or a Map): one dim per feature;
   * - `[f1, f2]` with `sliceDim`: the same dim for all;
   * - `[[f1, f2], [f3]]` with `sliceDim`: groups, each pooled by `groupOutType` (add_n or concat);
   * - `[[f1, d1], [f2, d2]]` without `sliceDim`: (feature, dim) pairs.
   * With `outType` the embeddings are combined (concat / stack / add_n) into one
   * tensor, else the list is returned. The layout is recorded under
   * `${sliceName}_${md5 of the sorted features}`.
   */
  lookupEmbeddingSlice(features: SliceFeatures, sliceName: string, opts: SliceOptions = {}): SymbolicTensor | SymbolicTensor[] {
    const { sliceDim } = opts;
    const groupOutType = opts.groupOutType ?? 'add_n';
    const keyOf = (r: FeatureRef): string | number => (r instanceof FeatureColumn ? r.featureName : r);
    const isRef = (e: unknown): e is FeatureRef => typeof e === 'string' || typeof e === 'number' || e instanceof FeatureColumn;
    const dimInt = typeof sliceDim === 'number' && Number.isInteger(sliceDim);

    let keys: LayoutKey[];
    if (features instanceof Map) keys = [...features.keys()].map(keyOf);
    else if (Array.isArray(features)) {
      keys = (features as unknown[]).map((e): LayoutKey => {
        if (isRef(e)) return keyOf(e);
        if (Array.isArray(e) && dimInt) return { group: e.map((x) => keyOf(x as FeatureRef)) };
        if (Array.isArray(e) && e.length === 2) return { pair: [keyOf(e[0] as FeatureRef), e[1] as number] };
        throw new FeaturesShapeError('ValueError for features');
      });
    } else if (features && typeof features === 'object') keys = Object.keys(features);
    else throw new FeaturesShapeError('ValueError for features');
    const name = layoutName(sliceName, keys);

    if (this.isFusedLayout()) {
      if (Array.isArray(features) && dimInt && features.every((e) => Array.isArray(e))) throw new FusedLayoutError('group pool is not support when fused_layout');
      return this.ctx.layoutFactory!.getLayout(name);
    }

    const embeddings: SymbolicTensor[] = [];
    const sliceList: [string, FeatureSlice][] = [];
    const lookup = (ref: FeatureRef, dim: number) => this.embeddingSliceLookup(ref, sliceName, dim, opts, sliceList);
    if (features instanceof Map || (!Array.isArray(features) && typeof features === 'object')) {
      const entries: [FeatureRef, number][] = features instanceof Map ? [...features.entries()] : Object.entries(features).map(([k, v]) => [/^\d+$/.test(k) ? Number(k) : k, v]);
      for (const [ref, dim] of entries) embeddings.push(lookup(ref, dim));
    } else if (Array.isArray(features) && dimInt) {
      const list = features as unknown[];
      if (list.every(isRef)) {
        for (const ref of list) embeddings.push(lookup(ref, sliceDim!));
      } else if (list.every((e) => Array.isArray(e))) {
        if (groupOutType !== 'add_n' && groupOutType !== 'concat') throw new ConfigError(`lookupEmbeddingSlice: group_out_type must be add_n or concat, got ${String(groupOutType)}`);
        for (const group of list as FeatureRef[][]) {
          if (!group.every(isRef)) throw new FeaturesShapeError('ValueError for features');
          const local = group.map((ref) => lookup(ref, sliceDim!));
          embeddings.push(groupOutType === 'add_n' ? addN(local) : concat(local));
        }
      } else throw new FeaturesShapeError('ValueError for features');
    } else if (Array.isArray(features)) {
      const list = features as unknown[];
      if (!list.every((e) => Array.isArray(e) && e.length === 2 && isRef(e[0]) && typeof e[1] === 'number')) throw new FeaturesShapeError('ValueError for features');
      for (const [ref, dim] of list as [FeatureRef, number][]) embeddings.push(lookup(ref, dim));
    } else throw new FeaturesShapeError('ValueError for features');

    const record = (outType: LayoutOutType, out: SymbolicTensor[]) => {
      this.addLayout(name, sliceList, outType, out.map((t) => t.shape));
      this.sliceRecords.push({
        features: keys.map((k) => (typeof k === 'object' ? JSON.stringify('group' in k ? k.group : k.pair) : String(k))),
        sliceName,
        sliceDim: sliceDim ?? null,
        layoutName: name,
        groupOutType,
        outType: outType,
        initializer: opts.initializer ?? null,
        optimizer: opts.optimizer ?? null,
        compressor: opts.compressor ?? null,
        learningRate: opts.learningRate ?? null,
        outputShapes: out.map((t) => t.shape.map((d, i) => (i === 0 ? -1 : d))),
      });
    };
    if (opts.outType === undefined) {
      record(null, embeddings);
      return embeddings;
    }
    let out: SymbolicTensor;
    switch (opts.outType) {
      case 'concat':
        out = concat(embeddings);
        record('concat', [out]);
        return out;
      case 'stack':
        out = new StackEmbeddings({}).apply(embeddings) as SymbolicTensor;
        record('stack', [out]);
        return out;
      case 'add_n':
      case 'addn':
        out = addN(embeddings);
        record('addn', [out]);
        return out;
      default:
        throw new ConfigError(`lookupEmbeddingSlice: out_type must be concat, stack, add_n or addn, got ${String(opts.outType)}`);
    }
  }

  /** Records the OutConfig of a layout (its slices and output shapes, batch dimension -1). */
  addLayout(name: string, sliceList: [string, FeatureSlice][], outType: LayoutOutType, shapeList: (number | null)[][]): void {
    this.layoutDict.set(name, outConfig(outType, sliceList, shapeList));
  }

  /**
   * Monolith's share_slot: registers each `name → (inplace, slot)` and, given
   * a batch, switches the slot of that feature's ids (fid v2) either in place
   * or into a new column `${name}_${suffix}`. Without a batch it returns the
   * function that does it.
   */
  shareSlot(features: Batch | null, shareMeta: Record<string, [boolean, number]>, opts: { suffix?: string } = {}): Batch | ((b: Batch) => Batch) {
    const suffix = opts.suffix ?? 'share';
    for (const [name, [inplace, slot]] of Object.entries(shareMeta)) this.featureNames.register({ [inplace ? name : `${name}_${suffix}`]: slot });
    const apply = (b: Batch): Batch => {
      let sparse = [...b.sparse];
      for (const [name, [inplace, slot]] of Object.entries(shareMeta)) {
        const col = sparse.find((c) => c.name === name);
        if (!col) throw new ConfigError(`shareSlot: the batch has no sparse feature ${name}`);
        const switched = switchSlot(col, slot);
        if (inplace) sparse = sparse.map((c) => (c === col ? switched : c));
        else sparse.push({ ...switched, name: `${name}_${suffix}` });
      }
      return { ...b, sparse };
    };
    return features ? apply(features) : apply;
  }

  // ---- building --------------------------------------------------------------

  private runPass(mode: Mode, binder: LookupBinder): ModelFnOutput {
    this.clean();
    this.graph = new GraphState();
    this.denseInputs = new Map();
    this.featureRecords = [];
    this.sliceRecords = [];
    this.slotCollector.binder = binder;
    try {
      const out = this.modelFn(mode);
      if (!out?.heads?.length) throw new ConfigError(`${this.constructor.name}.modelFn must return at least one head`);
      const names = new Set<string>();
      for (const h of out.heads) {
        if (names.has(h.name)) throw new ConfigError(`head ${h.name} is returned twice`);
        names.add(h.name);
        const s = h.logit.shape;
        if (s.length !== 2 || s[1] !== 1) throw new ConfigError(`head ${h.name}: the logit must be [rows, 1], got [${s.join(', ')}]`);
      }
      return out;
    } finally {
      this.slotCollector.binder = undefined;
    }
  }

  /**
   * The model as the runtime consumes it. `mode` is the mode `modelFn` is
   * built for (default TRAIN).
   */
  toModelSpec(opts: { mode?: Mode; name?: string } = {}): ModelSpec {
    if (this.isFusedLayout()) throw new ConfigError('toModelSpec: a fused layout (layout_factory) model is built by its layout factory, not here');
    const mode = opts.mode ?? ModeKeys.TRAIN;
    const dry = new DryBinder();
    const out = this.runPass(mode, dry);
    const logits = out.heads.map((h) => h.logit);
    const used = reachable(logits);

    const plan = new Map<string, EmbeddingFeatureSpec>();
    const tables: ModelSpec['tables'] = {};
    for (const { column, input } of dry.lookups) {
      if (!used.has(input.id) || plan.has(column.featureName)) continue;
      const slot = column.featureSlot;
      const spec: EmbeddingFeatureSpec = { name: column.featureName, slot: column.slot, dim: slot.dim, combiner: column.combiner.kind, table: slot.name };
      if (column.combiner.kind === 'first_n') spec.maxSeqLength = column.combiner.maxSeqLength;
      plan.set(column.featureName, spec);
      tables[slot.name] ??= slot.toTableConfig();
    }
    const denseInputs = [...this.denseInputs.values()].filter((d) => used.has(d.input.id)).map((d) => d.spec);
    const heads: HeadSpec[] = out.heads.map((h, i) => ({ name: h.name, kind: h.kind ?? 'classification', labelIndex: h.labelIndex ?? i, ...(h.warmStartBias ? { warmStartBias: h.warmStartBias } : {}) }));
    const dryInputs = [...dry.lookups.map((l) => l.input), ...[...this.denseInputs.values()].map((d) => d.input)].filter((t) => used.has(t.id));
    functionalModel({ inputs: dryInputs, outputs: logits }).dispose();

    const name = opts.name ?? this.p.name ?? this.constructor.name;
    const extraLosses = [...this.graph.losses];
    const modelLoss = out.loss;
    const modelName = name || this.constructor.name;
    const build = (): { model: LayersModel; extras: Map<string, SymbolicTensor | Record<string, SymbolicTensor>> } => {
      const binder = new InputBinder(plan);
      const built = this.runPass(mode, binder);
      for (const f of plan.values()) {
        const width = binder.seen.get(f.name)?.dim;
        if (width !== f.dim) throw new ConfigError(`feature ${f.name}: its table is ${width ?? 'not looked up'} wide in this build but ${f.dim} in the first one; modelFn must build the same model every time`);
      }
      const inputs = [...binder.inputs.values()];
      for (const d of denseInputs) {
        const had = this.denseInputs.get(d.name);
        if (!had || had.spec.width !== d.width) throw new ConfigError(`dense input ${d.name}: not declared the same way in every build`);
        inputs.push(had.input);
      }
      return { model: functionalModel({ inputs, outputs: built.heads.map((h) => h.logit), name: modelName }), extras: new Map(this.graph.exportOutputs) };
    };
    const spec: ModelSpec = {
      name: modelName,
      features: [...plan.values()],
      tables,
      denseInputs,
      heads,
      buildDense: (): LayersModel => build().model,
      // A build in export mode (addExtraOutput keeps its tensors), mapped onto the trained model's layers.
      servingDense: (trained: LayersModel) => {
        const was = this.exporting;
        this.exporting = true;
        try {
          const { model, extras } = build();
          try {
            return appendExtraOutputs(trained, model, extras);
          } finally {
            model.dispose();
          }
        } finally {
          this.exporting = was;
        }
      },
    };
    if (out.denseOptimizer) spec.denseOptimizer = out.denseOptimizer;
    if (out.lossReduction) spec.lossReduction = out.lossReduction;
    spec.gradients = { clipNorm: this.p.clipNorm, denseWeightDecay: this.p.denseWeightDecay, sparseNormWarmupSteps: this.p.sparseNormWarmupSteps };
    if (modelLoss || extraLosses.length) {
      spec.loss = (inputs) =>
        tf.tidy(() => {
          const base = modelLoss ? modelLoss(inputs) : defaultLoss(heads, inputs, out.lossReduction);
          return (extraLosses.length ? tf.addN([base, ...extraLosses.map((l) => l(inputs))]) : base) as tf.Scalar;
        });
    }
    return spec;
  }

  /** Monolith's create_model_fn: the per-mode flow (metrics, prediction files, deep insight, hooks). */
  createModelFn(): (mode: Mode, flags?: RunFlags) => ModelFunction {
    return (mode, flags = {}) => createModelFunction(this, mode, flags);
  }

  /** What the model dump records about this model's last build. */
  dumpRecord(): {
    params: P;
    features: FeatureRecord[];
    slices: SliceRecord[];
    featureSliceDims: Record<string, number[]>;
    featureCombiners: Record<string, CombinerName>;
    layouts: Record<string, OutConfigProps>;
    signatures: string[];
    extraLosses: number;
  } {
    const featureSliceDims: Record<string, number[]> = {};
    for (const [name, slices] of this.sliceDict) featureSliceDims[name] = [...slices.values()].map((s) => s.end - s.start);
    const featureCombiners: Record<string, CombinerName> = {};
    for (const [name, fc] of this.fcDict) featureCombiners[name] = fc.combiner.kind;
    return {
      params: this.p,
      featureSliceDims,
      featureCombiners,
      features: [...this.featureRecords],
      slices: [...this.sliceRecords],
      layouts: Object.fromEntries(this.layoutDict),
      signatures: [...this.graph.signatureNames],
      extraLosses: this.graph.losses.length,
    };
  }
}

function concat(ts: SymbolicTensor[]): SymbolicTensor {
  return ts.length === 1 ? ts[0]! : (layers.concatenate({ axis: 1 }).apply(ts) as SymbolicTensor);
}
function addN(ts: SymbolicTensor[]): SymbolicTensor {
  return ts.length === 1 ? ts[0]! : (layers.add().apply(ts) as SymbolicTensor);
}

/** Monolith's switch_slot with fid v2: every id keeps its low 48 bits and gets `slot` above them. */
export function switchSlot(col: SparseColumn, slot: number): SparseColumn {
  if (!Number.isInteger(slot) || slot < 1 || slot > 0xffff) throw new ConfigError(`switchSlot: slot ${slot} does not fit fid v2 (1..65535)`);
  const fids = new Uint32Array(col.fids.length);
  for (let i = 0; i < fids.length; i += 2) {
    fids[i] = col.fids[i]!;
    fids[i + 1] = ((slot << 16) | (col.fids[i + 1]! & 0xffff)) >>> 0;
  }
  return { name: col.name, slot, fids, rowSplits: col.rowSplits };
}
