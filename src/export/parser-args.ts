import { ConfigError } from '../errors.js';
import type { DType } from './dtypes.js';
import type { FeatureList } from './feature-meta.js';

export const DEFAULT_SERVING_SIGNATURE_DEF_KEY = 'serving_default';

export type WarmupVariant = 'instance' | 'example' | 'example_batch';

/** Monolith accepts `examplebatch` as a spelling of `example_batch`. */
export function normalizeVariant(v: string): WarmupVariant {
  if (v === 'examplebatch') return 'example_batch';
  if (v === 'instance' || v === 'example' || v === 'example_batch') return v;
  throw new ConfigError(`variant type must be instance, example or example_batch, got "${v}"`);
}

export interface ParserArgsInit {
  modelName?: string;
  /** Slots of fid-v1 features (Instance.fid). */
  fidv1Features?: number[];
  /** Names of fid-v2 features (Instance.feature). */
  fidv2Features?: string[];
  /** Names of sparse features (Example / ExampleBatch). */
  sparseFeatures?: string[];
  denseFeatures?: string[];
  denseFeatureShapes?: number[];
  denseFeatureTypes?: DType[];
  /** LineId fields to fill. */
  extraFeatures?: string[];
  extraFeatureShapes?: number[];
  featureList?: FeatureList;
  batchSize?: number;
  maxRecords?: number;
  signatureName?: string[];
  variantType?: WarmupVariant | 'examplebatch';
  warmupFile?: string;
  dropRate?: number;
}

type Defaulted = 'modelName' | 'batchSize' | 'maxRecords' | 'signatureName' | 'variantType' | 'dropRate';

// The optional fields of the init object carry over as they are (declaration merging).
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface ParserArgs extends Omit<ParserArgsInit, Defaulted> {}

/**
 * What a warmup or data generator produces (Monolith's `ParserArgs`). Defaults:
 * model name `entry`, batch size 64, at most 1000 records, drop rate 0.5, variant
 * `instance`; `serving_default` is always among the signature names.
 */
export class ParserArgs {
  modelName: string;
  batchSize: number;
  maxRecords: number;
  signatureName: string[];
  variantType: WarmupVariant;
  dropRate: number;

  constructor(init: ParserArgsInit = {}) {
    Object.assign(this, init);
    this.modelName = init.modelName || 'entry';
    this.batchSize = init.batchSize ?? 64;
    this.maxRecords = init.maxRecords ?? 1000;
    this.variantType = normalizeVariant(init.variantType ?? 'instance');
    this.dropRate = init.dropRate ?? 0.5;
    // Order is kept (Monolith goes through a set, which scrambles it).
    const names = [...new Set(init.signatureName ?? [])];
    if (!names.includes(DEFAULT_SERVING_SIGNATURE_DEF_KEY)) names.push(DEFAULT_SERVING_SIGNATURE_DEF_KEY);
    this.signatureName = names;
    this.validate();
  }

  private validate(): void {
    const lens = (a?: unknown[]) => a?.length ?? 0;
    if (this.denseFeatures && (lens(this.denseFeatureShapes) !== this.denseFeatures.length || lens(this.denseFeatureTypes) !== this.denseFeatures.length)) {
      throw new ConfigError(`denseFeatures (${this.denseFeatures.length}) need as many denseFeatureShapes (${lens(this.denseFeatureShapes)}) and denseFeatureTypes (${lens(this.denseFeatureTypes)})`);
    }
    if (this.extraFeatures && lens(this.extraFeatureShapes) !== this.extraFeatures.length) {
      throw new ConfigError(`extraFeatures (${this.extraFeatures.length}) need as many extraFeatureShapes (${lens(this.extraFeatureShapes)})`);
    }
    if (!(this.batchSize > 0)) throw new ConfigError(`batchSize must be > 0, got ${this.batchSize}`);
    if (!(this.dropRate >= 0 && this.dropRate <= 1)) throw new ConfigError(`dropRate must be in [0, 1], got ${this.dropRate}`);
  }
}
