import { ConfigError } from '../errors.js';
import { sharedWasmMemory } from '../util/wasm-module.js';
import { applyDenseUpdate, initSlots, slotCount, validateDenseOptimizer, type DenseOptimizerConfig } from './dense-optimizer.js';

export interface DenseParamSpec {
  name: string;
  shape: number[];
}

/** What a worker needs to attach to the dense parameters made elsewhere. */
export interface SharedDenseParamsHandle {
  params: DenseParamSpec[];
  optimizer: DenseOptimizerConfig;
  /** The state's bytes: the start of `memory` (when given), or a plain SharedArrayBuffer. */
  buffer: SharedArrayBuffer;
  /**
   * The shared WebAssembly memory holding `buffer` at byte 0, so the wasm
   * dense kernels read the weights in place. Absent in a handle made by hand
   * over a plain SharedArrayBuffer (then the dense step runs in tfjs).
   * Typed `object` to keep WebAssembly types out of the public API.
   */
  memory?: object;
}

/** Counters at the start of the buffer (int32): global step, dense updates applied. */
const HEADER_WORDS = 4;
const STEP = 0;
const UPDATES = 1;

const sizeOf = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);

/**
 * The dense parameters of a model in one SharedArrayBuffer, parameter-server
 * style: `[counters][weights of every param][optimizer slots of every param]`.
 * Every worker reads the current weights before its step and applies its
 * gradients in place afterwards, without locks (Hogwild, as Monolith's async
 * training does against its parameter servers): two workers may interleave
 * their updates of one weight; each update is still a whole float32 write.
 * For bit-reproducible runs keep one step in flight (the graph's
 * `deterministic` option). The buffer is the start of a shared WebAssembly
 * memory, which the wasm dense kernels of every thread read in place.
 */
export class SharedDenseParams {
  readonly weights: Float32Array[];
  readonly slots: Float32Array[][];
  private readonly counters: Int32Array;
  /** All weights as one view (checkpointing). */
  readonly flatWeights: Float32Array;
  /** Weights then slots, as one view. */
  readonly flatState: Float32Array;

  private constructor(readonly handle: SharedDenseParamsHandle) {
    const { params, optimizer, buffer } = handle;
    const k = slotCount(optimizer);
    const total = params.reduce((a, p) => a + sizeOf(p.shape), 0);
    const need = HEADER_WORDS * 4 + total * 4 * (1 + k);
    // A wasm memory's buffer is whole 64 KiB pages (and may have grown since): the state is its first `need` bytes.
    if (handle.memory ? buffer.byteLength < need : buffer.byteLength !== need) throw new ConfigError(`dense params: buffer has ${buffer.byteLength} bytes, the specs need ${need}`);
    this.counters = new Int32Array(buffer, 0, HEADER_WORDS);
    this.flatWeights = new Float32Array(buffer, HEADER_WORDS * 4, total);
    this.flatState = new Float32Array(buffer, HEADER_WORDS * 4, total * (1 + k));
    this.weights = [];
    this.slots = [];
    let at = 0;
    for (const p of params) {
      const n = sizeOf(p.shape);
      this.weights.push(this.flatWeights.subarray(at, at + n));
      this.slots.push(Array.from({ length: k }, (_, s) => this.flatState.subarray(total * (1 + s) + at, total * (1 + s) + at + n)));
      at += n;
    }
  }

  /** New shared parameters holding `initial` (one array per spec), optimizer slots freshly initialised. */
  static create(params: DenseParamSpec[], initial: ArrayLike<number>[], optimizer: DenseOptimizerConfig): SharedDenseParams {
    validateDenseOptimizer(optimizer);
    if (initial.length !== params.length) throw new ConfigError(`dense params: ${initial.length} initial arrays for ${params.length} params`);
    const total = params.reduce((a, p) => a + sizeOf(p.shape), 0);
    const memory = sharedWasmMemory(HEADER_WORDS * 4 + total * 4 * (1 + slotCount(optimizer)));
    const d = new SharedDenseParams({ params: params.map((p) => ({ name: p.name, shape: [...p.shape] })), optimizer, buffer: memory.buffer as SharedArrayBuffer, memory });
    params.forEach((p, i) => {
      if (initial[i]!.length !== sizeOf(p.shape)) throw new ConfigError(`dense param ${p.name}: ${initial[i]!.length} initial values for shape [${p.shape}]`);
      d.weights[i]!.set(initial[i]!);
      initSlots(optimizer, d.slots[i]!);
    });
    return d;
  }

  static attach(handle: SharedDenseParamsHandle): SharedDenseParams {
    return new SharedDenseParams(handle);
  }

  /** Byte address of param `i`'s weights in `handle.memory`. */
  weightAddress(i: number): number {
    return this.weights[i]!.byteOffset;
  }

  get params(): DenseParamSpec[] {
    return this.handle.params;
  }

  get globalStep(): number {
    return Atomics.load(this.counters, STEP);
  }
  set globalStep(v: number) {
    Atomics.store(this.counters, STEP, v);
  }
  /** Counts one applied step; returns the new global step. */
  nextStep(): number {
    return Atomics.add(this.counters, STEP, 1) + 1;
  }

  get updates(): number {
    return Atomics.load(this.counters, UPDATES);
  }
  set updates(v: number) {
    Atomics.store(this.counters, UPDATES, v);
  }

  /**
   * Applies one gradient per param (same order as `params`) with the
   * configured optimizer; a learning-rate function is evaluated at `globalStep`
   * (default: the current global step).
   */
  applyGradients(grads: Float32Array[], globalStep = this.globalStep): void {
    if (grads.length !== this.weights.length) throw new ConfigError(`dense params: ${grads.length} gradients for ${this.weights.length} params`);
    const t = Atomics.add(this.counters, UPDATES, 1) + 1;
    for (let i = 0; i < grads.length; i++) applyDenseUpdate(this.handle.optimizer, this.weights[i]!, grads[i]!, this.slots[i]!, t, globalStep);
  }
}
