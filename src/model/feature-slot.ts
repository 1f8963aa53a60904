import type { SymbolicTensor } from '@tensorflow/tfjs-layers';
import { ConfigError } from '../errors.js';
import type { EmbeddingHashTableConfig } from '../hashtable/embedding-hash-table.js';
import type { FloatCompressorConfig, SegmentConfig } from '../hashtable/entry-config.js';
import type { InitializerConfig } from '../hashtable/initializers.js';
import type { LearningRate } from '../hashtable/learning-rate.js';
import { createOptimizer, type OptimizerConfig } from '../hashtable/optimizers/index.js';
import type { VocabularyRegularization } from '../hashtable/vocabulary-regularization.js';
import type { Combiner as CombinerName } from './model-spec.js';

export { DEFAULT_EXPIRE_TIME } from '../hashtable/feature-slot-config.js';
import { DEFAULT_EXPIRE_TIME } from '../hashtable/feature-slot-config.js';

/** How a feature's embeddings of one row are pooled. */
export type CombinerConfig = { kind: 'reduce_sum' } | { kind: 'reduce_mean' } | { kind: 'first_n'; maxSeqLength: number };

export const reduceSum = (): CombinerConfig => ({ kind: 'reduce_sum' });
export const reduceMean = (): CombinerConfig => ({ kind: 'reduce_mean' });
export function firstN(maxSeqLength: number): CombinerConfig {
  if (!Number.isInteger(maxSeqLength) || maxSeqLength < 1) throw new ConfigError(`first_n: max_seq_length must be a positive integer, got ${maxSeqLength}`);
  return { kind: 'first_n', maxSeqLength };
}

/** Combiner from its name as `createEmbeddingFeatureColumn` takes it. */
export function combinerFromName(name: CombinerName, maxSeqLength: number): CombinerConfig {
  switch (name) {
    case 'reduce_sum':
      return reduceSum();
    case 'reduce_mean':
      return reduceMean();
    case 'first_n':
      if (!(maxSeqLength > 0)) throw new ConfigError('combiner first_n needs max_seq_length > 0');
      return firstN(maxSeqLength);
    default:
      throw new ConfigError(`combiner must be one of reduce_sum, reduce_mean, first_n; got ${String(name)}`);
  }
}

/** Monolith's FeatureSlotConfig: one embedding table seen from the model. */
export interface FeatureSlotConfig {
  /** Table name; default: the slot id as a string. */
  name?: string;
  slotId?: number | null;
  hasBias?: boolean;
  biasInitializer?: InitializerConfig;
  biasOptimizer?: OptimizerConfig;
  biasCompressor?: FloatCompressorConfig;
  biasLearningRate?: LearningRate | null;
  /** Scales the bias optimizer's L2 with the slot's vocabulary (see VocabularyRegularization); default none. */
  biasVocabularyRegularization?: SliceVocabularyRegularization | null;
  defaultVecInitializer?: InitializerConfig;
  defaultVecOptimizer?: OptimizerConfig;
  defaultVecCompressor?: FloatCompressorConfig;
  defaultVecLearningRate?: LearningRate | null;
  occurrenceThreshold?: number;
  expireTime?: number;
}

/** FeatureSlotConfig's defaults (Monolith feature.py). */
export const featureSlotDefaults = {
  hasBias: false,
  biasInitializer: { zeros: {} } as InitializerConfig,
  biasOptimizer: { ftrl: { initialAccumulatorValue: 1e-6, beta: 1.0 } } as OptimizerConfig,
  biasCompressor: { fp32: {} } as FloatCompressorConfig,
  defaultVecInitializer: { randomUniform: {} } as InitializerConfig,
  defaultVecOptimizer: { adagrad: { initialAccumulatorValue: 1.0 } } as OptimizerConfig,
  defaultVecCompressor: { fp16: {} } as FloatCompressorConfig,
  occurrenceThreshold: 0,
  expireTime: DEFAULT_EXPIRE_TIME,
};

/**
 * A slice's vocabulary regularization as a model sets it for many slots at once: `vocabularies` gives the
 * vocabulary of the slots whose users know it (by slot id); the others count the ids their table holds.
 */
export interface SliceVocabularyRegularization extends Omit<VocabularyRegularization, 'vocabulary'> {
  vocabularies?: Record<number, number>;
}

/** Columns `[start, end)` of a slot's embedding row. */
export interface FeatureSlice {
  readonly featureSlot: FeatureSlot;
  readonly start: number;
  readonly end: number;
}

/** Turns a lookup of (column, slice) into a tensor of the model being built. */
export interface LookupBinder {
  lookup(column: FeatureColumn, slice: FeatureSlice): SymbolicTensor;
}

/**
 * A table from the model's point of view: slices are appended as segments of
 * its entry, so a row is the concatenation of every slice.
 */
export class FeatureSlot {
  readonly config: Required<Omit<FeatureSlotConfig, 'slotId' | 'biasLearningRate' | 'defaultVecLearningRate' | 'biasVocabularyRegularization'>> &
    Pick<FeatureSlotConfig, 'slotId' | 'biasLearningRate' | 'defaultVecLearningRate' | 'biasVocabularyRegularization'>;
  readonly segments: SegmentConfig[] = [];
  readonly learningRates: (LearningRate | null)[] = [];
  readonly columns: FeatureColumn[] = [];
  private dimSize = 0;
  private readonly biasSlice: FeatureSlice | undefined;

  constructor(
    config: FeatureSlotConfig,
    readonly binder: () => LookupBinder,
  ) {
    const name = config.name || (config.slotId != null ? String(config.slotId) : '');
    if (!name) throw new ConfigError('FeatureSlotConfig: needs a name or a slot_id');
    this.config = { ...featureSlotDefaults, ...stripUndefined(config), name };
    if (this.config.hasBias) {
      this.biasSlice = this.addFeatureSlice(1, this.config.biasInitializer, this.config.biasOptimizer, this.config.biasCompressor, this.config.biasLearningRate, this.config.biasVocabularyRegularization);
    }
  }

  get name(): string {
    return this.config.name;
  }
  /** Slot id: the configured one, else the name as a number (Monolith: `int(name)`). */
  get slot(): number {
    return this.config.slotId ?? Number(this.config.name);
  }
  /** Width of one row: the sum of the slices so far. */
  get dim(): number {
    return this.dimSize;
  }

  /** Appends a segment of `dimSize` floats; unset settings take the slot's vec defaults. */
  addFeatureSlice(
    dimSize: number,
    initializer?: InitializerConfig | null,
    optimizer?: OptimizerConfig | null,
    compressor?: FloatCompressorConfig | null,
    learningRate?: LearningRate | null,
    vocabularyRegularization?: SliceVocabularyRegularization | null,
  ): FeatureSlice {
    if (!Number.isInteger(dimSize) || dimSize < 1) throw new ConfigError(`feature slot ${this.name}: slice dim must be a positive integer, got ${dimSize}`);
    this.segments.push({
      dimSize,
      initConfig: initializer ?? this.config.defaultVecInitializer,
      optConfig: optimizer ?? this.config.defaultVecOptimizer,
      compConfig: compressor ?? this.config.defaultVecCompressor,
      ...(vocabularyRegularization ? { vocabularyRegularization: this.ownVocabulary(vocabularyRegularization) } : {}),
    });
    this.learningRates.push(learningRate ?? this.config.defaultVecLearningRate ?? null);
    const s: FeatureSlice = { featureSlot: this, start: this.dimSize, end: this.dimSize + dimSize };
    this.dimSize += dimSize;
    return s;
  }

  private ownVocabulary(r: SliceVocabularyRegularization): VocabularyRegularization {
    const { vocabularies, ...rest } = r;
    const v = vocabularies?.[this.slot];
    return v != null ? { ...rest, vocabulary: v } : rest;
  }

  getBiasSlice(): FeatureSlice {
    if (!this.biasSlice) throw new ConfigError(`feature slot ${this.name} has no bias (has_bias is false)`);
    return this.biasSlice;
  }

  addColumn(fc: FeatureColumn): void {
    this.columns.push(fc);
  }

  /** The hash-table config this slot stands for. */
  toTableConfig(overrides: Partial<EmbeddingHashTableConfig> = {}): EmbeddingHashTableConfig {
    if (this.segments.length === 0) throw new ConfigError(`feature slot ${this.name}: no slice was added, so it has no table`);
    const cfg: EmbeddingHashTableConfig = {
      name: this.name,
      entry: { segments: this.segments.map((s) => ({ ...s })) },
      occurrenceThreshold: perSlot(this.config.occurrenceThreshold, this.config.slotId),
      expireTime: perSlot(this.config.expireTime, this.config.slotId),
      ...overrides,
    };
    if (this.learningRates.some((lr) => lr !== null)) {
      // A table takes learning rates for all segments or none: fill the rest with each optimizer's own rate.
      cfg.learningRates = this.learningRates.map((lr, k) => lr ?? createOptimizer(this.segments[k]!.optConfig, this.segments[k]!.dimSize!).learningRate);
    }
    return cfg;
  }
}

function perSlot(value: number, slot: number | null | undefined): { default: number; slots: Record<number, number> } {
  return { default: value, slots: slot != null ? { [slot]: value } : {} };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Binds a feature of the input (a sparse column of the batch) to a slot. */
export class FeatureColumn {
  readonly combiner: CombinerConfig;
  /** Slot of the feature's own ids (differs from the table's with a shared embedding). */
  readonly slot: number;

  constructor(
    readonly featureSlot: FeatureSlot,
    readonly featureName: string,
    opts: { combiner?: CombinerConfig; slot?: number } = {},
  ) {
    this.combiner = opts.combiner ?? reduceSum();
    this.slot = opts.slot ?? featureSlot.slot;
    featureSlot.addColumn(this);
  }

  static reduceSum = reduceSum;
  static reduceMean = reduceMean;
  static firstN = firstN;

  /** The pooled embedding of `slice` for this feature: [rows, sliceDim], or [rows, maxSeqLength, sliceDim] for first_n. */
  embeddingLookup(slice: FeatureSlice): SymbolicTensor {
    if (slice.featureSlot !== this.featureSlot) throw new ConfigError(`feature ${this.featureName}: the slice must come from its own feature slot ${this.featureSlot.name}, not ${slice.featureSlot.name}`);
    return this.featureSlot.binder().lookup(this, slice);
  }

  /** first_n length, or 0 for pooled combiners. */
  get maxSeqLength(): number {
    return this.combiner.kind === 'first_n' ? this.combiner.maxSeqLength : 0;
  }
}
