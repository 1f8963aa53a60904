import { ConfigError } from '../errors.js';
import type { monolith } from '../proto.js';
import { createInitializer, type Initializer, type InitializerConfig } from './initializers.js';
import { createOptimizer, warmupStepsOf, type OptimizerConfig, type SegmentOptimizer } from './optimizers/index.js';
import { checkVocabularyRegularization, type VocabularyRegularization } from './vocabulary-regularization.js';

export type FloatCompressorConfig = monolith.hash_table.FloatCompressorConfig.$Properties;

/** One segment of an entry, shaped like Monolith's EntryConfig.Segment (a decoded proto works as is). */
export interface SegmentConfig {
  dimSize?: number | null;
  initConfig?: InitializerConfig | null;
  optConfig?: OptimizerConfig | null;
  compConfig?: FloatCompressorConfig | null;
  /** Scales the optimizer's L2 regularization with the table's vocabulary (not a Monolith field; not saved in checkpoints). */
  vocabularyRegularization?: VocabularyRegularization | null;
}

export type EntryType = 'TRAINING' | 'SERVING';

/** Like Monolith's EntryConfig; `entryType` may be the proto enum number (1 TRAINING, 2 SERVING). */
export interface EntryConfig {
  segments: SegmentConfig[];
  entryType?: EntryType | number | null;
}

export function entryTypeOf(c: EntryConfig): EntryType {
  const t = c.entryType;
  if (t === 'SERVING' || t === 2) return 'SERVING';
  if (t == null || t === 'TRAINING' || t === 1) return 'TRAINING';
  throw new ConfigError(`EntryConfig: unknown entry_type ${String(t)}`);
}

export interface SegmentLayout {
  dim: number;
  /** Offset of the segment's embedding inside the entry's embedding (and inside the row, in floats). */
  embAt: number;
  /** Offset of its optimizer state inside the row (training rows only). */
  stateAt: number;
  optimizer: SegmentOptimizer;
  initializer: Initializer;
  warmupSteps: number;
  fp16: boolean;
  /** Checked vocabularyRegularization, when the segment has one. */
  vocabularyRegularization?: ReturnType<typeof checkVocabularyRegularization>;
}

/**
 * Where everything of an entry sits in its row of 32-bit words:
 * TRAINING: [embedding (sum of dims) | optimizer states in segment order | last-update seconds].
 * SERVING:  [embedding, as floats or as packed halves when every segment is fp16 | last-update seconds].
 */
export class EntryLayout {
  readonly segments: SegmentLayout[];
  readonly dim: number;
  readonly stride: number;
  readonly tsWord: number;
  readonly serving: boolean;
  /** Embedding stored as IEEE halves, two per word. */
  readonly halves: boolean;

  constructor(readonly config: EntryConfig, seed: number) {
    if (!config.segments?.length) throw new ConfigError('EntryConfig: needs at least one segment');
    this.serving = entryTypeOf(config) === 'SERVING';
    let dim = 0;
    const partial = config.segments.map((s, k) => {
      const d = s.dimSize ?? 0;
      if (!Number.isInteger(d) || d <= 0) throw new ConfigError(`EntryConfig segment ${k}: dim_size must be a positive integer, got ${String(s.dimSize)}`);
      const where = `EntryConfig segment ${k}`;
      const seg = {
        dim: d,
        embAt: dim,
        stateAt: 0,
        optimizer: createOptimizer(s.optConfig, d, where),
        initializer: createInitializer(s.initConfig, d, (seed + Math.imul(k, 0x632be5ab)) | 0, where),
        warmupSteps: warmupStepsOf(s.optConfig),
        fp16: !!s.compConfig?.fp16,
        ...(s.vocabularyRegularization ? { vocabularyRegularization: checkVocabularyRegularization(s.vocabularyRegularization, where) } : {}),
      };
      dim += d;
      return seg;
    });
    this.dim = dim;
    this.halves = this.serving && partial.every((s) => s.fp16);
    let at = this.halves ? Math.ceil(dim / 2) : dim;
    if (!this.serving) {
      for (const s of partial) {
        s.stateAt = at;
        at += s.optimizer.stateWords;
      }
    }
    this.segments = partial;
    this.tsWord = at;
    // With an even dim and an even stride every embedding starts 8-byte aligned, so lookups copy it as float64 pairs.
    this.wide = !this.halves && dim % 2 === 0;
    this.stride = this.wide && (at + 1) % 2 === 1 ? at + 2 : at + 1;
  }

  /** Rows are 8-byte aligned and the embedding has an even number of floats (copied two at a time). */
  readonly wide: boolean;

  /** Row bytes beyond the embedding floats (optimizer state + timestamp). */
  get overheadBytes(): number {
    return (this.stride - this.dim) * 4;
  }
}
