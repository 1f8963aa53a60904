import * as tf from '@tensorflow/tfjs-core';
import type { tensorflow } from '../proto.js';
import type { SavedModelSignature } from '../export/export-context.js';
import type { SignatureModel } from '../export/signature-model.js';
import { invalidArgument } from './errors.js';
import { floatTensor, readFloats, shapeOf } from './tensor-proto.js';

type TensorProto = tensorflow.TensorProto.$Properties;

/**
 * Runs a signature computed by its own tfjs model (RemotePredictHelper
 * functions, `describe` signatures): the request's float tensors in, in the
 * model's input order; the outputs named by `filter` (default all) out.
 */
export function runSignatureModel(
  sig: SavedModelSignature,
  m: SignatureModel,
  inputs: Record<string, tensorflow.ITensorProto>,
  filter: readonly string[] | undefined,
  tensorContent: boolean,
): Record<string, TensorProto> {
  const values = m.inputs.map((k) => {
    const t = inputs[k]!;
    const shape = shapeOf(t);
    const v = readFloats(k, t);
    if (!shape.length) throw invalidArgument(`input "${k}" of signature "${sig.name}" must have a batch dimension`);
    return { v, shape };
  });
  const rows = values[0]?.shape[0];
  if (values.some((x) => x.shape[0] !== rows)) throw invalidArgument(`inputs of signature "${sig.name}" must have the same number of rows, got ${values.map((x) => x.shape[0]).join(', ')}`);
  const out: Record<string, TensorProto> = {};
  tf.tidy(() => {
    const res = m.model.predict(values.map(({ v, shape }) => tf.tensor(v, shape)));
    const list = Array.isArray(res) ? res : [res];
    m.outputs.forEach((k, i) => {
      if (filter && !filter.includes(k)) return;
      out[k] = floatTensor(list[i]!.dataSync() as Float32Array, list[i]!.shape, tensorContent);
    });
  });
  return out;
}
