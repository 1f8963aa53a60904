import type { EntryConfig, SegmentConfig } from '../../src/hashtable/entry-config.js';
import type { OptimizerConfig } from '../../src/hashtable/optimizers/index.js';

/** Like Monolith's test_utils.generate_test_hash_table_config: one SGD segment, zeros init, fp32. */
export function testEntry(dim: number, opt: OptimizerConfig = { sgd: {} }): EntryConfig {
  const seg: SegmentConfig = { dimSize: dim, optConfig: opt, initConfig: { zeros: {} }, compConfig: { fp32: {} } };
  return { segments: [seg] };
}

/** A fake clock in seconds that tests move by hand. */
export function fakeClock(start = 1_700_000_000): { now: () => number; advance: (s: number) => void } {
  let t = start;
  return { now: () => t, advance: (s) => void (t += s) };
}

export const f32 = (xs: number[]): Float32Array => Float32Array.from(xs);
export const arr = (x: Float32Array | Int32Array): number[] => Array.from(x);

export function close(a: ArrayLike<number>, b: ArrayLike<number>, eps = 1e-5): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (Math.abs(a[i]! - b[i]!) > eps * Math.max(1, Math.abs(b[i]!))) return false;
  return true;
}
