import { ConfigError } from '../errors.js';
import type { EntryConfig } from './entry-config.js';
import type { LearningRate } from './learning-rate.js';
import type { ExpireTimeInput, FidVersion, OccurrenceThresholdInput } from './slot-policy.js';
import type { ShardMemory } from './table-shard.js';

/** Everything that defines a table. Plain data: it is sent to worker threads with the shard buffers. */
export interface EmbeddingHashTableConfig {
  name?: string;
  entry: EntryConfig;
  /** Per segment; default: each segment's optimizer learning_rate. */
  learningRates?: LearningRate[];
  /** Shards, each with its own lock (default 1). */
  shards?: number;
  /** Expected entries, to size the shards up front (default 16 per shard). */
  initialCapacity?: number;
  /** Seed of the random initializers (default 0). */
  seed?: number;
  /** Per-slot occurrence thresholds: an id becomes an entry once it was seen `threshold` times before. */
  occurrenceThreshold?: OccurrenceThresholdInput;
  /** Per-slot expire time in days for `evict()` and for saving (default 36500). */
  expireTime?: ExpireTimeInput;
  /** Serving: `assign` of an all-zero embedding does not create an entry. */
  skipZeroEmbedding?: boolean;
  fidVersion?: FidVersion;
  /** Older names this table's checkpoint may have been saved under (MergedMultiTypeHashTable's `fc_slot_*` names). */
  extraRestoreNames?: string[];
}

export interface TableRuntimeOptions {
  /** Seconds since the epoch; injectable for tests. Default: wall clock. */
  clock?: () => number;
}

/** What a worker needs to attach to a table made elsewhere. */
export interface EmbeddingHashTableHandle {
  config: EmbeddingHashTableConfig;
  shards: ShardMemory[];
}

export interface ApplyGradientsOptions {
  /** Global step for learning-rate functions and warmup (default 0). */
  globalStep?: number;
  /** Explicit learning rate per segment, overriding the configured ones. */
  learningRates?: readonly number[];
  /**
   * Multiplies every segment's L2 regularization (FTRL L2, weight decay) for this update, on top of a
   * slot's vocabularyRegularization (default 1). `trainEpochs` passes the pass number: a pass over rows
   * already trained on counts their likelihood again, so the prior's precision grows with it.
   */
  regularizationScale?: number;
}

/** The checked `regularizationScale` of an update (default 1). */
export function regularizationScaleOf(opts: ApplyGradientsOptions): number {
  const s = opts.regularizationScale ?? 1;
  if (!(Number.isFinite(s) && s >= 0)) throw new ConfigError(`applyGradients: regularizationScale must be a finite number >= 0, got ${String(opts.regularizationScale)}`);
  return s;
}
