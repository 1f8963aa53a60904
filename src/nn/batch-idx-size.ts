import { ConfigError } from '../errors.js';
import { tf, type Tensor, type Tensor1D, type Tensor2D } from './tf.js';

export interface BatchIdxSize {
  /** [num_lists, max_list_size]: each example's logit at (its list, its position in the list); padding 0. */
  logitsIdx: Tensor2D;
  /** The same layout for labels, minus 1e-6 everywhere, so padding (0 - 1e-6) reads as an invalid label. */
  labelIdx: Tensor2D;
  /** [batch_size, batch_size]: 1 at each example's (list, position), 0 elsewhere. */
  maskIdx: Tensor2D;
  /** [num_lists] int32: the first example of each list. */
  uniqueIdx: Tensor1D;
}

/**
 * `get_batch_idx_size`: groups a flat batch of examples into lists by
 * `rankId` (lists numbered in order of first appearance, examples keep their
 * batch order inside a list) and lays logits and labels out as a padded
 * [num_lists, max_list_size] grid, as Monolith's ltr_losses does.
 * Differentiable in `logits`. `namePrefix` only named TF ops; it is accepted for parity.
 */
export function getBatchIdxSize(logits: Tensor | number[], labels: Tensor | number[], rankId: Tensor | ArrayLike<number | string | bigint>, namePrefix = ''): BatchIdxSize {
  void namePrefix;
  const ids: unknown[] = rankId instanceof tf.Tensor ? Array.from(rankId.dataSync() as ArrayLike<unknown>) : Array.from(rankId as ArrayLike<unknown>);
  const lg = logits instanceof tf.Tensor ? logits : tf.tensor1d(logits, 'float32');
  const lb = labels instanceof tf.Tensor ? labels : tf.tensor1d(labels, 'float32');
  const batch = ids.length;
  if (lg.rank !== 1 || lg.shape[0] !== batch || lb.rank !== 1 || lb.shape[0] !== batch) {
    throw new ConfigError(`get_batch_idx_size: logits [${lg.shape.join(', ')}] and labels [${lb.shape.join(', ')}] must both be [${batch}] like rank_id`);
  }
  const listOf = new Map<unknown, number>();
  const row: number[] = [];
  const col: number[] = [];
  const counts: number[] = [];
  const first: number[] = [];
  ids.forEach((id, b) => {
    let u = listOf.get(id);
    if (u === undefined) {
      u = counts.length;
      listOf.set(id, u);
      counts.push(0);
      first.push(b);
    }
    row.push(u);
    col.push(counts[u]!++);
  });
  const lists = counts.length;
  const maxCount = lists ? Math.max(...counts) : 0;
  // Gather from [values..., 0] so padding cells read the trailing zero and gradients reach the logits.
  const source = new Int32Array(lists * maxCount).fill(batch);
  row.forEach((u, b) => (source[u * maxCount + col[b]!] = b));
  return tf.tidy(() => {
    const pick = (v: Tensor) => tf.reshape(tf.gather(tf.concat([tf.cast(v, 'float32'), tf.zeros([1])]), tf.tensor1d(source, 'int32')), [lists, maxCount]) as Tensor2D;
    const mask = new Float32Array(batch * batch);
    row.forEach((u, b) => (mask[u * batch + col[b]!] = 1));
    return {
      logitsIdx: pick(lg),
      labelIdx: tf.sub(pick(lb), 1e-6) as Tensor2D,
      maskIdx: tf.tensor2d(mask, [batch, batch]),
      uniqueIdx: tf.tensor1d(first, 'int32'),
    };
  });
}
