import type { InitializerConfig } from '../../hashtable/initializers.js';
import { polynomialDecay } from '../../hashtable/learning-rate.js';
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
   * First-order weights: FTRL-Proximal with a learning-rate power of −1, α = 1/512 (= 1/B), no β, no
   * L1, L2 0.004 ≈ 2/B — and that L2 is multiplied per slot by `biasVocabularyRegularization` below.
   * With power −1 an id's step is its gradient over the sum of its squared gradients: for the
   * logistic loss E[(p − y)²] = p(1 − p), so that sum (×B, as the gradients are batch means) is the
   * id's Fisher information and each step is a Newton step; the L2 is then the precision of a
   * Gaussian prior on the weight, and the weight is close to its posterior mean after each batch —
   * a frequent id reaches its weight within a pass, a rare one moves as far as its few rows justify.
   * The L2 an id's weight needs is the inverse of its slot's prior variance, and slots differ: a slot
   * of 100 ids carries real per-id signal, a slot of 100,000 ids mostly rare ids whose true weights
   * are small and whose few occurrences are noise. One L2 for every slot lets the big slots overfit;
   * scaled per slot, L1 only loses signal (β = L1 = 0.004 instead: −0.003 AUC at 131k rows). α is
   * 1/B for batches of B = 512 rows; with other batch sizes set learningRate to 1/B and the L2 to
   * 2/B. Monolith's power −0.5 (α 0.15, β 0.001, the shipped setting before) steps by α/√n: for an
   * id seen k times that is ~17/√k times shorter than the Newton step, so ids seen fewer than a few
   * hundred times stay short of their weight. 500k planted rows, pass 1: DeepFwFM 0.7922 → 0.7932,
   * DeepFM 0.7888 → 0.7897 (bench/RESULTS-learning-quality.md, "Newton steps for the first-order
   * part"); the same learner outside the runtime (bench/pair-reference.ts) 0.7892 → 0.7899 (ideal
   * first-order learner 0.7905).
   */
  biasOptimizer: { ftrl: { learningRate: 1 / 512, learningRatePower: -1, initialAccumulatorValue: 0, beta: 0, l1RegularizationStrength: 0, l2RegularizationStrength: 0.004 } } as OptimizerConfig,
  /**
   * The first-order optimizer of a model whose output bias is not warm-started (`warmStartOutputBias:
   * false`) or that has none (TestFFMModel): Monolith's power −0.5 with α 0.15, β 0.001 and the same L2.
   * Newton steps take the square of an id's batch-summed gradient as its curvature; while the output
   * is far from the positive rate, the residuals of a frequent id's k rows share a sign, that square is
   * ~k times its Fisher information, and the id's steps stay short for the rest of the pass
   * (TestFFMModel on the planted stream: 0.6395 with Newton steps, 0.7284 with this).
   */
  biasOptimizerWithoutWarmStart: { ftrl: { learningRate: 0.15, initialAccumulatorValue: 1e-6, beta: 0.001, l1RegularizationStrength: 0, l2RegularizationStrength: 0.004 } } as OptimizerConfig,
  /**
   * The first-order L2 of a slot is multiplied by max(1, V/100)^1.2, V = the ids its table holds so
   * far (counted as they arrive: no knowledge of the data needed; a user who knows a slot's
   * vocabulary can pass `vocabularies: { [slot]: V }`). It makes the L2 of a slot ≈ 1/(B·σ²) for a
   * per-id weight variance σ² that falls with the vocabulary. Without it, the same FTRL settings
   * reach 0.7445 / 0.7680 (32k / 131k); exponents 0.8 and 1.6 are within 0.0015 of 1.2 at 131k,
   * reference 50 loses 0.003 at 32k, the true vocabularies instead of counts change −0.0005. On the
   * embeddings the same scaling of their weight decay changes little on a first pass and keeps a
   * second from memorizing (see vecOptimizer).
   */
  biasVocabularyRegularization: { exponent: 1.2, reference: 100 } as SliceVocabularyRegularization | null,
  /**
   * Embeddings: Adagrad with an initial accumulator of 1e-4 (≈ the square of
   * a few hundred summed 1/B gradients): a new id's first steps are
   * lr·g/√(1e-4 + g²) ≈ 100·lr·g, small, instead of a full lr step. lr 0.05:
   * 0.15 lost 0.02 AUC at 32k rows, 0.02–0.03 are within 0.001 at 32k and 131k. A weight decay of
   * 1e-4, scaled per slot by `vecVocabularyRegularization`, is a prior on the embeddings: the first
   * pass hardly notices it, but without it the embeddings and the MLP memorize the rows on a second
   * pass once the first-order part has taken its Newton steps. DeepFM pass 1 → pass 2, 32k rows:
   * 0.7629 → 0.7580 without, 0.7633 → 0.7625 with (1e-5: 0.7633 → 0.7588); 500k rows: 0.7897 →
   * 0.7875 without, 0.7901 → 0.7902 with. DCN-v2 at 32k: 0.7646 → 0.7618 without, 0.7641 → 0.7647 with.
   * Multi-pass training multiplies the decay by the pass number (like every L2 here): 32k, pass 2 → 3, DeepFM
   * 0.7639 → 0.7550 with every id trained in every pass (not scaled 0.7625 → 0.7496); a decay of 1e-3 held the
   * third pass at 32k (0.7644) but lost it at 500k (DeepFwFM 0.7933 → 0.7916, against 0.7933 with 1e-4). What held
   * it is leaving the ids seen rarely in the first pass out of later ones (trainEpochs' leaveOutRareIds): 0.7655 → 0.7639.
   */
  vecOptimizer: { adagrad: { learningRate: 0.05, initialAccumulatorValue: 1e-4, weightDecayFactor: 1e-4 } } as OptimizerConfig,
  /**
   * A separate pair-term slice (DeepFwFM): Adagrad lr 0.05 from an initial accumulator of 1e-6, with a
   * weight decay of 5e-6 scaled per slot like the first-order L2 (× max(1, V/100)^1.2). The pair term's
   * batch-mean gradients are tiny (≈ r·v·(p − y)/B with factors v ≈ 0.01: ~1e-6), so the accumulator's
   * start sets the first steps: lr·g/√acc is 10× as far with 1e-6 as with the vec slice's 1e-4, with
   * which the factors hardly leave their start and the pair term learns nothing (bench/pair-reference.ts,
   * 131k rows: 0.7816, the same as no pair term). The decay costs the first pass and protects a second:
   * fast factors of rare ids memorize the rows of a second pass. Since later passes leave out the ids
   * seen rarely in the first (trainEpochs' leaveOutRareIds), less decay is needed. DeepFwFM at 500k
   * rows (one pair vector per id, dense Adam 0.01), pass 1 → pass 2 with rare ids left out: 0 0.7939 →
   * 0.7843, 2.5e-6 0.7936 → 0.7930, 5e-6 (shipped) 0.7937 → 0.7939 (model seed 7: 0.7934 → 0.7933), 1e-5
   * 0.7933 → 0.7935, 2e-5 (the default before) 0.7930 → 0.7935 (seed 7: 0.7928 → 0.7934 with every id kept). At 32k rows 5e-6 and 2e-5 are
   * within 0.0003 on each of three passes.
   */
  pairOptimizer: { adagrad: { learningRate: 0.05, initialAccumulatorValue: 1e-6, weightDecayFactor: 5e-6 } } as OptimizerConfig,
  /** The pair slice's weight decay × max(1, V/100)^1.2, V = the ids its slot's table holds (see pairOptimizer). */
  pairVocabularyRegularization: { exponent: 1.2, reference: 100 } as SliceVocabularyRegularization | null,
  /** Small random vectors: a new id adds little noise to the pair terms until it has been trained. */
  vecInitializer: { randomUniform: { minval: -0.01, maxval: 0.01 } } as InitializerConfig,
  /** The embeddings' weight decay × max(1, V/100)^1.2, V = the ids its slot's table holds (see vecOptimizer). */
  vecVocabularyRegularization: { exponent: 1.2, reference: 100 } as SliceVocabularyRegularization | null,
  /**
   * DCN-v2's cross layers start at W = 0 — the network is x0 ⊙ b + xl, no interaction until one is
   * learnt — and the dense optimizer moves W at 0.1× its learning rate. A full-rank W has d² weights
   * (221² per layer on the planted stream) and at full speed memorizes the rows: a second pass fell by
   * 0.0054 at 131k rows (0.7785 → 0.7731); with these two settings it holds (0.7793 → 0.7796). The
   * starting point alone changes nothing (0.7792 → 0.7735).
   */
  crossKernelInitializer: 'zeros' as 'glorotUniform' | 'zeros',
  crossKernelScale: 0.1,
  /**
   * The output bias starts at the logit of the first training batch's positive rate instead of 0 (p = 0.5).
   * From 0, Adam at 0.01 needs ~140 steps to reach a 0.2 positive rate, and until then every gradient
   * carries the same sign: it pushes all embeddings and pair weights one way and the field-weighted FM
   * no longer finds the planted pairs.
   */
  warmStartOutputBias: true,
  /** Ids need this many occurrences before they get an entry (until then they read as zeros). */
  occurrenceThreshold: 0,
  /**
   * Adam from 0.01, falling linearly to 0.002 over the first 1,000 steps (TensorFlow's polynomial
   * decay; 0.002 from then on). Adam moves each weight by about its learning rate per step, and a
   * first pass of 32k rows in batches of 512 is only 64 steps — at 0.002 from the start the dense
   * features' weights (≈0.2–0.4) and the output bias (≈logit of the CTR) cannot get there (0.01
   * raised first-pass AUC, 0.02 gained no more). Once they are there, steps of 0.01 keep them
   * jittering around their values, and every pair weight and MLP weight with them: over 500k rows
   * (977 steps) the fall to 0.002 raised DeepFwFM's first pass from 0.7951 to 0.7957 (constant
   * 0.003 / 0.005 from the start: 0.7919 / 0.7923 with one vector per id, against 0.7930 at 0.01).
   */
  denseOptimizer: { name: 'adam', learningRate: polynomialDecay({ initialLearningRate: 0.01, decaySteps: 1000, endLearningRate: 0.002 }) } as NonNullable<ModelSpec['denseOptimizer']>,
};
