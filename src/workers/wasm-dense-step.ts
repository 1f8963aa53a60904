import { instantiateWasm } from '../util/wasm-module.js';
import type { SharedDenseParams } from './shared-dense-params.js';
import type { DensePlan } from './wasm-dense-plan.js';

interface DenseKernels extends WebAssembly.Exports {
  gemm(a: number, ars: number, aps: number, b: number, ldb: number, c: number, ldc: number, M: number, N: number, K: number, acc: number): void;
  biasAct(y: number, bias: number, M: number, N: number, act: number): void;
  actGrad(dy: number, y: number, n: number, act: number): void;
  colSum(x: number, out: number, M: number, N: number): void;
  transpose(src: number, dst: number, R: number, C: number): void;
  addInto(y: number, x: number, n: number): void;
  copyRows(src: number, srcStride: number, dst: number, dstStride: number, rows: number, width: number, acc: number): void;
}

const PAGE = 65536;
const align = (n: number): number => (n + 15) & ~15;

/**
 * Runs a DensePlan forward and backward with the wasm kernels of
 * wasm/dense.ts. The weights are read in place from the shared dense
 * parameters' WebAssembly memory; activations, gradients and a transposed
 * kernel live in this thread's own region of that memory (grown once per
 * larger batch, never shared with another thread).
 */
export class WasmDenseStep {
  private readonly k: DenseKernels;
  private rowsCap = 0;
  /** Byte addresses per op: value and gradient (0 when not kept). */
  private val: number[] = [];
  private grad: number[] = [];
  private gradW: number[] = [];
  private wt = 0;
  private rows = 0;

  /** `inputWidths`: the width of every model input. */
  constructor(private readonly plan: DensePlan, private readonly dense: SharedDenseParams, private readonly memory: WebAssembly.Memory, private readonly inputWidths: readonly number[]) {
    this.k = instantiateWasm<DenseKernels>('dense', memory);
  }

  /** The width of each model output. */
  get outputWidths(): number[] {
    return this.plan.outputs.map((o) => this.plan.ops[o]!.width);
  }

  private f32(addr: number, n: number): Float32Array {
    return new Float32Array(this.memory.buffer, addr, n);
  }

  /** Lays out this thread's region for batches of up to `rows` rows. */
  private ensure(rows: number): void {
    if (this.val.length > 0 && rows <= this.rowsCap) return;
    const cap = Math.max(rows, 2 * this.rowsCap, 64);
    const { ops, needsGrad } = this.plan;
    let bytes = 0;
    const take = (floats: number): number => {
      const at = bytes;
      bytes += align(floats * 4);
      return at;
    };
    const val = ops.map((op) => (op.kind === 'identity' ? -1 : take(cap * op.width)));
    const grad = ops.map((op, i) => (op.kind === 'identity' || !needsGrad[i] ? -1 : take(cap * op.width)));
    const gradW = this.dense.params.map((p) => take(p.shape.reduce((a, b) => a * b, 1)));
    const wt = take(Math.max(0, ...ops.map((op) => (op.kind === 'dense' ? op.width * op.inWidth : 0))));
    const base = this.memory.grow(Math.ceil(bytes / PAGE)) * PAGE;
    ops.forEach((op, i) => {
      // A flatten of a 2-D value is that value (and its gradient).
      val[i] = op.kind === 'identity' ? val[op.src]! : base + val[i]!;
      grad[i] = op.kind === 'identity' ? grad[op.src]! : grad[i]! < 0 ? 0 : base + grad[i]!;
    });
    this.val = val;
    this.grad = grad;
    this.gradW = gradW.map((g) => base + g);
    this.wt = base + wt;
    this.rowsCap = cap;
  }

  /** Runs the model on `inputs` (one [rows, width] array per model input); returns the outputs (views, valid until the next call). */
  forward(inputs: readonly Float32Array[], rows: number): Float32Array[] {
    this.ensure(rows);
    this.rows = rows;
    const { ops, outputs } = this.plan;
    const k = this.k;
    ops.forEach((op, i) => {
      const out = this.val[i]!;
      switch (op.kind) {
        case 'input':
          this.f32(out, rows * op.width).set(inputs[op.input]!.subarray(0, rows * op.width));
          break;
        case 'dense':
          k.gemm(this.val[op.src]!, op.inWidth, 1, this.dense.weightAddress(op.kernel), op.width, out, op.width, rows, op.width, op.inWidth, 0);
          k.biasAct(out, op.bias < 0 ? 0 : this.dense.weightAddress(op.bias), rows, op.width, op.act);
          break;
        case 'concat': {
          let off = 0;
          for (const s of op.srcs) {
            const w = ops[s]!.width;
            k.copyRows(this.val[s]!, w, out + off * 4, op.width, rows, w, 0);
            off += w;
          }
          break;
        }
        case 'add':
          this.f32(out, rows * op.width).set(this.f32(this.val[op.srcs[0]!]!, rows * op.width));
          for (const s of op.srcs.slice(1)) k.addInto(out, this.val[s]!, rows * op.width);
          break;
        case 'activation':
          this.f32(out, rows * op.width).set(this.f32(this.val[op.src]!, rows * op.width));
          k.biasAct(out, 0, rows, op.width, op.act);
          break;
        case 'slice':
          k.copyRows(this.val[op.src]! + op.start * 4, ops[op.src]!.width, out, op.width, rows, op.width, 0);
          break;
        case 'reduceSum': {
          const w = ops[op.src]!.width;
          const src = this.f32(this.val[op.src]!, rows * w);
          const dst = this.f32(out, rows);
          for (let r = 0; r < rows; r++) {
            let t = 0;
            for (let c = r * w; c < r * w + w; c++) t += src[c]!;
            dst[r] = t;
          }
          break;
        }
        case 'fm':
          this.fm(op.src, out, rows, false);
          break;
        case 'identity':
          break;
      }
    });
    return outputs.map((o) => this.f32(this.val[o]!, rows * ops[o]!.width));
  }

  /**
   * The FM term of op `src` ([rows, f, d]) into `out` (forward), or — with
   * `backward` — its gradient from the output gradient at `out`:
   * ∂/∂v_fk = g · (Σ_f' v_f'k − v_fk), added to src's gradient.
   */
  private fm(src: number, out: number, rows: number, backward: boolean): void {
    const op = this.plan.ops[src]!;
    const f = op.fields!;
    const d = op.width / f;
    const v = this.f32(this.val[src]!, rows * op.width);
    const o = this.f32(out, rows);
    const gv = backward ? this.f32(this.grad[src]!, rows * op.width) : undefined;
    const sum = new Float32Array(d);
    for (let r = 0; r < rows; r++) {
      const base = r * op.width;
      sum.fill(0);
      let sq = 0;
      for (let i = 0; i < f; i++) {
        for (let k = 0; k < d; k++) {
          const x = v[base + i * d + k]!;
          sum[k] += x;
          sq += x * x;
        }
      }
      if (!gv) {
        let ss = 0;
        for (let k = 0; k < d; k++) ss += sum[k]! * sum[k]!;
        o[r] = 0.5 * (ss - sq);
        continue;
      }
      const g = o[r]!;
      for (let i = 0; i < f; i++) for (let k = 0; k < d; k++) gv[base + i * d + k] += g * (sum[k]! - v[base + i * d + k]!);
    }
  }

  /**
   * Back-propagates the gradients of the loss with respect to the outputs of
   * the last forward. Returns the gradient of every trainable weight (in
   * the model's order) and of every pooled input (views, valid until the next call).
   */
  backward(outputGrads: readonly Float32Array[], pooledInputs: number): { dense: Float32Array[]; pooled: Float32Array[] } {
    const { ops, outputs, needsGrad } = this.plan;
    const rows = this.rows;
    const k = this.k;
    ops.forEach((op, i) => {
      if (op.kind !== 'identity' && needsGrad[i]) this.f32(this.grad[i]!, rows * op.width).fill(0);
    });
    outputs.forEach((o, j) => {
      const g = this.f32(this.grad[o]!, rows * ops[o]!.width);
      const d = outputGrads[j]!;
      for (let x = 0; x < g.length; x++) g[x] += d[x]!;
    });
    for (let i = ops.length - 1; i >= 0; i--) {
      const op = ops[i]!;
      const g = this.grad[i]!;
      switch (op.kind) {
        case 'dense': {
          const N = op.width;
          const K = op.inWidth;
          const x = this.val[op.src]!;
          k.actGrad(g, this.val[i]!, rows * N, op.act);
          const dW = this.gradW[op.kernel]!;
          // dW[K,N] = xᵀ·dZ; for one unit, as dZᵀ·x (same layout, contiguous reads).
          if (N === 1) k.gemm(g, 0, 1, x, K, dW, K, 1, K, rows, 0);
          else k.gemm(x, 1, K, g, N, dW, N, K, N, rows, 0);
          if (op.bias >= 0) k.colSum(g, this.gradW[op.bias]!, rows, N);
          if (needsGrad[op.src]) {
            k.transpose(this.dense.weightAddress(op.kernel), this.wt, K, N);
            k.gemm(g, N, 1, this.wt, K, this.grad[op.src]!, K, rows, K, N, 1);
          }
          break;
        }
        case 'concat': {
          let off = 0;
          for (const s of op.srcs) {
            const w = ops[s]!.width;
            if (needsGrad[s]) k.copyRows(g + off * 4, op.width, this.grad[s]!, w, rows, w, 1);
            off += w;
          }
          break;
        }
        case 'add':
          for (const s of op.srcs) if (needsGrad[s]) k.addInto(this.grad[s]!, g, rows * op.width);
          break;
        case 'activation':
          if (!needsGrad[op.src]) break;
          k.actGrad(g, this.val[i]!, rows * op.width, op.act);
          k.addInto(this.grad[op.src]!, g, rows * op.width);
          break;
        case 'slice':
          if (needsGrad[op.src]) k.copyRows(g, op.width, this.grad[op.src]! + op.start * 4, ops[op.src]!.width, rows, op.width, 1);
          break;
        case 'reduceSum': {
          if (!needsGrad[op.src]) break;
          const w = ops[op.src]!.width;
          const src = this.f32(g, rows);
          const dst = this.f32(this.grad[op.src]!, rows * w);
          for (let r = 0; r < rows; r++) for (let c = r * w; c < r * w + w; c++) dst[c] += src[r]!;
          break;
        }
        case 'fm':
          if (needsGrad[op.src]) this.fm(op.src, g, rows, true);
          break;
        case 'input':
        case 'identity':
          break;
      }
    }
    const dense = this.dense.params.map((p, i) => this.f32(this.gradW[i]!, p.shape.reduce((a, b) => a * b, 1)));
    const pooled: (Float32Array | undefined)[] = new Array(pooledInputs).fill(undefined);
    ops.forEach((op, i) => {
      if (op.kind === 'input' && op.input < pooledInputs) pooled[op.input] = this.f32(this.grad[i]!, rows * op.width);
    });
    // An input the outputs do not depend on has a zero gradient.
    return { dense, pooled: pooled.map((g, j) => g ?? new Float32Array(rows * this.inputWidths[j]!)) };
  }
}
