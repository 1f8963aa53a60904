import type { MonoTypeOperatorFunction, SchedulerLike } from 'rxjs';
import { ConfigError } from '../errors.js';
import type { NamedOperator } from '../graph/training-pipeline.js';
import type { StepResult } from '../graph/step-result.js';
import type { MetricsClient } from '../metrics/metrics-client.js';
import type { ModelFunction } from '../model/model-function.js';
import type { MonolithModel } from '../model/monolith-model.js';
import { deepInsightMessages, type DeepInsightOptions } from '../streams/hooks/deep-insight.js';
import { passThrough } from '../streams/hooks/pass-through.js';
import { profilerHook, type ProfilerHookOptions } from '../streams/hooks/profiler-hook.js';
import { stepLossMetric } from '../streams/hooks/step-loss-metric.js';
import { throughputMetric } from '../streams/hooks/throughput-metric.js';
import { fileMetricSink } from '../streams/sinks/file-metric-sink.js';
import { kafkaMetricSink } from '../streams/sinks/kafka-metric-sink.js';
import { vepfsKeyFn } from '../streams/sinks/metric-layout.js';
import { AtomicFileWriter } from '../io/atomic-file.js';

/** Process-level settings of the hooks a task's params enable. */
export interface TaskHookSettings {
  metricsClient?: MetricsClient;
  /** Clock of the throughput hook, the profiler windows and deep insight's train_time. */
  scheduler?: SchedulerLike;
  /** Where the profiler hook writes (`<dir>/plugins/profile/…`); without it the profiler is not attached. */
  profileDir?: string;
  /** The profiler's windows (default: steps 501-510, then every 1,000,000 steps). */
  profiler?: Partial<Pick<ProfilerHookOptions, 'initStepRange' | 'saveSteps' | 'saveSecs' | 'onProfile' | 'host'>>;
  /** Kafka of the Kafka metric hook (default KAFKA_BROKER_LIST / KAFKA_TOPIC_NAME). */
  kafka?: { brokers?: string; topic?: string; env?: Readonly<Record<string, string | undefined>> };
  /** File metric hook: its directory root instead of `metrics.file_base_name`. */
  fileMetricBaseName?: string;
  /** This worker's index (file metric directories, prediction file names). */
  workerIndex?: number;
}

/** The operators attached after the step, and whether they need each StepResult's batch. */
export interface TaskHooks {
  hooks: NamedOperator[];
  sinks: NamedOperator[];
  keepBatch: boolean;
}

const fnOrUndefined = <F>(v: unknown): F | undefined => (typeof v === 'function' ? (v as F) : undefined);

/**
 * Per-head AUC / MSE and prediction files of the model function: each step's
 * predictions (head order) and batch go to `fn.observePredictions`; at the
 * end the prediction file is published and `{head}_auc` / `{head}_mse` are
 * emitted as stores.
 */
export function modelFunctionSink(fn: ModelFunction, client?: MetricsClient): MonoTypeOperatorFunction<StepResult> {
  return passThrough<StepResult>((fail) => {
    let chain: Promise<unknown> = Promise.resolve();
    return {
      next(r) {
        if (!r.batch) throw new ConfigError('model function: the step result carries no batch (run with keepBatch)');
        const preds = fn.headNames.map((h) => {
          const p = r.predictions?.[h];
          if (!p) throw new ConfigError(`model function: step ${r.step} has no predictions for head ${h}`);
          return p;
        });
        const batch = r.batch;
        chain = chain.then(() => fn.observePredictions(batch, preds)).catch(fail);
      },
      async complete() {
        await chain;
        await fn.close();
        for (const [name, value] of Object.entries(fn.metricValues())) client?.emitStore(name, value);
      },
      async error() {
        await chain.catch(() => undefined);
        await fn.close().catch(() => undefined);
      },
    };
  });
}

/** Deep insight's dump file: every message of the run, one per line, published (temp file + rename) at the end. */
export function deepInsightDumpSink(path: string, messages: (r: StepResult) => string[]): MonoTypeOperatorFunction<StepResult> {
  return passThrough<StepResult>((fail) => {
    let chain: Promise<AtomicFileWriter | undefined> = Promise.resolve(undefined);
    return {
      next(r) {
        const msgs = messages(r);
        if (msgs.length === 0) return;
        const text = Buffer.from(msgs.map((m) => `${m}\n`).join(''), 'utf8');
        chain = chain.then(async (w) => {
          const writer = w ?? (await AtomicFileWriter.open(path));
          await writer.write(text);
          return writer;
        });
        chain.catch(fail);
      },
      async complete() {
        await (await chain)?.close();
      },
      async error() {
        await (await chain.catch(() => undefined))?.abort();
      },
    };
  });
}

/**
 * The hooks a task's params enable, as graph operators:
 * - `metrics.enable_throughput_hook` → throughputMetric;
 * - train mode → stepLossMetric;
 * - the model function's per-head AUC / MSE (unless native metrics are off)
 *   and its prediction file (eval / predict with `output_path`);
 * - deep insight (Kafka, file or deep-insight metrics with a positive
 *   sample ratio) → kafkaMetricSink or fileMetricSink of its messages, or
 *   with deep-insight metrics alone its `dump_filename.part-<worker>` file;
 * - `metrics.enable_tf2_profiler_hook` (with a profile dir) → profilerHook;
 * - every hook added with `addTrainingHook` that carries an operator.
 */
export function taskHooks(task: MonolithModel, fn: ModelFunction, s: TaskHookSettings = {}): TaskHooks {
  const p = task.p;
  const m = p.metrics;
  const modelName = p.name || task.constructor.name;
  const hooks: NamedOperator[] = [];
  const sinks: NamedOperator[] = [];
  let keepBatch = false;
  if (m.enableThroughputHook) hooks.push({ name: 'throughput', op: throughputMetric({ modelName, client: s.metricsClient, scheduler: s.scheduler }) });
  if (fn.mode === 'train') hooks.push({ name: 'step-loss', op: stepLossMetric({ client: s.metricsClient }) });
  if (fn.metrics.size > 0 || fn.output) {
    keepBatch = true;
    sinks.push({ name: fn.output ? 'metrics-and-predictions' : 'head-metrics', op: modelFunctionSink(fn, s.metricsClient) });
  }
  const di = fn.deepInsight;
  if (di && (di.hook || di.dumpFilename)) {
    keepBatch = true;
    const opts: DeepInsightOptions = {
      modelName: di.modelName,
      sampleRatio: di.sampleRatio,
      scheduler: s.scheduler,
      ...(di.targets.length > 1 ? { targets: di.targets, extraFieldsKeys: di.extraFieldsKeys } : { target: di.targets[0] ?? di.target }),
    };
    const messages = (r: StepResult) => deepInsightMessages(r, opts);
    if (!di.hook) {
      sinks.push({ name: 'deep-insight-dump', op: deepInsightDumpSink(di.dumpFilename!, messages) });
    } else if (di.hook.kind === 'kafka') {
      sinks.push({ name: 'kafka-metrics', op: kafkaMetricSink<StepResult>({ messages, brokers: s.kafka?.brokers, topic: s.kafka?.topic, env: s.kafka?.env }) });
    } else {
      sinks.push({
        name: 'file-metrics',
        op: fileMetricSink<StepResult>({
          messages,
          workerId: s.workerIndex ?? 0,
          keyFn: fnOrUndefined(m.keyFn) ?? vepfsKeyFn,
          layoutFn: fnOrUndefined(m.layoutFn),
          parseFn: fnOrUndefined(m.parseFn),
          baseName: s.fileMetricBaseName ?? m.fileBaseName,
          fileExt: m.fileExt,
          scheduler: s.scheduler,
        }),
      });
    }
  }
  if (m.enableTf2ProfilerHook && s.profileDir) {
    const pr: NonNullable<TaskHookSettings['profiler']> = s.profiler ?? {};
    hooks.push({
      name: 'profiler',
      op: profilerHook({ logdir: s.profileDir, initStepRange: pr.initStepRange ?? [null, null], saveSteps: pr.saveSecs === undefined ? (pr.saveSteps ?? 1_000_000) : undefined, saveSecs: pr.saveSecs, onProfile: pr.onProfile, host: pr.host, scheduler: s.scheduler }),
    });
  }
  task.trainingHooks.forEach((h, i) => {
    if (h.op) hooks.push({ name: h.name ?? `hook-${h.kind}-${i + 1}`, op: h.op as MonoTypeOperatorFunction<StepResult> });
  });
  return { hooks, sinks, keepBatch };
}
