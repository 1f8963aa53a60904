import { join } from 'node:path';
import type { LayersModel, SymbolicTensor } from '@tensorflow/tfjs-layers';
import { ConfigError } from '../errors.js';
import type { TensorSpec } from './export-context.js';
import { saveLayersModel } from './fs-model-io.js';

/**
 * The computation of a signature that is neither serving_default nor a table
 * signature: a tfjs model whose inputs and outputs are the signature's, in
 * `inputs` / `outputs` key order. Exports save it under `signatures/<k>/`
 * and serving runs it on the request's tensors.
 */
export interface SignatureModel {
  model: LayersModel;
  inputs: string[];
  outputs: string[];
}

/** Where an export keeps a signature's model (manifest `signatureModels`). */
export interface SignatureModelRecord {
  signature: string;
  /** tfjs model directory, relative to the export directory. */
  dir: string;
  inputs: string[];
  outputs: string[];
}

/** A tfjs symbolic tensor as a signature's tensor spec (float32; unknown dimensions -1). */
export function symbolicSpec(t: SymbolicTensor, where: string): TensorSpec {
  if (t.dtype !== 'float32') throw new ConfigError(`${where}: only float32 tensors can be computed by a served signature, got ${t.dtype}`);
  return { dtype: 'float32', shape: t.shape.map((d) => (d === null ? -1 : d)) };
}

export const isSymbolic = (x: unknown): x is SymbolicTensor => !!x && typeof x === 'object' && 'sourceLayer' in x && typeof (x as SymbolicTensor).name === 'string';

/** Saves each signature model of a graph into `<dir>/signatures/<k>/`; the records go into the manifest. */
export async function saveSignatureModels(dir: string, models: ReadonlyMap<string, SignatureModel>): Promise<SignatureModelRecord[]> {
  const out: SignatureModelRecord[] = [];
  let k = 0;
  for (const [signature, m] of models) {
    const rel = join('signatures', String(k++));
    await saveLayersModel(m.model, join(dir, rel));
    out.push({ signature, dir: rel, inputs: [...m.inputs], outputs: [...m.outputs] });
  }
  return out;
}
