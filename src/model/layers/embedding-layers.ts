/**
 * The tfjs-layers classes a Monolith-style dense model needs beyond the
 * built-ins. Each is registered with `tf.serialization.registerClass` when
 * this module loads, so a serving process that imports it (and nothing of the
 * training code) can load an exported LayersModel.
 */
import * as tf from '@tensorflow/tfjs-core';
import { layers, type Shape } from '@tensorflow/tfjs-layers';
import { ConfigError } from '../../errors.js';

type LayerArgs = ConstructorParameters<typeof layers.Layer>[0];
type Config = tf.serialization.ConfigDict;

const first = (inputs: tf.Tensor | tf.Tensor[]): tf.Tensor => (Array.isArray(inputs) ? inputs[0]! : inputs);
const shapes = (s: Shape | Shape[]): Shape[] => (Array.isArray(s[0]) ? (s as Shape[]) : [s as Shape]);

export interface EmbeddingSliceArgs extends NonNullable<LayerArgs> {
  /** Width of one embedding row of the feature's table. */
  rowDim: number;
  start: number;
  end: number;
  /** first_n length (rows hold `seqLength` embeddings); 0 for pooled features. */
  seqLength?: number;
}

/**
 * Columns `[start, end)` of a pooled embedding input: [rows, rowDim] →
 * [rows, end - start]; for first_n inputs [rows, seqLength * rowDim] →
 * [rows, seqLength, end - start].
 */
export class EmbeddingSlice extends layers.Layer {
  static readonly className = 'MonolithEmbeddingSlice';
  readonly rowDim: number;
  readonly start: number;
  readonly end: number;
  readonly seqLength: number;

  constructor(args: EmbeddingSliceArgs) {
    super(args);
    this.rowDim = args.rowDim;
    this.start = args.start;
    this.end = args.end;
    this.seqLength = args.seqLength ?? 0;
    if (!(this.start >= 0 && this.end > this.start && this.end <= this.rowDim)) {
      throw new ConfigError(`EmbeddingSlice: [${this.start}, ${this.end}) is not inside a row of ${this.rowDim}`);
    }
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const rows = shapes(inputShape)[0]![0] ?? null;
    return this.seqLength > 0 ? [rows, this.seqLength, this.end - this.start] : [rows, this.end - this.start];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = first(inputs);
      const w = this.end - this.start;
      if (this.seqLength > 0) return tf.slice(tf.reshape(x, [-1, this.seqLength, this.rowDim]), [0, 0, this.start], [-1, -1, w]);
      if (this.start === 0 && w === this.rowDim) return tf.clone(x);
      return tf.slice(x, [0, this.start], [-1, w]);
    });
  }

  override getConfig(): Config {
    return { ...super.getConfig(), rowDim: this.rowDim, start: this.start, end: this.end, seqLength: this.seqLength };
  }
}

/** `tf.stack(inputs, axis=1)`: n tensors [rows, ...d] → [rows, n, ...d]. */
export class StackEmbeddings extends layers.Layer {
  static readonly className = 'MonolithStack';

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const all = shapes(inputShape);
    const s = all[0]!;
    return [s[0] ?? null, all.length, ...s.slice(1)];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => tf.stack(Array.isArray(inputs) ? inputs : [inputs], 1));
  }
}

export interface ReduceSumArgs extends NonNullable<LayerArgs> {
  /** Axis summed over (default 1, kept as a dimension of size 1). */
  axis?: number;
}

/** Sum over one axis, kept: [rows, n] → [rows, 1]. */
export class ReduceSum extends layers.Layer {
  static readonly className = 'MonolithReduceSum';
  readonly axis: number;

  constructor(args: ReduceSumArgs = {}) {
    super(args);
    this.axis = args.axis ?? 1;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const s = [...shapes(inputShape)[0]!];
    s[this.axis] = 1;
    return s;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => tf.sum(first(inputs), this.axis, true));
  }

  override getConfig(): Config {
    return { ...super.getConfig(), axis: this.axis };
  }
}

/**
 * Factorisation-machine second-order term over field embeddings
 * [rows, fields, k]: ½ Σ_k ((Σ_f v)² − Σ_f v²) → [rows, 1].
 */
export class FmInteraction extends layers.Layer {
  static readonly className = 'MonolithFmInteraction';

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return [shapes(inputShape)[0]![0] ?? null, 1];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const v = first(inputs);
      const sumSquare = tf.square(tf.sum(v, 1));
      const squareSum = tf.sum(tf.square(v), 1);
      return tf.mul(0.5, tf.sum(tf.sub(sumSquare, squareSum), 1, true));
    });
  }
}

/**
 * Mean over the ids of each field: inputs `[vecs, counts]`, vecs [rows,
 * fields, k] pooled by sum and counts [rows, fields] the number of ids each
 * row has in each field → vecs / max(count, 1). A row without ids stays zero.
 */
export class MeanOverIds extends layers.Layer {
  static readonly className = 'MonolithMeanOverIds';

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return shapes(inputShape)[0]!;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      if (!Array.isArray(inputs) || inputs.length !== 2) throw new ConfigError('MeanOverIds: inputs must be [vecs, counts]');
      const [vecs, counts] = inputs as [tf.Tensor3D, tf.Tensor2D];
      return tf.div(vecs, tf.expandDims(tf.maximum(counts, 1), 2));
    });
  }
}

/**
 * Field-aware FM dot products: inputs `[u0, v0, u1, v1, ...]`, each
 * [rows, d_i] → Σ_i ⟨u_i, v_i⟩ as [rows, 1].
 */
export class FfmDot extends layers.Layer {
  static readonly className = 'MonolithFfmDot';

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const all = shapes(inputShape);
    if (all.length % 2 !== 0) throw new ConfigError(`FfmDot: needs pairs of inputs, got ${all.length}`);
    return [all[0]![0] ?? null, 1];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const xs = Array.isArray(inputs) ? inputs : [inputs];
      const dots: tf.Tensor[] = [];
      for (let i = 0; i + 1 < xs.length; i += 2) dots.push(tf.sum(tf.mul(xs[i]!, xs[i + 1]!), 1, true));
      return dots.length === 1 ? dots[0]! : tf.addN(dots);
    });
  }
}

for (const cls of [EmbeddingSlice, StackEmbeddings, ReduceSum, FmInteraction, MeanOverIds, FfmDot]) {
  tf.serialization.registerClass(cls as unknown as tf.serialization.SerializableConstructor<tf.serialization.Serializable>);
}
