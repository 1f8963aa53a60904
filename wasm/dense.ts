// Dense-layer kernels over one shared memory: fp32 GEMM with f32x4 register
// blocking, bias + activation, their backward, column sums and a transpose.
// Every pointer is a byte address; every matrix is row-major.

/**
 * C[M,N] = (acc ? C : 0) + A·B over K, where A's element (i, p) is at
 * a + 4·(i·ars + p·aps) (so A may be read transposed), B's element (p, j) at
 * b + 4·(p·ldb + j) and C's (i, j) at c + 4·(i·ldc + j). Blocks of 4 rows ×
 * 8 columns keep 8 f32x4 accumulators in registers.
 */
export function gemm(a: usize, ars: i32, aps: i32, b: usize, ldb: i32, c: usize, ldc: i32, M: i32, N: i32, K: i32, acc: i32): void {
  const ar = <usize>ars << 2;
  const ap = <usize>aps << 2;
  const bs = <usize>ldb << 2;
  const cs = <usize>ldc << 2;
  let i = 0;
  for (; i + 4 <= M; i += 4) {
    const a0 = a + <usize>i * ar;
    const c0 = c + <usize>i * cs;
    let j = 0;
    for (; j + 8 <= N; j += 8) block4x8(a0, ar, ap, b + (<usize>j << 2), bs, c0 + (<usize>j << 2), cs, K, acc);
    for (; j + 4 <= N; j += 4) block4x4(a0, ar, ap, b + (<usize>j << 2), bs, c0 + (<usize>j << 2), cs, K, acc);
    for (; j < N; j++) for (let r = 0; r < 4; r++) dot1(a0 + <usize>r * ar, ap, b + (<usize>j << 2), bs, c0 + <usize>r * cs + (<usize>j << 2), K, acc);
  }
  for (; i < M; i++) {
    const a0 = a + <usize>i * ar;
    const c0 = c + <usize>i * cs;
    let j = 0;
    for (; j + 4 <= N; j += 4) block1x4(a0, ap, b + (<usize>j << 2), bs, c0 + (<usize>j << 2), K, acc);
    for (; j < N; j++) dot1(a0, ap, b + (<usize>j << 2), bs, c0 + (<usize>j << 2), K, acc);
  }
}

// @ts-ignore: decorator
@inline function block4x8(a: usize, ar: usize, ap: usize, b: usize, bs: usize, c: usize, cs: usize, K: i32, acc: i32): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  let pa = a;
  let pb = b;
  const a1 = ar, a2 = ar << 1, a3 = ar * 3;
  for (let p = 0; p < K; p++) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    let x = v128.load32_splat(pa);
    c00 = f32x4.add(c00, f32x4.mul(x, b0));
    c01 = f32x4.add(c01, f32x4.mul(x, b1));
    x = v128.load32_splat(pa + a1);
    c10 = f32x4.add(c10, f32x4.mul(x, b0));
    c11 = f32x4.add(c11, f32x4.mul(x, b1));
    x = v128.load32_splat(pa + a2);
    c20 = f32x4.add(c20, f32x4.mul(x, b0));
    c21 = f32x4.add(c21, f32x4.mul(x, b1));
    x = v128.load32_splat(pa + a3);
    c30 = f32x4.add(c30, f32x4.mul(x, b0));
    c31 = f32x4.add(c31, f32x4.mul(x, b1));
    pa += ap;
    pb += bs;
  }
  if (acc) {
    c00 = f32x4.add(c00, v128.load(c)); c01 = f32x4.add(c01, v128.load(c, 16));
    c10 = f32x4.add(c10, v128.load(c + cs)); c11 = f32x4.add(c11, v128.load(c + cs, 16));
    c20 = f32x4.add(c20, v128.load(c + 2 * cs)); c21 = f32x4.add(c21, v128.load(c + 2 * cs, 16));
    c30 = f32x4.add(c30, v128.load(c + 3 * cs)); c31 = f32x4.add(c31, v128.load(c + 3 * cs, 16));
  }
  v128.store(c, c00); v128.store(c, c01, 16);
  v128.store(c + cs, c10); v128.store(c + cs, c11, 16);
  v128.store(c + 2 * cs, c20); v128.store(c + 2 * cs, c21, 16);
  v128.store(c + 3 * cs, c30); v128.store(c + 3 * cs, c31, 16);
}

// @ts-ignore: decorator
@inline function block4x4(a: usize, ar: usize, ap: usize, b: usize, bs: usize, c: usize, cs: usize, K: i32, acc: i32): void {
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
  let pa = a;
  let pb = b;
  for (let p = 0; p < K; p++) {
    const b0 = v128.load(pb);
    c0 = f32x4.add(c0, f32x4.mul(v128.load32_splat(pa), b0));
    c1 = f32x4.add(c1, f32x4.mul(v128.load32_splat(pa + ar), b0));
    c2 = f32x4.add(c2, f32x4.mul(v128.load32_splat(pa + 2 * ar), b0));
    c3 = f32x4.add(c3, f32x4.mul(v128.load32_splat(pa + 3 * ar), b0));
    pa += ap;
    pb += bs;
  }
  if (acc) {
    c0 = f32x4.add(c0, v128.load(c)); c1 = f32x4.add(c1, v128.load(c + cs));
    c2 = f32x4.add(c2, v128.load(c + 2 * cs)); c3 = f32x4.add(c3, v128.load(c + 3 * cs));
  }
  v128.store(c, c0); v128.store(c + cs, c1); v128.store(c + 2 * cs, c2); v128.store(c + 3 * cs, c3);
}

// @ts-ignore: decorator
@inline function block1x4(a: usize, ap: usize, b: usize, bs: usize, c: usize, K: i32, acc: i32): void {
  let c0 = f32x4.splat(0);
  let pa = a;
  let pb = b;
  for (let p = 0; p < K; p++) {
    c0 = f32x4.add(c0, f32x4.mul(v128.load32_splat(pa), v128.load(pb)));
    pa += ap;
    pb += bs;
  }
  if (acc) c0 = f32x4.add(c0, v128.load(c));
  v128.store(c, c0);
}

// @ts-ignore: decorator
@inline function dot1(a: usize, ap: usize, b: usize, bs: usize, c: usize, K: i32, acc: i32): void {
  let s: f32 = acc ? load<f32>(c) : 0;
  let pa = a;
  let pb = b;
  for (let p = 0; p < K; p++) {
    s += load<f32>(pa) * load<f32>(pb);
    pa += ap;
    pb += bs;
  }
  store<f32>(c, s);
}

/**
 * e^x for the activations, by range reduction to 2^n · e^r with |r| ≤ ln2/2
 * and a degree-6 polynomial (relative error ~1e-7). Computed without tables:
 * the module has no data segment, so instantiating it in a thread never
 * writes to the shared memory (which holds the dense weights from byte 0).
 */
// @ts-ignore: decorator
@inline function expf(x: f32): f32 {
  x = Mathf.min(Mathf.max(x, -87), 88);
  const n = Mathf.floor(x * <f32>1.4426950408889634 + <f32>0.5);
  const r = x - n * <f32>0.693145751953125 - n * <f32>1.428606765330187e-6;
  const p = <f32>1 + r * (<f32>1 + r * (<f32>0.5 + r * (<f32>0.16666667 + r * (<f32>0.041666668 + r * (<f32>0.008333334 + r * <f32>0.0013888889)))));
  return p * reinterpret<f32>((<i32>n + 127) << 23);
}

/** Activations, as numbered by the host: 0 linear, 1 relu, 2 sigmoid, 3 tanh. */
const RELU = 1;
const SIGMOID = 2;
const TANH = 3;

/** y[M,N] = act(y + bias) in place; bias (N floats) is skipped when its address is 0. */
export function biasAct(y: usize, bias: usize, M: i32, N: i32, act: i32): void {
  const zero = f32x4.splat(0);
  for (let i = 0; i < M; i++) {
    const row = y + ((<usize>i * <usize>N) << 2);
    let j = 0;
    if (bias != 0) {
      for (; j + 4 <= N; j += 4) {
        const o = <usize>j << 2;
        v128.store(row + o, f32x4.add(v128.load(row + o), v128.load(bias + o)));
      }
      for (; j < N; j++) {
        const o = <usize>j << 2;
        store<f32>(row + o, load<f32>(row + o) + load<f32>(bias + o));
      }
    }
    if (act == RELU) {
      j = 0;
      for (; j + 4 <= N; j += 4) {
        const o = <usize>j << 2;
        v128.store(row + o, f32x4.max(v128.load(row + o), zero));
      }
      for (; j < N; j++) {
        const o = <usize>j << 2;
        const v = load<f32>(row + o);
        store<f32>(row + o, v > 0 ? v : 0);
      }
    } else if (act == SIGMOID) {
      for (j = 0; j < N; j++) {
        const o = <usize>j << 2;
        store<f32>(row + o, <f32>1 / (<f32>1 + expf(-load<f32>(row + o))));
      }
    } else if (act == TANH) {
      for (j = 0; j < N; j++) {
        const o = <usize>j << 2;
        store<f32>(row + o, <f32>1 - <f32>2 / (expf(<f32>2 * load<f32>(row + o)) + <f32>1));
      }
    }
  }
}

/** dy[n] *= act'(x) written through the output y (relu: y > 0; sigmoid: y(1 − y); tanh: 1 − y²), n floats, in place. */
export function actGrad(dy: usize, y: usize, n: i32, act: i32): void {
  let i = 0;
  if (act == RELU) {
    const zero = f32x4.splat(0);
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      v128.store(dy + o, v128.and(v128.load(dy + o), f32x4.gt(v128.load(y + o), zero)));
    }
    for (; i < n; i++) {
      const o = <usize>i << 2;
      if (!(load<f32>(y + o) > 0)) store<f32>(dy + o, 0);
    }
  } else if (act == SIGMOID) {
    const one = f32x4.splat(1);
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      const v = v128.load(y + o);
      v128.store(dy + o, f32x4.mul(v128.load(dy + o), f32x4.mul(v, f32x4.sub(one, v))));
    }
    for (; i < n; i++) {
      const o = <usize>i << 2;
      const v = load<f32>(y + o);
      store<f32>(dy + o, load<f32>(dy + o) * v * (1 - v));
    }
  } else if (act == TANH) {
    const one = f32x4.splat(1);
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      const v = v128.load(y + o);
      v128.store(dy + o, f32x4.mul(v128.load(dy + o), f32x4.sub(one, f32x4.mul(v, v))));
    }
    for (; i < n; i++) {
      const o = <usize>i << 2;
      const v = load<f32>(y + o);
      store<f32>(dy + o, load<f32>(dy + o) * (1 - v * v));
    }
  }
}

/** out[N] = Σ_i x[i, :] over M rows. */
export function colSum(x: usize, out: usize, M: i32, N: i32): void {
  memory.fill(out, 0, <usize>N << 2);
  for (let i = 0; i < M; i++) {
    addInto(out, x + ((<usize>i * <usize>N) << 2), N);
  }
}

/** dst[C,R] = src[R,C]ᵀ. */
export function transpose(src: usize, dst: usize, R: i32, C: i32): void {
  for (let i = 0; i < R; i++) {
    const row = src + ((<usize>i * <usize>C) << 2);
    for (let j = 0; j < C; j++) store<f32>(dst + ((<usize>j * <usize>R + <usize>i) << 2), load<f32>(row + (<usize>j << 2)));
  }
}

/** y[n] += x[n]. */
export function addInto(y: usize, x: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(y + o, f32x4.add(v128.load(y + o), v128.load(x + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(y + o, load<f32>(y + o) + load<f32>(x + o));
  }
}

/**
 * `rows` rows of `width` floats from a strided source into a strided
 * destination (strides in floats): copied (acc 0) or added (acc 1). Concat and
 * slice, forward and backward, in one call per part instead of one per row.
 */
export function copyRows(src: usize, srcStride: i32, dst: usize, dstStride: i32, rows: i32, width: i32, acc: i32): void {
  const sb = <usize>srcStride << 2;
  const db = <usize>dstStride << 2;
  const wb = <usize>width << 2;
  for (let r = 0; r < rows; r++) {
    const s = src + <usize>r * sb;
    const d = dst + <usize>r * db;
    if (acc == 0) memory.copy(d, s, wb);
    else addInto(d, s, width);
  }
}
