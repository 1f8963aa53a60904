import type { Mode } from './mode.js';

/** Monolith's ExportModeName. */
export type ExportModeName = 'standalone' | 'distributed';

export interface MetricsParams {
  enableDeepInsight: boolean;
  deepInsightTarget: string;
  deepInsightName: string | null;
  deepInsightSampleRatio: number;
  extraFieldsKeys: string[];
  enableThroughputHook: boolean;
  enableKafkaMetrics: boolean;
  enableTf2ProfilerHook: boolean;
  enableFileMetrics: boolean;
  fileBaseName: string;
  fileExt: string;
  /** Callbacks of the file metric hook (another module's types; opaque here). */
  parseFn: unknown;
  keyFn: unknown;
  layoutFn: unknown;
  dumpFilename: string;
  useDataService: boolean;
}

export interface TrainParams {
  // BaseTask
  steps: number | null;
  maxSteps: number | null;
  perReplicaBatchSize: number | null;
  filePattern: string | null;
  repeat: boolean;
  labelKey: string;
  saveCheckpointsSteps: number | null;
  saveCheckpointsSecs: number | null;
  denseOnlySaveCheckpointsSecs: number | null;
  denseOnlySaveCheckpointsSteps: number | null;
  // NativeTask
  maxPendingSecondsForBarrier: number;
  slowStartSteps: number;
  sampleBias: number;
  useGpuEmbTable: boolean;
  useFountain: boolean;
  fountainZkHost: string;
  fountainModelName: string;
  fountainParseOnServer: boolean;
  fountainPrecomputeValueRowids: boolean;
}

export interface EvalParams {
  perReplicaBatchSize: number | null;
  stepsPerEval: number;
  steps: number | null;
}

export interface InputParams {
  evalExamples: number | null;
  trainExamples: number | null;
}

export interface ServingParams {
  exportWithGpuAllowed: boolean;
  exportWithClearedEntryDevices: boolean;
  exportWhenSaving: boolean;
  exportDirBase: string;
  exportMode: ExportModeName;
  sharedEmbedding: boolean;
  withRemoteGpu: boolean;
}

/** `NativeTask.params()`: BaseTask's groups plus the native-training ones. */
export interface NativeTaskParams {
  name: string;
  accelerator: string | null;
  input: InputParams;
  eval: EvalParams;
  train: TrainParams;
  metrics: MetricsParams;
  /** Run mode the model function sees when it is called with TRAIN (see `getRealMode`). */
  mode: Mode;
  serving: ServingParams;
}

/** `MonolithBaseModel.params()` adds output and gradient settings. */
export interface MonolithBaseModelParams extends NativeTaskParams {
  outputPath: string | null;
  /** Comma-separated feature names written before the predictions. */
  outputFields: string | null;
  delimiter: string;
  fileName: string;
  enableGradsAndVarsSummary: boolean;
  denseWeightDecay: number;
  clipNorm: number;
  sparseNormWarmupSteps: number | null;
  defaultOccurrenceThreshold: number;
}

/** `MonolithModel.params()` adds the feature list: feature name → slot (Monolith: a feature_list.conf path). */
export interface MonolithModelParams extends MonolithBaseModelParams {
  featureList: Record<string, number> | null;
}

export function nativeTaskParams(): NativeTaskParams {
  return {
    name: '',
    accelerator: null,
    input: { evalExamples: null, trainExamples: null },
    eval: { perReplicaBatchSize: null, stepsPerEval: 10000, steps: null },
    train: {
      steps: null,
      maxSteps: null,
      perReplicaBatchSize: null,
      filePattern: null,
      repeat: false,
      labelKey: 'label',
      saveCheckpointsSteps: null,
      saveCheckpointsSecs: null,
      denseOnlySaveCheckpointsSecs: null,
      denseOnlySaveCheckpointsSteps: null,
      maxPendingSecondsForBarrier: 30,
      slowStartSteps: 0,
      sampleBias: 0,
      useGpuEmbTable: false,
      useFountain: false,
      fountainZkHost: '',
      fountainModelName: '',
      fountainParseOnServer: false,
      fountainPrecomputeValueRowids: false,
    },
    metrics: {
      enableDeepInsight: false,
      deepInsightTarget: 'ctr_head',
      deepInsightName: null,
      deepInsightSampleRatio: 0.01,
      extraFieldsKeys: [],
      enableThroughputHook: true,
      enableKafkaMetrics: false,
      enableTf2ProfilerHook: true,
      enableFileMetrics: false,
      fileBaseName: '/vepfs/jaguar_deepinsight_results',
      fileExt: 'txt',
      parseFn: null,
      keyFn: null,
      layoutFn: null,
      dumpFilename: '',
      useDataService: false,
    },
    mode: 'train',
    serving: {
      exportWithGpuAllowed: false,
      exportWithClearedEntryDevices: false,
      exportWhenSaving: false,
      exportDirBase: 'exported_models',
      exportMode: 'distributed',
      sharedEmbedding: true,
      withRemoteGpu: false,
    },
  };
}

export function monolithBaseModelParams(): MonolithBaseModelParams {
  return {
    ...nativeTaskParams(),
    outputPath: null,
    outputFields: null,
    delimiter: '\t',
    fileName: '',
    enableGradsAndVarsSummary: false,
    denseWeightDecay: 0,
    clipNorm: 1000,
    sparseNormWarmupSteps: null,
    defaultOccurrenceThreshold: 0,
  };
}

export function monolithModelParams(): MonolithModelParams {
  return { ...monolithBaseModelParams(), featureList: null };
}

type DeepPartial<T> = { [K in keyof T]?: T[K] extends (infer U)[] ? U[] : T[K] extends object | null ? DeepPartial<NonNullable<T[K]>> | T[K] : T[K] };
export type ParamsOverrides<T> = DeepPartial<T>;

/** Fresh defaults with `overrides` merged in, group by group (arrays and maps are replaced, not merged). */
export function withOverrides<T extends object>(defaults: T, overrides: ParamsOverrides<T> = {}): T {
  const out: Record<string, unknown> = { ...(defaults as unknown as Record<string, unknown>) };
  for (const [k, v] of Object.entries(overrides)) {
    const base = (defaults as unknown as Record<string, unknown>)[k];
    const isGroup = base !== null && typeof base === 'object' && !Array.isArray(base) && ['input', 'eval', 'train', 'metrics', 'serving'].includes(k);
    out[k] = isGroup && v !== null && typeof v === 'object' ? { ...(base as object), ...(v as object) } : v;
  }
  return out as T;
}
