import type { InitializerConfig } from '../../hashtable/initializers.js';
import type { OptimizerConfig } from '../../hashtable/optimizers/index.js';
import type { SliceVocabularyRegularization } from '../feature-slot.js';
import type { ModelSpec } from '../model-spec.js';

/**
 * The defaults the shipped CTR models (DeepFM, DeepFwFM, DCN-v2, TestFFMModel) learn with on the
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
   * the noise at exactly 0, L2 shrinks the rest. α 0.15 (Monolith's FTRL
   * default is 0.01): with one step per batch instead of one per example, a
   * frequent id needs the larger α to reach its weight within a pass
   * (0.05 → 0.15 raised first-pass AUC on the planted stream). At 131k rows
   * of the planted stream, α 0.08, β 0.02 / 0.05, L1 0.012 / 0.03 and L2 0.02
   * all land within 0.001 AUC of these values (α 0.3 loses 0.004): the
   * first-order part is not sensitive around them
   * (bench/RESULTS-learning-quality.md).
   */
  biasOptimizer: { ftrl: { learningRate: 0.15, initialAccumulatorValue: 1e-6, beta: 0.004, l1RegularizationStrength: 0.004, l2RegularizationStrength: 0.004 } } as OptimizerConfig,
  /** First-order regularization per slot, scaled with the slot's vocabulary (see below; null: every slot alike). */
  biasVocabularyRegularization: null as SliceVocabularyRegularization | null,
  vecVocabularyRegularization: null as SliceVocabularyRegularization | null,
  /**
   * Embeddings: Adagrad with an initial accumulator of 1e-4 (≈ the square of
   * a few hundred summed 1/B gradients): a new id's first steps are
   * lr·g/√(1e-4 + g²) ≈ 100·lr·g, small, instead of a full lr step. lr 0.05:
   * 0.15 lost 0.02 AUC at 32k rows, 0.02–0.03 are within 0.001 at 32k and 131k.
   */
  vecOptimizer: { adagrad: { learningRate: 0.05, initialAccumulatorValue: 1e-4 } } as OptimizerConfig,
  /** Small random vectors: a new id adds little noise to the pair terms until it has been trained. */
  vecInitializer: { randomUniform: { minval: -0.01, maxval: 0.01 } } as InitializerConfig,
  /** Ids need this many occurrences before they get an entry (until then they read as zeros). */
  occurrenceThreshold: 0,
  /**
   * Adam at 0.01: Adam moves each weight by about its learning rate per step,
   * and a first pass of 32k rows in batches of 512 is only 64 steps — at 0.002
   * the dense features' weights (≈0.2–0.4) and the output bias (≈logit of the
   * CTR) cannot get there; 0.01 raised first-pass AUC, 0.02 gained no more.
   */
  denseOptimizer: { name: 'adam', learningRate: 0.01 } as NonNullable<ModelSpec['denseOptimizer']>,
};
