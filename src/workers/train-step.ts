import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { denseColumn, sparseColumn, type Batch } from '../batch/batch.js';
import { ConfigError, FormatError } from '../errors.js';
import type { EmbeddingHashTable } from '../hashtable/embedding-hash-table.js';
import { outputDim, type EmbeddingFeatureSpec, type ModelSpec } from '../model/model-spec.js';
import type { RunMode, StepResult } from '../graph/step-result.js';
import { warnFirstN } from '../util/log.js';
import { defaultLoss } from '../model/default-loss.js';
import { denseOptimizerConfig } from './dense-optimizer.js';
import { applyGradientSettings, validateGradientSettings } from './gradient-settings.js';
import { poolEmbeddings, scatterPooledGradient, selectFirstN, type PoolingShape } from './embedding-pooling.js';
import { SharedDenseParams, type DenseParamSpec } from './shared-dense-params.js';
import { envDenseKernel, wasmDenseStepFor, type DenseKernel, type DenseKernelSetting } from './dense-kernel.js';
import type { WasmDenseStep } from './wasm-dense-step.js';

export interface TrainStepOptions {
  spec: ModelSpec;
  /** The model's tables by name (created here or attached to shared ones). */
  tables: Record<string, EmbeddingHashTable>;
  dense: SharedDenseParams;
  /** Reported in StepResult.worker. */
  worker?: number;
  /** Train steps report the sparse gradients they applied (StepResult.sparseUpdates), for a remote parameter store. */
  reportSparse?: boolean;
  /** Who computes the dense model (default: the MONOLITH_DENSE_KERNEL environment variable, else `auto`). */
  denseKernel?: DenseKernelSetting;
}

export interface RunStepOptions {
  /** Batch counter reported as `step` in eval / predict. */
  batchIndex?: number;
  /** Time the batch spent being parsed upstream, reported in the timings. */
  parseMs?: number;
  /** Attach the batch to the result (deep insight, prediction output). */
  keepBatch?: boolean;
  /** Multiplies the tables' L2 regularization for this step's updates (ApplyGradientsOptions.regularizationScale; default 1). */
  regularizationScale?: number;
}

interface LookedUp {
  feature: EmbeddingFeatureSpec;
  table: EmbeddingHashTable;
  fids: Uint32Array;
  splits: Int32Array;
  shape: PoolingShape;
  pooled: Float32Array;
}

const now = (): number => performance.now();

/** The dense parameter specs and current values of a freshly built model (to create SharedDenseParams). */
export function denseParamsOf(model: LayersModel): { params: DenseParamSpec[]; initial: Float32Array[] } {
  const ws = model.trainableWeights;
  return {
    params: ws.map((w) => ({ name: w.originalName, shape: [...w.shape] as number[] })),
    initial: ws.map((w) => w.read().dataSync() as Float32Array),
  };
}

/** Writes the shared dense weights into `vars`: a model's trainable variables, in the order the params were made from. */
export function assignSharedWeights(vars: readonly tf.Variable[], dense: SharedDenseParams): void {
  if (vars.length !== dense.weights.length) throw new ConfigError(`the model has ${vars.length} trainable weights, the shared dense params ${dense.weights.length}`);
  tf.tidy(() => vars.forEach((v, i) => v.assign(tf.tensor(dense.weights[i]!.slice(), v.shape))));
}

/** Shared dense parameters initialised from a model built by `spec.buildDense()`. */
export function createSharedDenseParams(spec: Pick<ModelSpec, 'buildDense' | 'denseOptimizer'>, model = spec.buildDense()): SharedDenseParams {
  const { params, initial } = denseParamsOf(model);
  return SharedDenseParams.create(params, initial, denseOptimizerConfig(spec.denseOptimizer));
}

/**
 * One training / evaluation / prediction step on a batch, as Monolith runs
 * it: sparse features are looked up in their hash tables and pooled outside
 * autodiff; the dense LayersModel (weights read from the shared parameters)
 * computes logits and the loss; tfjs differentiates with respect to the
 * dense weights and the pooled inputs; the pooled gradients are scattered
 * back to the ids (the table sums duplicates and runs its optimizer) and the
 * dense gradients go to the shared parameters.
 */
export class TrainStep {
  readonly model: LayersModel;
  private readonly vars: tf.Variable[];
  private readonly wasm: WasmDenseStep | undefined;
  /**
   * The order this thread visits the features in: table by table, starting
   * at a table picked by the thread (features sharing a table keep their
   * order). Tables are independent, so the order changes no number; threads
   * starting at different tables rarely wait on the same table's shard lock.
   */
  private readonly tableOrder: number[];
  /** Head biases set from the first training batch (HeadSpec.warmStartBias): dense param index and label column. */
  private readonly warmStart: { param: number; labelIndex: number }[];

  constructor(private readonly opts: TrainStepOptions) {
    const { spec, tables, dense } = opts;
    const byTable = new Map<string, number[]>();
    spec.features.forEach((f, k) => byTable.set(f.table, [...(byTable.get(f.table) ?? []), k]));
    const groups = [...byTable.values()];
    const start = groups.length ? (Math.imul(opts.worker ?? 0, 0x9e3779b1) >>> 0) % groups.length : 0;
    this.tableOrder = [...groups.slice(start), ...groups.slice(0, start)].flat();
    validateGradientSettings(spec.gradients, `model ${spec.name}`);
    for (const f of spec.features) {
      const t = tables[f.table];
      if (!t) throw new ConfigError(`model ${spec.name}: feature ${f.name} uses table ${f.table}, which is not given`);
      if (t.dim !== f.dim) throw new ConfigError(`model ${spec.name}: feature ${f.name} has dim ${f.dim}, its table ${f.table} has entries of dim ${t.dim}`);
      if (f.combiner === 'first_n' && !(Number.isInteger(f.maxSeqLength) && f.maxSeqLength! > 0)) {
        throw new ConfigError(`model ${spec.name}: feature ${f.name} uses first_n and needs a positive integer maxSeqLength`);
      }
    }
    this.model = spec.buildDense();
    this.vars = this.model.trainableWeights.map((w) => w.read() as tf.Variable);
    const ps = dense.params;
    if (ps.length !== this.vars.length) throw new ConfigError(`model ${spec.name}: the dense model has ${this.vars.length} trainable weights, the shared parameters ${ps.length}`);
    this.vars.forEach((v, i) => {
      if (v.shape.join(',') !== ps[i]!.shape.join(',')) throw new ConfigError(`model ${spec.name}: weight ${i} (${v.name}) has shape [${v.shape}], the shared parameter ${ps[i]!.name} [${ps[i]!.shape}]`);
    });
    this.warmStart = spec.heads.flatMap((h) => {
      if (!h.warmStartBias || h.kind !== 'classification') return [];
      const param = ps.findIndex((p) => p.name === h.warmStartBias);
      if (param < 0 || dense.weights[param]!.length !== 1) throw new ConfigError(`model ${spec.name}: head ${h.name} warm-starts ${h.warmStartBias}, which is not a trainable weight of one value in the dense model`);
      return [{ param, labelIndex: h.labelIndex }];
    });
    this.wasm = wasmDenseStepFor(spec, this.model, dense, opts.denseKernel ?? envDenseKernel());
  }

  /** At global step 0: each warm-started head bias becomes the logit of the batch's positive rate. */
  private warmStartBiases(batch: Batch): void {
    for (const { param, labelIndex } of this.warmStart) {
      let sum = 0;
      for (let r = 0; r < batch.rows; r++) sum += batch.labels[r * batch.labelWidth + labelIndex]!;
      const rate = Math.min(1 - 1e-4, Math.max(1e-4, (sum + 0.5) / (batch.rows + 1)));
      this.opts.dense.weights[param]![0] = Math.log(rate / (1 - rate));
    }
  }

  /** Who computes this step's dense model: the wasm kernels (over the shared weights in place) or tfjs. */
  get denseKernel(): DenseKernel {
    return this.wasm ? 'wasm' : 'tfjs';
  }

  get spec(): ModelSpec {
    return this.opts.spec;
  }

  private lookup(batch: Batch, insert: boolean): LookedUp[] {
    const looked: LookedUp[] = new Array(this.tableOrder.length);
    for (const k of this.tableOrder) looked[k] = this.lookupFeature(batch, this.opts.spec.features[k]!, insert);
    return looked;
  }

  private lookupFeature(batch: Batch, feature: EmbeddingFeatureSpec, insert: boolean): LookedUp {
    const table = this.opts.tables[feature.table]!;
    const col = sparseColumn(batch, feature.name) ?? sparseColumn(batch, feature.slot);
    let fids: Uint32Array;
    let splits: Int32Array;
    if (col) {
      if (col.rowSplits.length !== batch.rows + 1) throw new FormatError(`sparse column ${col.name} has ${col.rowSplits.length} row splits for ${batch.rows} rows`, { field: col.name, slot: col.slot });
      ({ fids, splits } = feature.combiner === 'first_n' ? selectFirstN(col.fids, col.rowSplits, batch.rows, feature.maxSeqLength!) : { fids: col.fids, splits: col.rowSplits });
    } else {
      warnFirstN(`missing-feature-${feature.name}`, 1, `batch has no column for feature ${feature.name} (slot ${feature.slot}); treating it as empty`);
      fids = new Uint32Array(0);
      splits = new Int32Array(batch.rows + 1);
    }
    const emb = insert ? table.lookup(fids) : table.lookupOnly(fids);
    const shape: PoolingShape = { rows: batch.rows, dim: feature.dim, combiner: feature.combiner, maxSeqLength: feature.maxSeqLength };
    return { feature, table, fids, splits, shape, pooled: poolEmbeddings(emb, splits, shape) };
  }

  private denseValues(batch: Batch): Float32Array[] {
    return this.opts.spec.denseInputs.map((d) => {
      const c = denseColumn(batch, d.name);
      if (!c) throw new FormatError(`batch has no dense column ${d.name}`, { field: d.name });
      if (c.width !== d.width || c.values.length !== batch.rows * d.width) throw new FormatError(`dense column ${d.name} has width ${c.width} (${c.values.length} values), the model expects ${d.width} x ${batch.rows} rows`, { field: d.name });
      return c.values;
    });
  }

  private denseInputs(batch: Batch): tf.Tensor[] {
    return this.denseValues(batch).map((v, k) => tf.tensor2d(v.slice(), [batch.rows, this.opts.spec.denseInputs[k]!.width]));
  }

  /** Copies the shared dense weights into this thread's model. */
  readWeights(): void {
    assignSharedWeights(this.vars, this.opts.dense);
  }

  private lossOf(logits: tf.Tensor[], batch: Batch): tf.Scalar {
    const spec = this.opts.spec;
    if (batch.labelWidth === 0 || batch.labels.length !== batch.rows * batch.labelWidth) {
      throw new FormatError(`batch has ${batch.labels.length} labels of width ${batch.labelWidth} for ${batch.rows} rows`, { field: 'labels' });
    }
    const labels = tf.tensor2d(batch.labels.slice(), [batch.rows, batch.labelWidth]);
    const weights = batch.weights ? tf.tensor1d(batch.weights.slice()) : undefined;
    return spec.loss ? spec.loss({ logits, labels, weights }) : defaultLoss(spec.heads, { logits, labels, weights }, spec.lossReduction);
  }

  private forward(inputs: tf.Tensor[], training: boolean): tf.Tensor[] {
    const out = this.model.apply(inputs.length === 1 ? inputs[0]! : inputs, { training }) as tf.Tensor | tf.Tensor[];
    const logits = Array.isArray(out) ? out : [out];
    if (logits.length !== this.opts.spec.heads.length) throw new ConfigError(`model ${this.opts.spec.name}: the dense model has ${logits.length} outputs for ${this.opts.spec.heads.length} heads`);
    return logits;
  }

  private predictionsOf(logits: tf.Tensor[]): tf.Tensor[] {
    return this.opts.spec.heads.map((h, k) => (h.kind === 'classification' ? tf.sigmoid(tf.reshape(logits[k]!, [-1])) : tf.reshape(logits[k]!, [-1])));
  }

  /** Runs one step on `batch`. Train mode updates the tables and the shared dense parameters. */
  run(batch: Batch, mode: RunMode, opts: RunStepOptions = {}): StepResult {
    const t0 = now();
    if (mode === 'train' && this.warmStart.length > 0 && this.opts.dense.globalStep === 0) this.warmStartBiases(batch);
    const looked = this.lookup(batch, mode === 'train');
    const t1 = now();
    if (this.wasm) return this.runWasm(this.wasm, batch, mode, opts, looked, t0, t1);
    this.readWeights();
    const pooledTensors = looked.map((l) => tf.tensor2d(l.pooled, [batch.rows, outputDim(l.feature)]));
    const denseTensors = this.denseInputs(batch);
    let loss: number | undefined;
    let preds: Float32Array[];
    let t2: number;
    let t3: number;
    let sparseUpdates: StepResult['sparseUpdates'];
    try {
      if (mode === 'train') {
        const inputVars = pooledTensors.map((p) => tf.variable(p, true));
        try {
          let kept: tf.Tensor[] = [];
          const { value, grads } = tf.variableGrads(() => {
            const logits = this.forward([...inputVars, ...denseTensors], true);
            kept = this.predictionsOf(logits).map((p) => tf.keep(p));
            return this.lossOf(logits, batch);
          }, [...this.vars, ...inputVars]);
          loss = value.dataSync()[0];
          preds = kept.map((p) => p.dataSync() as Float32Array);
          const denseGrads = this.vars.map((v) => grads[v.name]!.dataSync() as Float32Array);
          const pooledGrads = inputVars.map((v) => grads[v.name]!.dataSync() as Float32Array);
          tf.dispose([value, ...Object.values(grads), ...kept]);
          t2 = now();
          sparseUpdates = this.apply(looked, denseGrads, pooledGrads, opts.regularizationScale ?? 1);
          t3 = now();
        } finally {
          tf.dispose(inputVars);
        }
      } else {
        const out = tf.tidy(() => {
          const logits = this.forward([...pooledTensors, ...denseTensors], false);
          return { preds: this.predictionsOf(logits), loss: mode === 'eval' ? this.lossOf(logits, batch) : undefined };
        });
        preds = out.preds.map((p) => p.dataSync() as Float32Array);
        loss = out.loss?.dataSync()[0];
        tf.dispose([...out.preds, ...(out.loss ? [out.loss] : [])]);
        t2 = now();
        t3 = t2;
      }
    } finally {
      tf.dispose([...pooledTensors, ...denseTensors]);
    }
    return this.result(batch, mode, opts, { loss, preds, t0, t1, t2, t3, sparseUpdates });
  }

  /**
   * Scatters the pooled gradients to the tables and applies the dense gradients (after the model's gradient settings);
   * returns what was applied to the tables when the step reports it.
   */
  private apply(looked: LookedUp[], denseGrads: Float32Array[], pooledGrads: Float32Array[], regularizationScale: number): StepResult['sparseUpdates'] {
    const step = this.opts.dense.globalStep;
    const sparse = looked.map((l, k) => ({ fids: l.fids, grads: scatterPooledGradient(pooledGrads[k]!, l.splits, l.shape), dim: l.feature.dim }));
    applyGradientSettings(this.opts.spec.gradients, { dense: denseGrads, denseWeights: this.opts.dense.weights, pooled: pooledGrads, sparse }, step);
    for (const k of this.tableOrder) {
      const l = looked[k]!;
      if (l.fids.length) l.table.applyGradients(l.fids, sparse[k]!.grads, { globalStep: step, regularizationScale });
    }
    this.opts.dense.applyGradients(denseGrads, step);
    return this.opts.reportSparse ? looked.map((l, k) => ({ table: l.feature.table, fids: l.fids, grads: sparse[k]!.grads, globalStep: step, regularizationScale })) : undefined;
  }

  private result(batch: Batch, mode: RunMode, opts: RunStepOptions, r: { loss: number | undefined; preds: Float32Array[]; t0: number; t1: number; t2: number; t3: number; sparseUpdates: StepResult['sparseUpdates'] }): StepResult {
    const step = mode === 'train' ? this.opts.dense.nextStep() : (opts.batchIndex ?? 0);
    const predictions: Record<string, Float32Array> = {};
    this.opts.spec.heads.forEach((h, k) => (predictions[h.name] = r.preds[k]!));
    return {
      mode,
      step,
      examples: batch.rows,
      loss: r.loss,
      predictions,
      labels: batch.labels.slice(),
      labelWidth: batch.labelWidth,
      timings: { parse: opts.parseMs, lookup: r.t1 - r.t0, dense: r.t2 - r.t1, apply: r.t3 - r.t2 },
      denseKernel: this.denseKernel,
      worker: this.opts.worker,
      batch: opts.keepBatch ? batch : undefined,
      ...(r.sparseUpdates ? { sparseUpdates: r.sparseUpdates } : {}),
    };
  }

  /**
   * The step with the wasm kernels: the dense model runs forward and backward
   * over the shared weights in place; tfjs only computes the loss and its
   * gradient with respect to the logits (so custom losses keep working).
   */
  private runWasm(wasm: WasmDenseStep, batch: Batch, mode: RunMode, opts: RunStepOptions, looked: LookedUp[], t0: number, t1: number): StepResult {
    const rows = batch.rows;
    const heads = this.opts.spec.heads;
    const outs = wasm.forward([...looked.map((l) => l.pooled), ...this.denseValues(batch)], rows);
    if (outs.length !== heads.length) throw new ConfigError(`model ${this.opts.spec.name}: the dense model has ${outs.length} outputs for ${heads.length} heads`);
    const logits = outs.map((o, k) => tf.tensor2d(o.slice(), [rows, wasm.outputWidths[k]!]));
    let loss: number | undefined;
    let preds: Float32Array[];
    let logitGrads: Float32Array[] = [];
    try {
      preds = tf.tidy(() => this.predictionsOf(logits)).map((p) => {
        const v = p.dataSync() as Float32Array;
        p.dispose();
        return v;
      });
      if (mode === 'train') {
        const { value, grads } = tf.valueAndGrads((...ls: tf.Tensor[]) => this.lossOf(ls, batch))(logits);
        loss = value.dataSync()[0];
        logitGrads = grads.map((g) => g.dataSync() as Float32Array);
        tf.dispose([value, ...grads]);
      } else if (mode === 'eval') {
        const l = tf.tidy(() => this.lossOf(logits, batch));
        loss = l.dataSync()[0];
        l.dispose();
      }
    } finally {
      tf.dispose(logits);
    }
    let t2 = now();
    let t3 = t2;
    let sparseUpdates: StepResult['sparseUpdates'];
    if (mode === 'train') {
      const { dense, pooled } = wasm.backward(logitGrads, looked.length);
      t2 = now();
      sparseUpdates = this.apply(looked, dense, pooled, opts.regularizationScale ?? 1);
      t3 = now();
    }
    return this.result(batch, mode, opts, { loss, preds, t0, t1, t2, t3, sparseUpdates });
  }
}
