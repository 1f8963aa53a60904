import { layers, type SymbolicTensor } from '@tensorflow/tfjs-layers';
import type { Mode } from '../../src/model/mode.js';
import { MonolithModel, type ModelFnOutput } from '../../src/model/monolith-model.js';
import { monolithModelParams, withOverrides, type MonolithModelParams, type ParamsOverrides } from '../../src/model/params.js';

/** A MonolithModel whose modelFn is a closure (one per test). */
export class FnModel extends MonolithModel {
  constructor(
    private readonly fn: (m: FnModel, mode: Mode) => ModelFnOutput,
    params: ParamsOverrides<MonolithModelParams> = {},
  ) {
    super(withOverrides(monolithModelParams(), params));
  }
  override modelFn(mode: Mode): ModelFnOutput {
    return this.fn(this, mode);
  }
}

/** A [rows, 1] logit from any tensors: flatten, concatenate, dense(1). */
export function logitOf(ts: SymbolicTensor | SymbolicTensor[]): SymbolicTensor {
  const list = (Array.isArray(ts) ? ts : [ts]).map((t) => (t.shape.length > 2 ? (layers.flatten().apply(t) as SymbolicTensor) : t));
  const x = list.length === 1 ? list[0]! : (layers.concatenate({ axis: 1 }).apply(list) as SymbolicTensor);
  return layers.dense({ units: 1 }).apply(x) as SymbolicTensor;
}
