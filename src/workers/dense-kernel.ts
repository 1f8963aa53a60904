import type { LayersModel } from '@tensorflow/tfjs-layers';
import { ConfigError } from '../errors.js';
import { outputDim, type ModelSpec } from '../model/model-spec.js';
import { log } from '../util/log.js';
import { WasmUnavailableError } from '../util/wasm-module.js';
import type { SharedDenseParams } from './shared-dense-params.js';
import { planDenseModel } from './wasm-dense-plan.js';
import { WasmDenseStep } from './wasm-dense-step.js';

/** What computes the dense model of a step: the wasm SIMD kernels or tfjs. */
export type DenseKernel = 'wasm' | 'tfjs';
/** `auto` (default): wasm when the model is a structure the kernels run, else tfjs; `wasm` insists; `tfjs` always tfjs. */
export type DenseKernelSetting = 'auto' | DenseKernel;

const SETTINGS: readonly DenseKernelSetting[] = ['auto', 'wasm', 'tfjs'];

/** The `MONOLITH_DENSE_KERNEL` environment variable (auto when unset). */
export function envDenseKernel(v = process.env.MONOLITH_DENSE_KERNEL): DenseKernelSetting {
  if (v === undefined || v === '') return 'auto';
  if (!(SETTINGS as readonly string[]).includes(v)) throw new ConfigError(`MONOLITH_DENSE_KERNEL=${v} is not one of ${SETTINGS.join(', ')}`);
  return v as DenseKernelSetting;
}

/**
 * The wasm dense step for `model`, or undefined when tfjs runs it (setting
 * `tfjs`, or — under `auto` — a model structure the kernels do not run, dense
 * parameters outside a WebAssembly memory, or kernels missing from the build;
 * the reason is logged once). Under `wasm` any of these is a ConfigError.
 */
export function wasmDenseStepFor(spec: ModelSpec, model: LayersModel, dense: SharedDenseParams, setting: DenseKernelSetting): WasmDenseStep | undefined {
  if (setting === 'tfjs') return undefined;
  const why = (reason: string): undefined => {
    if (setting === 'wasm') throw new ConfigError(`model ${spec.name}: MONOLITH_DENSE_KERNEL=wasm, but ${reason}`);
    log.info(`model ${spec.name}: dense step in tfjs (${reason})`);
    return undefined;
  };
  const memory = dense.handle.memory as WebAssembly.Memory | undefined;
  if (!memory) return why('its dense parameters are not in a WebAssembly memory');
  const plan = planDenseModel(model, spec.features.length);
  if ('unsupported' in plan) return why(`the wasm kernels do not run it: ${plan.unsupported}`);
  const widths = [...spec.features.map((f) => outputDim(f)), ...spec.denseInputs.map((d) => d.width)];
  try {
    return new WasmDenseStep(plan, dense, memory, widths);
  } catch (e) {
    if (e instanceof WasmUnavailableError) return why(e.message);
    throw e;
  }
}
