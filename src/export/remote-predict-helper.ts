import { input as symbolicInput, model as functionalModel, type SymbolicTensor } from '@tensorflow/tfjs-layers';
import { ConfigError } from '../errors.js';
import type { tensorflow } from '../proto.js';
import type { DType } from './dtypes.js';
import { ENTRY_GRAPH, getCurrentExportCtx, type ExportContext, type GraphName, type TensorSpec } from './export-context.js';
import { isSymbolic, symbolicSpec } from './signature-model.js';

/** A named tensor of a graph (`name` like `foo:0`), as signatures reference them. */
export interface TensorRef {
  name: string;
  dtype: DType;
  shape: number[];
}

/** Tensors nested in lists and objects, like Monolith's NestedTensors. */
export type Nested<T> = T | Nested<T>[] | { [key: string]: Nested<T> };

type TensorProto = tensorflow.ITensorProto;

/** What carries a remote Predict call (PredictionClient, or anything speaking TF Serving's Predict). */
export interface PredictTransport {
  predict(req: tensorflow.serving.IPredictRequest): Promise<{ outputs: { [k: string]: TensorProto } }>;
}

const isRef = (x: unknown): x is TensorRef => !!x && typeof x === 'object' && typeof (x as TensorRef).name === 'string' && typeof (x as TensorRef).dtype === 'string' && Array.isArray((x as TensorRef).shape);

/** Leaves of a nested structure in a fixed order (arrays by index, objects by sorted key). */
export function flatten<T>(n: Nested<T>, isLeaf: (x: unknown) => x is T): T[] {
  if (isLeaf(n)) return [n];
  if (Array.isArray(n)) return n.flatMap((x) => flatten(x, isLeaf));
  if (n && typeof n === 'object') return Object.keys(n).sort().flatMap((k) => flatten((n as Record<string, Nested<T>>)[k]!, isLeaf));
  throw new ConfigError(`not a tensor or a nest of tensors: ${JSON.stringify(n)}`);
}

/** The structure of `shape` with its leaves replaced, in `flatten` order. */
export function packAs<T, U>(shape: Nested<T>, leaves: U[], isLeaf: (x: unknown) => x is T): Nested<U> {
  let i = 0;
  const walk = (n: Nested<T>): Nested<U> => {
    if (isLeaf(n)) return leaves[i++]!;
    if (Array.isArray(n)) return n.map(walk);
    const o = n as Record<string, Nested<T>>;
    return Object.fromEntries(Object.keys(o).sort().map((k) => [k, walk(o[k]!)]));
  };
  return walk(shape);
}

/** A tensor's name as a signature key: `:` becomes `_` (`foo:0` → `foo_0`). */
export const tensorSignatureName = (t: { name: string }): string => t.name.replace(/:/g, '_');

const spec = (t: TensorRef): TensorSpec => ({ dtype: t.dtype, shape: t.shape.map((d) => d ?? -1) });

/** A leaf of the remote function's outputs as a TensorRef: a tfjs symbolic tensor is named `<layer>:<output index>`. */
function refOf(t: TensorRef | SymbolicTensor, where: string): TensorRef {
  if (!isSymbolic(t)) return t;
  return { name: `${t.sourceLayer.name}:${t.outputTensorIndex ?? 0}`, ...symbolicSpec(t, where) };
}
const isLeaf = (x: unknown): x is TensorRef => isRef(x) || isSymbolic(x);

/**
 * Defines a function that runs in another served model (Monolith's
 * RemotePredictHelper): its inputs become placeholders, `remoteFunc` maps
 * them to outputs, and the pair is registered as signature `name` of the
 * current export context; `callRemotePredict` then calls that signature
 * through a transport with the same nesting of inputs and outputs.
 *
 * Float32 inputs of rank >= 1 become tfjs symbolic inputs (batch dimension
 * first); when `remoteFunc` builds its outputs from them with tfjs layers,
 * the function is executable: the export saves it as the signature's model
 * and `serve` computes it. Outputs given as plain TensorRefs only declare
 * the signature (serving answers UNIMPLEMENTED).
 */
export class RemotePredictHelper {
  readonly signatureInputs: Record<string, TensorSpec>;
  readonly signatureOutputs: Record<string, TensorSpec>;
  private readonly outputs: Nested<TensorRef>;
  private readonly flatInputs: TensorRef[];

  constructor(
    readonly name: string,
    readonly inputs: Nested<TensorRef>,
    remoteFunc: (placeholders: Nested<TensorRef | SymbolicTensor>) => Nested<TensorRef | SymbolicTensor>,
    opts: { ctx?: ExportContext; graph?: GraphName } = {},
  ) {
    const ctx = opts.ctx ?? getCurrentExportCtx();
    if (!ctx) throw new ConfigError(`RemotePredictHelper ${name}: needs an export context (call it inside enterExportMode)`);
    this.flatInputs = flatten(inputs, isRef);
    const symbolic = this.flatInputs.every((t) => t.dtype === 'float32' && t.shape.length >= 1);
    const placeholders: (TensorRef | SymbolicTensor)[] = this.flatInputs.map((t) =>
      symbolic
        ? symbolicInput({ shape: t.shape.slice(1).map((d) => (d < 0 ? null : d)), name: `${tensorSignatureName(t)}_remote_input_ph`, dtype: 'float32' })
        : { ...t, name: `${tensorSignatureName(t)}_remote_input_ph:0` },
    );
    const raw = remoteFunc(packAs(inputs, placeholders, isRef));
    const rawLeaves = flatten(raw, isLeaf as (x: unknown) => x is TensorRef | SymbolicTensor);
    const flatOutputs = rawLeaves.map((t) => refOf(t, `RemotePredictHelper ${name}`));
    this.outputs = packAs(raw as Nested<TensorRef>, flatOutputs, isLeaf);
    this.signatureInputs = RemotePredictHelper.byName(this.flatInputs, 'inputs', name);
    this.signatureOutputs = RemotePredictHelper.byName(flatOutputs, 'outputs', name);
    const graph = opts.graph ?? ENTRY_GRAPH;
    if (symbolic && rawLeaves.length && rawLeaves.every(isSymbolic)) {
      const model = functionalModel({ inputs: placeholders as SymbolicTensor[], outputs: rawLeaves as SymbolicTensor[], name: `remote_${tensorSignatureName({ name })}`.replace(/[^A-Za-z0-9_]/g, '_') });
      ctx.addSignatureModel(graph, name, { model, inputs: this.flatInputs.map(tensorSignatureName), outputs: flatOutputs.map(tensorSignatureName) }, this.signatureInputs, this.signatureOutputs);
    } else {
      ctx.addSignature(graph, name, this.signatureInputs, this.signatureOutputs);
    }
  }

  private static byName(ts: TensorRef[], what: string, sig: string): Record<string, TensorSpec> {
    const out: Record<string, TensorSpec> = {};
    for (const t of ts) {
      const k = tensorSignatureName(t);
      if (k in out) throw new ConfigError(`RemotePredictHelper ${sig}: name conflict among ${what}: two tensors map to "${k}" (${ts.map((x) => x.name).join(', ')})`);
      out[k] = spec(t);
    }
    return out;
  }

  /**
   * Calls the signature on `modelName`: `values` has the nesting of the
   * constructor's inputs (TensorProtos at the leaves); the answer has the
   * nesting of the remote function's outputs.
   */
  async callRemotePredict(modelName: string, transport: PredictTransport, values: Nested<TensorProto>): Promise<Nested<TensorProto>> {
    const isProto = (x: unknown): x is TensorProto => !!x && typeof x === 'object' && 'dtype' in (x as object);
    const flat = flatten(values, isProto);
    if (flat.length !== this.flatInputs.length) throw new ConfigError(`RemotePredictHelper ${this.name}: ${flat.length} input values for ${this.flatInputs.length} inputs`);
    const inputs = Object.fromEntries(this.flatInputs.map((t, i) => [tensorSignatureName(t), flat[i]!]));
    const keys = Object.keys(this.signatureOutputs);
    const res = await transport.predict({ modelSpec: { name: modelName, signatureName: this.name }, inputs, outputFilter: keys });
    const leaves = keys.map((k) => {
      const t = res.outputs[k];
      if (!t) throw new ConfigError(`RemotePredictHelper ${this.name}: the response lacks output "${k}"`);
      return t;
    });
    return packAs(this.outputs, leaves, isLeaf);
  }
}
