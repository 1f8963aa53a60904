import { model as functionalModel, type LayersModel, type SymbolicTensor } from '@tensorflow/tfjs-layers';
import { ConfigError } from '../errors.js';

/** An extra serving signature (addExtraOutput): output key → index into the serving dense model's outputs. */
export interface ExtraOutputRecord {
  signature: string;
  outputs: Record<string, number>;
}

/** The dense model an export serves: the trained model's outputs (heads first), then the extra outputs. */
export interface ServingDense {
  model: LayersModel;
  extraOutputs: ExtraOutputRecord[];
}

type ExtraOutputs = ReadonlyMap<string, SymbolicTensor | Record<string, SymbolicTensor>>;

interface NodeRef {
  sourceLayer: { name: string };
  nodeIndex: number;
  tensorIndex: number;
}

/**
 * Appends the extra outputs declared while building `built` (a fresh build
 * of the same model, in export mode) to the trained model: each extra
 * tensor is the output of a layer of `built`, found at the same position
 * among the trained model's layers, so it is computed with the trained
 * weights. An extra output computed by layers the heads do not use is an
 * error (those layers were never trained or exported).
 */
export function appendExtraOutputs(trained: LayersModel, built: LayersModel, extras: ExtraOutputs): ServingDense {
  if (!extras.size) return { model: trained, extraOutputs: [] };
  const a = trained.layers;
  const b = built.layers;
  if (a.length !== b.length || a.some((l, i) => l.getClassName() !== b[i]!.getClassName())) {
    throw new ConfigError(`extra outputs: the trained dense model (${a.length} layers) is not the model modelFn builds (${b.length} layers); modelFn must build the same model every time`);
  }
  const outputs = [...trained.outputs];
  const records: ExtraOutputRecord[] = [];
  for (const [signature, value] of extras) {
    const named = isTensor(value) ? { [signature]: value } : value;
    const rec: ExtraOutputRecord = { signature, outputs: {} };
    for (const [key, t] of Object.entries(named)) {
      const ref = t as unknown as NodeRef;
      const at = b.findIndex((l) => l === (t.sourceLayer as unknown));
      if (at < 0) throw new ConfigError(`extra output ${signature}/${key}: computed by layer ${ref.sourceLayer.name}, which the heads do not use; only tensors of the dense model can be served`);
      const out = a[at]!.getOutputAt(ref.nodeIndex);
      const mapped = (Array.isArray(out) ? out[ref.tensorIndex] : out) as SymbolicTensor | undefined;
      if (!mapped) throw new ConfigError(`extra output ${signature}/${key}: no output ${ref.tensorIndex} of node ${ref.nodeIndex} of layer ${a[at]!.name} in the trained model`);
      const had = outputs.indexOf(mapped); // a head's logit (or another extra output) is served from the output it already is
      rec.outputs[key] = had >= 0 ? had : outputs.push(mapped) - 1;
    }
    records.push(rec);
  }
  return { model: functionalModel({ inputs: trained.inputs, outputs, name: trained.name }), extraOutputs: records };
}

const isTensor = (x: unknown): x is SymbolicTensor => !!x && typeof x === 'object' && 'sourceLayer' in x;
