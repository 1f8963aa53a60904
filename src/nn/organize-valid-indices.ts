import { rngOf, type RandomSource } from './seeded-rng.js';
import { argsortDesc, toMatrix } from './matrix.js';
import { tf, type Tensor, type Tensor3D } from './tf.js';

export interface OrganizeValidIndicesOptions {
  /** Shuffle the valid items (default true); false keeps their original order. */
  shuffle?: boolean;
  /** Seed of the shuffle, or a generator to draw from (advanced by each call). Default: unseeded. */
  seed?: RandomSource;
}

/** Per-row column order that puts the valid entries first (shuffled or in their order), invalid ones after, in their order. */
export function organizeValidOrder(isValid: boolean[][], opts: OrganizeValidIndicesOptions = {}): number[][] {
  const shuffle = opts.shuffle ?? true;
  const rng = shuffle ? rngOf(opts.seed) : undefined;
  return isValid.map((row) => {
    const n = row.length;
    // As TF: valid items get a uniform [0, 1) key (or n-1-i to keep their order), invalid ones -1e-6; sort descending.
    const keys = row.map((v, i) => (v ? (rng ? rng.float() : n - 1 - i) : -1e-6));
    return argsortDesc(keys);
  });
}

function toBoolMatrix(isValid: Tensor | boolean[][]): boolean[][] {
  if (isValid instanceof tf.Tensor) return (toMatrix(isValid, 'is_valid') as unknown as (number | boolean)[][]).map((r) => r.map(Boolean));
  return toMatrix(isValid as unknown as number[][], 'is_valid').map((r) => r.map(Boolean));
}

/**
 * `organize_valid_indices`: [batch_size, list_size, 2] int32 (batch, index)
 * pairs, for `tf.gatherND` / `tf.scatterND`, that list the valid entries of
 * each row first. The shuffle draws from the project's seeded Rng, not TF's
 * Philox stream: a given seed is reproducible here but does not give TF's permutation.
 */
export function organizeValidIndices(isValid: Tensor | boolean[][], opts: OrganizeValidIndicesOptions = {}): Tensor3D {
  const order = organizeValidOrder(toBoolMatrix(isValid), opts);
  const b = order.length;
  const l = order[0]?.length ?? 0;
  const out = new Int32Array(b * l * 2);
  order.forEach((row, i) => row.forEach((j, c) => {
    out[(i * l + c) * 2] = i;
    out[(i * l + c) * 2 + 1] = j;
  }));
  return tf.tensor3d(out, [b, l, 2], 'int32');
}

/** `shuffle_valid_indices`: organizeValidIndices with the valid entries shuffled. */
export function shuffleValidIndices(isValid: Tensor | boolean[][], seed?: RandomSource): Tensor3D {
  return organizeValidIndices(isValid, { shuffle: true, seed });
}
