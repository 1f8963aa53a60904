import '@tensorflow/tfjs-backend-cpu';
import type { ExecutionContext } from 'ava';
import { tf, type Tensor } from '../../src/nn/tf.js';

/** Deterministic float32 CPU backend for every nn test. */
export async function useCpu(): Promise<void> {
  await tf.setBackend('cpu');
}

export const ln = Math.log;
export const num = (t: Tensor): number => (t.dataSync() as Float32Array)[0]!;

/** Asserts |actual - expected| <= tol * max(1, |expected|), element-wise. */
export function near(t: ExecutionContext, actual: number | ArrayLike<number> | Tensor | unknown[], expected: number | ArrayLike<number> | unknown[], tol = 1e-5, msg = ''): void {
  const a = flat(actual instanceof tf.Tensor ? Array.from(actual.dataSync() as Float32Array) : actual);
  const e = flat(expected);
  t.is(a.length, e.length, `${msg} length`);
  for (let i = 0; i < e.length; i++) {
    if (!(Math.abs(a[i]! - e[i]!) <= tol * Math.max(1, Math.abs(e[i]!)))) {
      t.fail(`${msg} [${i}]: ${a[i]} vs expected ${e[i]} (all: ${JSON.stringify(a)} vs ${JSON.stringify(e)})`);
      return;
    }
  }
  t.pass();
}

function flat(x: unknown): number[] {
  if (typeof x === 'number') return [x];
  if (ArrayBuffer.isView(x)) return Array.from(x as unknown as ArrayLike<number>);
  return (Array.from(x as ArrayLike<unknown>)).flatMap(flat);
}

/** Central finite differences of a scalar function of one float tensor (float64 steps on float32 data: use a coarse eps). */
export function numericGrad(f: (x: Tensor) => Tensor, x0: number[][], eps = 1e-2): number[][] {
  return x0.map((row, i) =>
    row.map((_, j) => {
      const plus = x0.map((r) => [...r]);
      const minus = x0.map((r) => [...r]);
      plus[i]![j]! += eps;
      minus[i]![j]! -= eps;
      const fp = tf.tidy(() => num(f(tf.tensor2d(plus))));
      const fm = tf.tidy(() => num(f(tf.tensor2d(minus))));
      return (fp - fm) / (2 * eps);
    }),
  );
}
