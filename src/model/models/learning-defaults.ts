import type { InitializerConfig } from '../../hashtable/initializers.js';
import type { OptimizerConfig } from '../../hashtable/optimizers/index.js';
import type { ModelSpec } from '../model-spec.js';

/**
 * The defaults the shipped CTR models (DeepFM, DeepFwFM) learn with on the
 * first pass, without tuning, on streams with large Zipf vocabularies. The
 * loss is the batch *mean*, so an id's gradient is (p − y)/B per row it
 * appears in (B = batch size, a few hundred): every setting below that is in
 * gradient units is scaled by ~1/B.
 */
export const LEARNING_DEFAULTS = {
  /**
   * First-order weights: FTRL-Proximal. β, L1 and L2 ≈ 2/B (B ≈ 500): β keeps
   * the first steps of a rare id small (its step is α·g/(β + √n) instead of
   * α·g/|g|, a full α), L1 leaves ids whose summed gradient never outgrows
   * the noise at exactly 0, L2 shrinks the rest. α 0.05: the step of an id
   * seen often.
   */
  biasOptimizer: { ftrl: { learningRate: 0.05, initialAccumulatorValue: 1e-6, beta: 0.004, l1RegularizationStrength: 0.004, l2RegularizationStrength: 0.004 } } as OptimizerConfig,
  /**
   * Embeddings: Adagrad with an initial accumulator of 1e-4 (≈ the square of
   * a few hundred summed 1/B gradients): a new id's first steps are
   * lr·g/√(1e-4 + g²) ≈ 100·lr·g, small, instead of a full lr step.
   */
  vecOptimizer: { adagrad: { learningRate: 0.05, initialAccumulatorValue: 1e-4 } } as OptimizerConfig,
  /** Small random vectors: a new id adds little noise to the pair terms until it has been trained. */
  vecInitializer: { randomUniform: { minval: -0.01, maxval: 0.01 } } as InitializerConfig,
  /** Ids need this many occurrences before they get an entry (until then they read as zeros). */
  occurrenceThreshold: 0,
  /** Adam at 0.002: the MLP and dense weights train at the pace of the embeddings. */
  denseOptimizer: { name: 'adam', learningRate: 0.002 } as NonNullable<ModelSpec['denseOptimizer']>,
};
