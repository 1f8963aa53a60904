import type { tensorflow } from '../../proto.js';

/** Bucket edges growing by 10% from 1e-12 to 1e20, mirrored for negatives (TensorFlow's default histogram layout). */
const POSITIVE_LIMITS: number[] = (() => {
  const out: number[] = [];
  for (let v = 1e-12; v < 1e20; v *= 1.1) out.push(v);
  return out;
})();
const LIMITS = [...POSITIVE_LIMITS.map((v) => -v).reverse(), 0, ...POSITIVE_LIMITS, Number.MAX_VALUE];

/** Index of the first limit ≥ v. */
function bucketOf(v: number): number {
  let lo = 0;
  let hi = LIMITS.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (LIMITS[mid]! < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * A HistogramProto of `values`: min, max, count, sum, sum of squares and the
 * counts of the non-empty buckets with their upper limits.
 */
export function histogramOf(values: ArrayLike<number>): tensorflow.IHistogramProto {
  const counts = new Map<number, number>();
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let sumSquares = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) continue;
    min = Math.min(min, v);
    max = Math.max(max, v);
    sum += v;
    sumSquares += v * v;
    const b = bucketOf(v);
    counts.set(b, (counts.get(b) ?? 0) + 1);
  }
  const buckets = [...counts.keys()].sort((a, b) => a - b);
  const num = buckets.reduce((n, b) => n + counts.get(b)!, 0);
  return {
    min: num ? min : 0,
    max: num ? max : 0,
    num,
    sum,
    sumSquares,
    bucketLimit: buckets.map((b) => LIMITS[b]!),
    bucket: buckets.map((b) => counts.get(b)!),
  };
}
