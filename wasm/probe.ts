// The smallest module: proves the build (SIMD, atomics, imported shared memory) on this machine.

/** y[i] += a * x[i] for n floats at byte addresses x and y. */
export function axpy(x: usize, y: usize, n: i32, a: f32): void {
  const va = f32x4.splat(a);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = (<usize>i) << 2;
    v128.store(y + o, f32x4.add(v128.load(y + o), f32x4.mul(va, v128.load(x + o))));
  }
  for (; i < n; i++) {
    const o = (<usize>i) << 2;
    store<f32>(y + o, load<f32>(y + o) + a * load<f32>(x + o));
  }
}

/** Compare-and-swap of the int32 at p from 0 to 1; returns the old value. */
export function tryLock(p: usize): i32 {
  return atomic.cmpxchg<i32>(p, 0, 1);
}
