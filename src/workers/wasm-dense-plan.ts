import type { LayersModel } from '@tensorflow/tfjs-layers';

/** Activations the wasm dense kernels compute, numbered as wasm/dense.ts numbers them. */
export const ACTIVATIONS: Readonly<Record<string, number>> = { linear: 0, relu: 1, sigmoid: 2, tanh: 3 };

/**
 * One node of a dense model the wasm kernels can run. Every value is a
 * row-major [rows, width] matrix; `fields` > 0 marks a [rows, fields,
 * width / fields] value (stacked field embeddings), laid out the same way.
 */
export type PlanOp = { width: number; fields?: number } & (
  | { kind: 'input'; input: number }
  | { kind: 'dense'; src: number; inWidth: number; act: number; kernel: number; bias: number }
  /** Concatenate on the last axis, or (fields > 0) a stack of equal-width fields. */
  | { kind: 'concat'; srcs: number[] }
  | { kind: 'add'; srcs: number[] }
  | { kind: 'activation'; src: number; act: number }
  /** Columns [start, start + width) of a 2-D value. */
  | { kind: 'slice'; src: number; start: number }
  /** Sum of a 2-D value's columns: width 1. */
  | { kind: 'reduceSum'; src: number }
  /** FM second-order term of a [rows, fields, k] value: ½ Σ_k ((Σ_f v)² − Σ_f v²), width 1. */
  | { kind: 'fm'; src: number }
  /** Flatten: the same values. */
  | { kind: 'identity'; src: number }
);

/**
 * A LayersModel as a list of ops in topological order: `ops[outputs[k]]` is
 * output k; `kernel` / `bias` index the model's trainable weights (bias −1
 * when the layer has none); `needsGrad[i]` says whether op i's gradient is
 * needed (it has trainable weights upstream or reads a pooled input).
 */
export interface DensePlan {
  ops: PlanOp[];
  outputs: number[];
  needsGrad: boolean[];
}

/** A model the wasm kernels do not run, and why. */
export interface Unsupported {
  unsupported: string;
}

interface TfLayer {
  name: string;
  getClassName(): string;
  getConfig(): Record<string, unknown>;
  inboundNodes: { inboundLayers: TfLayer[]; nodeIndices: number[]; tensorIndices: number[] }[];
  weights: unknown[];
  trainable: boolean;
}

/**
 * The plan of `model` when it is a graph of Input, Dense (linear / relu /
 * sigmoid / tanh activation), Concatenate (last axis), Add, Activation and
 * Flatten layers over 2-D inputs, and the embedding layers of models built
 * with MonolithModel (EmbeddingSlice, stack, ReduceSum, FmInteraction),
 * every weight trainable; else why not.
 * `pooledInputs` is how many leading model inputs are pooled embeddings (their gradient is wanted).
 */
export function planDenseModel(model: LayersModel, pooledInputs: number): DensePlan | Unsupported {
  const m = model as unknown as { inputs: { sourceLayer: TfLayer; shape: (number | null)[] }[]; outputs: { sourceLayer: TfLayer; nodeIndex: number; tensorIndex: number }[]; trainableWeights: unknown[] };
  const trainable = m.trainableWeights;
  const ops: PlanOp[] = [];
  const index = new Map<TfLayer, number>();
  const used = new Set<unknown>();
  const fail = (why: string): Unsupported => ({ unsupported: why });

  const visit = (layer: TfLayer, nodeIndex: number, tensorIndex: number): number | Unsupported => {
    if (tensorIndex !== 0) return fail(`layer ${layer.name} has several outputs`);
    const seen = index.get(layer);
    if (seen !== undefined) return seen;
    const cls = layer.getClassName();
    const cfg = layer.getConfig();
    let op: PlanOp;
    if (cls === 'InputLayer') {
      const k = m.inputs.findIndex((t) => t.sourceLayer === layer);
      const shape = k < 0 ? [] : m.inputs[k]!.shape;
      if (k < 0 || shape.length !== 2 || typeof shape[1] !== 'number') return fail(`input ${layer.name} is not a 2-D model input`);
      op = { kind: 'input', input: k, width: shape[1] };
    } else {
      if (layer.inboundNodes.length !== 1 || nodeIndex !== 0) return fail(`layer ${layer.name} is applied more than once`);
      if (layer.weights.length > 0 && !layer.trainable) return fail(`layer ${layer.name} is not trainable`);
      const node = layer.inboundNodes[0]!;
      const srcs: number[] = [];
      for (let i = 0; i < node.inboundLayers.length; i++) {
        const s = visit(node.inboundLayers[i]!, node.nodeIndices[i]!, node.tensorIndices[i]!);
        if (typeof s !== 'number') return s;
        srcs.push(s);
      }
      const widths = srcs.map((s) => ops[s]!.width);
      const flat = (): Unsupported | undefined => (srcs.some((s) => ops[s]!.fields) ? fail(`layer ${layer.name} (${cls}) reads a 3-D value`) : undefined);
      const one = (): number | Unsupported => (srcs.length === 1 ? srcs[0]! : fail(`layer ${layer.name} has ${srcs.length} inputs`));
      const act = (name: unknown): number | Unsupported => (typeof name === 'string' && name in ACTIVATIONS ? ACTIVATIONS[name]! : fail(`layer ${layer.name} has activation ${String(name)}`));
      switch (cls) {
        case 'Dense': {
          const src = one();
          if (typeof src !== 'number') return src;
          const a = act(cfg.activation);
          if (typeof a !== 'number') return a;
          if (flat()) return flat()!;
          const [kernel, bias] = layer.weights;
          const ki = trainable.indexOf(kernel);
          const bi = bias === undefined ? -1 : trainable.indexOf(bias);
          if (ki < 0 || (bias !== undefined && bi < 0) || layer.weights.length > 2) return fail(`layer ${layer.name} has weights that are not trainable`);
          used.add(kernel).add(bias);
          op = { kind: 'dense', src, width: cfg.units as number, inWidth: widths[0]!, act: a, kernel: ki, bias: bi };
          break;
        }
        case 'Concatenate':
          if (cfg.axis !== -1 && cfg.axis !== 1) return fail(`layer ${layer.name} concatenates on axis ${String(cfg.axis)}`);
          if (flat()) return flat()!;
          op = { kind: 'concat', srcs, width: widths.reduce((a, b) => a + b, 0) };
          break;
        case 'Add':
          if (widths.some((w) => w !== widths[0])) return fail(`layer ${layer.name} adds inputs of widths ${widths.join(', ')}`);
          if (flat()) return flat()!;
          op = { kind: 'add', srcs, width: widths[0]! };
          break;
        case 'Activation': {
          const src = one();
          if (typeof src !== 'number') return src;
          const a = act(cfg.activation);
          if (typeof a !== 'number') return a;
          op = { kind: 'activation', src, width: widths[0]!, act: a, fields: ops[src]!.fields };
          break;
        }
        case 'Flatten': {
          const src = one();
          if (typeof src !== 'number') return src;
          op = { kind: 'identity', src, width: widths[0]! };
          break;
        }
        case 'MonolithEmbeddingSlice': {
          const src = one();
          if (typeof src !== 'number') return src;
          if (flat()) return flat()!;
          const start = cfg.start as number;
          if (cfg.seqLength !== 0 || cfg.rowDim !== widths[0]) return fail(`layer ${layer.name} slices a sequence input`);
          op = { kind: 'slice', src, start, width: (cfg.end as number) - start };
          break;
        }
        case 'MonolithStack':
          if (flat()) return flat()!;
          if (widths.some((w) => w !== widths[0])) return fail(`layer ${layer.name} stacks inputs of widths ${widths.join(', ')}`);
          op = { kind: 'concat', srcs, width: widths[0]! * srcs.length, fields: srcs.length };
          break;
        case 'MonolithReduceSum': {
          const src = one();
          if (typeof src !== 'number') return src;
          if (flat() || cfg.axis !== 1) return fail(`layer ${layer.name} sums other than the columns of a 2-D value`);
          op = { kind: 'reduceSum', src, width: 1 };
          break;
        }
        case 'MonolithFmInteraction': {
          const src = one();
          if (typeof src !== 'number') return src;
          if (!ops[src]!.fields) return fail(`layer ${layer.name} reads a 2-D value`);
          op = { kind: 'fm', src, width: 1 };
          break;
        }
        default:
          return fail(`layer ${layer.name} is a ${cls}`);
      }
    }
    index.set(layer, ops.length);
    ops.push(op);
    return ops.length - 1;
  };

  const outputs: number[] = [];
  for (const t of m.outputs) {
    const k = visit(t.sourceLayer, t.nodeIndex, t.tensorIndex);
    if (typeof k !== 'number') return k;
    outputs.push(k);
  }
  if (trainable.some((w) => !used.has(w))) return fail('the model has trainable weights outside its Dense layers');
  for (const op of ops) if (op.kind === 'dense' && op.inWidth !== (model.trainableWeights[op.kernel]!.shape[0] as number)) return fail('a Dense layer reads an input of another width than its kernel');
  const needsGrad = ops.map(() => false);
  ops.forEach((op, i) => {
    if (op.kind === 'input') needsGrad[i] = op.input < pooledInputs;
    else if (op.kind === 'dense') needsGrad[i] = true;
    else needsGrad[i] = sourcesOf(op).some((s) => needsGrad[s]);
  });
  return { ops, outputs, needsGrad };
}

/** The ops `op` reads. */
export function sourcesOf(op: PlanOp): number[] {
  return op.kind === 'input' ? [] : 'srcs' in op ? op.srcs : [op.src];
}
