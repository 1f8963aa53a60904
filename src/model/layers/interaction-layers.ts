/**
 * Layers that learn which fields interact, instead of weighting every pair
 * of fields equally as a plain FM does. Registered for serialization like
 * the layers of embedding-layers.ts, so an exported model loads in serving.
 */
import * as tf from '@tensorflow/tfjs-core';
import { initializers, layers, type LayerVariable, type Shape } from '@tensorflow/tfjs-layers';
import { ConfigError } from '../../errors.js';

type LayerArgs = ConstructorParameters<typeof layers.Layer>[0];
type Config = tf.serialization.ConfigDict;

const first = (inputs: tf.Tensor | tf.Tensor[]): tf.Tensor => (Array.isArray(inputs) ? inputs[0]! : inputs);
const shapeOf = (s: Shape | Shape[]): Shape => (Array.isArray(s[0]) ? (s as Shape[])[0]! : (s as Shape));

export interface FieldWeightedFmArgs extends NonNullable<LayerArgs> {
  /** Starting weight of every field pair (default 0.1: interactions start weak and grow where they help). */
  initialPairWeight?: number;
  /**
   * Field-aware vectors (FFM's, Juan et al. 2016): each field holds one k-wide vector per partner field, as
   * an input [rows, fields, fields·k] whose j-th k-wide block is the vector used with field j; the pair
   * (i, j) is then r_ij ⟨v_i,j, v_j,i⟩. Default false: one vector per field, [rows, fields, k].
   */
  fieldAware?: boolean;
}

/**
 * The field-pair weights (i < j) of a FieldWeightedFm's row-major [fields, fields] `pair_weights`,
 * strongest (largest |weight|) first — from the layer, or from the dense parameters a training run returns.
 */
export function rankPairWeights(weights: ArrayLike<number>, fields: number): { i: number; j: number; weight: number }[] {
  const out: { i: number; j: number; weight: number }[] = [];
  for (let i = 0; i < fields; i++) for (let j = i + 1; j < fields; j++) out.push({ i, j, weight: weights[i * fields + j]! });
  return out.sort((a, b) => Math.abs(b.weight) - Math.abs(a.weight));
}

/**
 * Field-weighted FM (FwFM, Pan et al. 2018) over field embeddings
 * [rows, fields, k]: Σ_{i<j} r_ij ⟨v_i, v_j⟩ → [rows, 1], with one trainable
 * weight r_ij per field pair (`pairWeights`, a [fields, fields] matrix of
 * which the strict upper triangle is used). The learnt r_ij show which
 * pairs matter.
 */
export class FieldWeightedFm extends layers.Layer {
  static readonly className = 'MonolithFieldWeightedFm';
  readonly initialPairWeight: number;
  readonly fieldAware: boolean;
  private pairWeights: LayerVariable | undefined;
  private mask: tf.Tensor | undefined;

  constructor(args: FieldWeightedFmArgs = {}) {
    super(args);
    this.initialPairWeight = args.initialPairWeight ?? 0.1;
    this.fieldAware = args.fieldAware ?? false;
  }

  override build(inputShape: Shape | Shape[]): void {
    const s = shapeOf(inputShape);
    const fields = s[1];
    if (s.length !== 3 || typeof fields !== 'number' || fields < 2) throw new ConfigError(`FieldWeightedFm: input must be [rows, fields >= 2, k], got [${s.join(', ')}]`);
    const width = s[2];
    if (this.fieldAware && !(typeof width === 'number' && width > 0 && width % fields === 0)) {
      throw new ConfigError(`FieldWeightedFm: a field-aware input must be [rows, fields, fields·k], got [${s.join(', ')}]`);
    }
    this.pairWeights = this.addWeight('pair_weights', [fields, fields], 'float32', initializers.constant({ value: this.initialPairWeight }));
    this.built = true;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return [shapeOf(inputShape)[0] ?? null, 1];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const v = first(inputs) as tf.Tensor3D;
      const fields = v.shape[1];
      this.mask ??= tf.keep(tf.sub(tf.linalg.bandPart(tf.ones([fields, fields]), 0, -1), tf.eye(fields)));
      let gram: tf.Tensor; // [rows, f, f]
      if (this.fieldAware) {
        const byPartner = tf.reshape(v, [v.shape[0], fields, fields, v.shape[2] / fields]); // [rows, i, j, k] = v_i,j
        gram = tf.sum(tf.mul(byPartner, tf.transpose(byPartner, [0, 2, 1, 3])), 3);
      } else {
        gram = tf.matMul(v, v, false, true);
      }
      const r = tf.mul(this.pairWeights!.read(), this.mask);
      return tf.reshape(tf.sum(tf.mul(gram, r), [1, 2]), [-1, 1]);
    });
  }

  /** The learnt weight of each field pair (i < j), strongest first. */
  pairStrengths(): { i: number; j: number; weight: number }[] {
    const w = this.pairWeights!.read();
    return rankPairWeights(w.dataSync(), w.shape[0]!);
  }

  override getConfig(): Config {
    return { ...super.getConfig(), initialPairWeight: this.initialPairWeight, ...(this.fieldAware ? { fieldAware: true } : {}) };
  }
}

export interface CrossLayerArgs extends NonNullable<LayerArgs> {
  /** Seed of the kernel's initializer. */
  seed?: number;
  /** Starting kernel: 'glorotUniform' (default, as in the paper) or 'zeros' (the layer starts as x0 ⊙ b + xl: no interaction until one is learnt). */
  kernelInitializer?: 'glorotUniform' | 'zeros';
  /**
   * The kernel is stored as W / kernelScale, so an Adam-like dense optimizer moves W kernelScale times as
   * far per step as other weights (plain SGD: kernelScale² times). Default 1. Below 1 it keeps a full-rank
   * W of d² weights from memorizing the rows a second pass sees again.
   */
  kernelScale?: number;
}

/**
 * One DCN-v2 cross layer (Wang et al. 2021): inputs `[x0, xl]`, each
 * [rows, d] → x0 ⊙ (W·xl + b) + xl. A full-rank W learns a weight for every
 * pair of input coordinates, so stacked cross layers learn which features
 * (and fields) interact. Apply to `x0` alone for the first layer (in a
 * model, the same tensor twice in one apply is disposed after its first use).
 */
export class CrossLayer extends layers.Layer {
  static readonly className = 'MonolithCrossLayer';
  readonly seed: number | undefined;
  readonly kernelInitializer: 'glorotUniform' | 'zeros';
  readonly kernelScale: number;
  private kernel: LayerVariable | undefined;
  private bias: LayerVariable | undefined;

  constructor(args: CrossLayerArgs = {}) {
    super(args);
    this.seed = args.seed;
    this.kernelInitializer = args.kernelInitializer ?? 'glorotUniform';
    this.kernelScale = args.kernelScale ?? 1;
    if (this.kernelInitializer !== 'glorotUniform' && this.kernelInitializer !== 'zeros') throw new ConfigError(`CrossLayer: kernelInitializer must be 'glorotUniform' or 'zeros', got ${String(this.kernelInitializer)}`);
    if (!(this.kernelScale > 0)) throw new ConfigError(`CrossLayer: kernelScale must be > 0, got ${this.kernelScale}`);
  }

  override build(inputShape: Shape | Shape[]): void {
    const d = shapeOf(inputShape)[1];
    if (typeof d !== 'number') throw new ConfigError('CrossLayer: the input width must be known');
    // Glorot's range (±√(6 / 2d)) divided by the scale, so the effective W starts as in the paper whatever the scale.
    const limit = Math.sqrt(3 / d) / this.kernelScale;
    const init =
      this.kernelInitializer === 'zeros' ? initializers.zeros() : this.kernelScale === 1 ? initializers.glorotUniform({ seed: this.seed }) : initializers.randomUniform({ minval: -limit, maxval: limit, seed: this.seed });
    this.kernel = this.addWeight('kernel', [d, d], 'float32', init);
    this.bias = this.addWeight('bias', [d], 'float32', initializers.zeros());
    this.built = true;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return shapeOf(inputShape);
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const xs = Array.isArray(inputs) ? inputs : [inputs];
      const x0 = xs[0]! as tf.Tensor2D;
      const xl = (xs[1] ?? xs[0]!) as tf.Tensor2D;
      const w = (this.kernelScale === 1 ? this.kernel!.read() : tf.mul(this.kernel!.read(), this.kernelScale)) as tf.Tensor2D;
      return tf.add(tf.mul(x0, tf.add(tf.matMul(xl, w), this.bias!.read())), xl);
    });
  }

  override getConfig(): Config {
    return { ...super.getConfig(), ...(this.seed !== undefined ? { seed: this.seed } : {}), kernelInitializer: this.kernelInitializer, kernelScale: this.kernelScale };
  }
}

for (const cls of [FieldWeightedFm, CrossLayer]) {
  tf.serialization.registerClass(cls as unknown as tf.serialization.SerializableConstructor<tf.serialization.Serializable>);
}
