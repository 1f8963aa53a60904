import { ConfigError } from '../../errors.js';

/** Running (weighted) mean squared error, as tf.metrics.mean_squared_error accumulates it. */
export class StreamingMse {
  private sum = 0;
  private weight = 0;

  update(labels: ArrayLike<number>, preds: ArrayLike<number>, weights?: ArrayLike<number>): void {
    if (labels.length !== preds.length || (weights && weights.length !== preds.length)) {
      throw new ConfigError(`StreamingMse: ${labels.length} labels, ${preds.length} predictions${weights ? `, ${weights.length} weights` : ''}`);
    }
    for (let i = 0; i < preds.length; i++) {
      const w = weights ? weights[i]! : 1;
      const d = preds[i]! - labels[i]!;
      this.sum += w * d * d;
      this.weight += w;
    }
  }

  /** 0 before anything was seen (TF's div_no_nan). */
  result(): number {
    return this.weight > 0 ? this.sum / this.weight : 0;
  }

  reset(): void {
    this.sum = 0;
    this.weight = 0;
  }
}
