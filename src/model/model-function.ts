import type { Batch } from '../batch/batch.js';
import { ConfigError } from '../errors.js';
import { labelColumnValues } from './batch-columns.js';
import { StreamingAuc } from './metrics/streaming-auc.js';
import { StreamingMse } from './metrics/streaming-mse.js';
import { ModeKeys, type Mode } from './mode.js';
import type { ModelSpec } from './model-spec.js';
import type { MonolithModel, TrainingHook } from './monolith-model.js';
import type { OutConfigProps } from './layout.js';
import { PredictionFileWriter, type OutputColumn } from './prediction-output.js';

/** Process-level switches Monolith reads from flags and the task context. */
export interface RunFlags {
  /** This worker's index (Monolith: NativeTaskContext.get().worker_index). Default 0. */
  workerIndex?: number;
  /** Building for export (Monolith: export_context.is_exporting()). */
  exporting?: boolean;
  /** FLAGS.disable_native_metrics. */
  disableNativeMetrics?: boolean;
  /** Makes the Kafka / file metric hook deep insight asks for (the hooks module owns them). */
  metricHookFactory?: (req: MetricHookRequest) => TrainingHook;
}

export type MetricHookRequest =
  | { kind: 'kafka' }
  | { kind: 'file'; workerId: number; parseFn: unknown; keyFn: unknown; layoutFn: unknown; baseName: string; fileExt: string };

/** Arguments of Monolith's write_deep_insight for this model. */
export interface DeepInsightConfig {
  modelName: string;
  target: string;
  targets: string[];
  sampleRatio: number;
  extraFieldsKeys: string[];
  /** Kafka or file metrics are on (the op then emits to the hook rather than the client). */
  enableKafkaMetrics: boolean;
  /** `${dump_filename}.part-{worker:05d}`, or null. */
  dumpFilename: string | null;
  hook: MetricHookRequest | null;
}

/** How TRAIN applies gradients (Monolith: apply_gradients_with_var_optimizer's arguments). */
export interface TrainSettings {
  clipType: 'clip_by_global_norm';
  clipNorm: number;
  denseWeightDecay: number;
  sparseNormWarmupSteps: number | null;
  gradsAndVarsSummary: boolean;
  isFusedLayout: boolean;
  denseOptimizer: NonNullable<ModelSpec['denseOptimizer']>;
}

export interface StepOutputs {
  batch: Batch;
  /** The dense model's outputs: one [rows] (or [rows, 1]) logit array per head. */
  logits: ArrayLike<number>[];
}

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));
const pad5 = (n: number): string => String(n).padStart(5, '0');

/**
 * The model function for one mode, as Monolith's model_fn_internal lays it out:
 * - PREDICT: predictions per head (sigmoid of classification logits), written
 *   to `part-{worker:05d}` when an output path is set and not exporting;
 * - EVAL: the same file output, plus streaming AUC per classification head and
 *   MSE per regression head (unless native metrics are disabled);
 * - TRAIN: the metrics plus `train` settings for applying gradients.
 * Deep insight is configured in TRAIN / EVAL when Kafka, file or deep-insight
 * metrics are on and the sample ratio is positive.
 */
export class ModelFunction {
  readonly metrics = new Map<string, StreamingAuc | StreamingMse>();
  readonly output: PredictionFileWriter | null;
  readonly deepInsight: DeepInsightConfig | null;
  readonly train: TrainSettings | null;
  readonly trainingHooks: readonly TrainingHook[];
  readonly signatureNames: readonly string[];
  readonly exportOutputNames: readonly string[];
  readonly layouts: ReadonlyMap<string, OutConfigProps>;
  readonly headNames: string[];

  constructor(
    readonly model: MonolithModel,
    readonly mode: Mode,
    readonly spec: ModelSpec,
    flags: RunFlags,
  ) {
    const p = model.p;
    const worker = flags.workerIndex ?? 0;
    const exporting = flags.exporting ?? false;
    this.headNames = spec.heads.map((h) => h.name);
    const writesFile = mode !== ModeKeys.TRAIN && !exporting && p.outputPath != null;
    if (writesFile && p.outputFields == null) throw new ConfigError('prediction output: output_path is set but output_fields is not');
    this.output = writesFile ? new PredictionFileWriter({ outputPath: p.outputPath!, workerIndex: worker, outputFields: p.outputFields!, delimiter: p.delimiter, labelKey: p.train.labelKey }) : null;

    if (mode !== ModeKeys.PREDICT && !flags.disableNativeMetrics) {
      for (const h of spec.heads) this.metrics.set(h.name, h.kind === 'classification' ? new StreamingAuc() : new StreamingMse());
    }

    let deepInsight: DeepInsightConfig | null = null;
    const m = p.metrics;
    if (mode !== ModeKeys.PREDICT && (m.enableKafkaMetrics || m.enableFileMetrics || m.enableDeepInsight) && m.deepInsightSampleRatio > 0) {
      const hook: MetricHookRequest | null = m.enableKafkaMetrics
        ? { kind: 'kafka' }
        : m.enableFileMetrics
          ? { kind: 'file', workerId: worker, parseFn: m.parseFn, keyFn: m.keyFn, layoutFn: m.layoutFn, baseName: m.fileBaseName, fileExt: m.fileExt }
          : null;
      deepInsight = {
        modelName: m.deepInsightName || 'model_name',
        target: m.deepInsightTarget,
        targets: [...this.headNames],
        sampleRatio: m.deepInsightSampleRatio,
        extraFieldsKeys: [...m.extraFieldsKeys],
        enableKafkaMetrics: m.enableKafkaMetrics || m.enableFileMetrics,
        dumpFilename: m.dumpFilename ? `${m.dumpFilename}.part-${pad5(worker)}` : null,
        hook,
      };
      if (hook && flags.metricHookFactory) model.addTrainingHook(flags.metricHookFactory(hook));
    }
    this.deepInsight = deepInsight;

    this.train =
      mode === ModeKeys.TRAIN
        ? {
            clipType: 'clip_by_global_norm',
            clipNorm: p.clipNorm,
            denseWeightDecay: p.denseWeightDecay,
            sparseNormWarmupSteps: p.sparseNormWarmupSteps,
            gradsAndVarsSummary: p.enableGradsAndVarsSummary,
            isFusedLayout: model.isFusedLayout(),
            denseOptimizer: spec.denseOptimizer ?? { name: 'adagrad', learningRate: 0.01 },
          }
        : null;
    this.trainingHooks = [...model.trainingHooks];
    this.signatureNames = [...model.signatureNames];
    this.exportOutputNames = [...model.exportOutputs.keys()];
    this.layouts = new Map(model.layoutDict);
  }

  /** Per head: sigmoid(logit) for classification, the logit itself for regression. */
  predictions(logits: ArrayLike<number>[]): Float32Array[] {
    if (logits.length !== this.spec.heads.length) throw new ConfigError(`model function: ${logits.length} logit arrays for ${this.spec.heads.length} heads`);
    return this.spec.heads.map((h, i) => {
      const x = logits[i]!;
      const out = new Float32Array(x.length);
      for (let r = 0; r < x.length; r++) out[r] = h.kind === 'classification' ? sigmoid(x[r]!) : x[r]!;
      return out;
    });
  }

  /** Predictions by head name (Monolith's PREDICT `predictions` dict). */
  predictionDict(logits: ArrayLike<number>[]): Record<string, Float32Array> {
    const preds = this.predictions(logits);
    return Object.fromEntries(this.headNames.map((n, i) => [n, preds[i]!]));
  }

  /** Feeds one step's outputs: updates the streaming metrics and appends to the prediction file. */
  async observe({ batch, logits }: StepOutputs): Promise<Float32Array[]> {
    return this.observePredictions(batch, this.predictions(logits));
  }

  /** As `observe`, from the predictions (one array per head, in head order) a step already computed. */
  async observePredictions(batch: Batch, preds: Float32Array[]): Promise<Float32Array[]> {
    if (preds.length !== this.spec.heads.length) throw new ConfigError(`model function: ${preds.length} prediction arrays for ${this.spec.heads.length} heads`);
    this.spec.heads.forEach((h, i) => {
      if (preds[i]!.length !== batch.rows) throw new ConfigError(`model function: head ${h.name} has ${preds[i]!.length} predictions for ${batch.rows} rows`);
      this.metrics.get(h.name)?.update(labelColumnValues(batch, h.labelIndex), preds[i]!);
    });
    if (this.output) await this.output.append(batch, preds.map((values): OutputColumn => ({ values, width: 1 })));
    return preds;
  }

  /** `{head}_auc` / `{head}_mse` values so far. */
  metricValues(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [name, m] of this.metrics) out[`${name}_${m instanceof StreamingAuc ? 'auc' : 'mse'}`] = m.result();
    return out;
  }

  /** Publishes the prediction file, if any. */
  async close(): Promise<void> {
    await this.output?.close();
  }
}

export function createModelFunction(model: MonolithModel, mode: Mode, flags: RunFlags): ModelFunction {
  const realMode = model.getRealMode(mode);
  if (flags.exporting !== undefined) model.exporting = flags.exporting;
  const spec = model.toModelSpec({ mode: realMode });
  return new ModelFunction(model, realMode, spec, flags);
}
