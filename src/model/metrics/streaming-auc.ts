import { ConfigError } from '../../errors.js';

/**
 * Exact ROC AUC over everything seen so far (tf.metrics.auc approximates it
 * with 200 thresholds; this sorts). A label counts as positive when it is
 * non-zero, as TF casts labels to bool. Ties between a positive and a
 * negative count one half.
 */
export class StreamingAuc {
  private preds = new Float64Array(1024);
  private labels = new Uint8Array(1024);
  private weights = new Float64Array(1024);
  private n = 0;

  get count(): number {
    return this.n;
  }

  update(labels: ArrayLike<number>, preds: ArrayLike<number>, weights?: ArrayLike<number>): void {
    if (labels.length !== preds.length || (weights && weights.length !== preds.length)) {
      throw new ConfigError(`StreamingAuc: ${labels.length} labels, ${preds.length} predictions${weights ? `, ${weights.length} weights` : ''}`);
    }
    this.reserve(this.n + preds.length);
    for (let i = 0; i < preds.length; i++) {
      this.preds[this.n] = preds[i]!;
      this.labels[this.n] = labels[i] !== 0 ? 1 : 0;
      this.weights[this.n] = weights ? weights[i]! : 1;
      this.n++;
    }
  }

  private reserve(cap: number): void {
    if (cap <= this.preds.length) return;
    const size = Math.max(cap, this.preds.length * 2);
    const grow = <T extends Float64Array | Uint8Array>(a: T, make: (n: number) => T): T => {
      const b = make(size);
      b.set(a.subarray(0, this.n) as never);
      return b;
    };
    this.preds = grow(this.preds, (k) => new Float64Array(k));
    this.labels = grow(this.labels, (k) => new Uint8Array(k));
    this.weights = grow(this.weights, (k) => new Float64Array(k));
  }

  /** AUC in [0, 1]; NaN while only one class has been seen. */
  result(): number {
    const order = Array.from({ length: this.n }, (_, i) => i).sort((a, b) => this.preds[a]! - this.preds[b]!);
    let negBelow = 0;
    let pos = 0;
    let neg = 0;
    let area = 0;
    for (let i = 0; i < order.length; ) {
      let j = i;
      let tiePos = 0;
      let tieNeg = 0;
      while (j < order.length && this.preds[order[j]!] === this.preds[order[i]!]) {
        const k = order[j]!;
        if (this.labels[k]) tiePos += this.weights[k]!;
        else tieNeg += this.weights[k]!;
        j++;
      }
      area += tiePos * (negBelow + 0.5 * tieNeg);
      negBelow += tieNeg;
      pos += tiePos;
      neg += tieNeg;
      i = j;
    }
    return pos > 0 && neg > 0 ? area / (pos * neg) : NaN;
  }

  reset(): void {
    this.n = 0;
  }
}
