import { asyncScheduler, filter, map, pipe, type OperatorFunction, type SchedulerLike } from 'rxjs';
import { lineIdColumn, type Batch, type LineIdValues } from '../../batch/batch.js';
import { ConfigError, FormatError } from '../../errors.js';
import type { StepResult } from '../../graph/step-result.js';
import { writeDeepInsight, writeDeepInsightV2, type DeepInsightCommon } from '../../metrics/deep-insight.js';
import { warnFirstN } from '../../util/log.js';

export interface DeepInsightOptions extends Omit<DeepInsightCommon, 'trainTime'> {
  /** Single-target messages (v1) for this head; default the only head of the result. */
  target?: string;
  /** Multi-target messages (v2) for these heads, when non-empty. */
  targets?: readonly string[];
  /** Label column of each head in StepResult.labels; default 0 for one label column, else the head's position among the result's predictions (heads order). */
  labelIndex?: Readonly<Record<string, number>>;
  /** v2: one LineId column per target holding its sample rate (sample_rates_list); default `sample_rate` for all. */
  sampleRateFields?: readonly string[];
  /** v2: LineId columns written as extra fields; `uid` is always added (to a copy). */
  extraFieldsKeys?: readonly string[];
  /** Clock for train_time; default asyncScheduler. */
  scheduler?: SchedulerLike;
}

function column(batch: Batch, name: string): LineIdValues {
  const values = lineIdColumn(batch, name);
  if (!values) throw new FormatError(`the batch has no LineId column ${name}`, { field: name });
  return values;
}

function labelsOf(result: StepResult, target: string, explicit: number | undefined): Float32Array {
  const { labels, labelWidth = 1 } = result;
  const index = explicit ?? (labelWidth === 1 ? 0 : Object.keys(result.predictions ?? {}).indexOf(target));
  if (!labels) throw new ConfigError(`deep insight: step ${result.step} (${result.mode}) has no labels`);
  if (index < 0) predsOf(result, target); // throws: the head does not exist
  if (index >= labelWidth) throw new ConfigError(`deep insight: label column ${index} of ${target} is outside the label width ${labelWidth}`);
  const out = new Float32Array(result.examples);
  for (let r = 0; r < result.examples; r++) out[r] = labels[r * labelWidth + index]!;
  return out;
}

function predsOf(result: StepResult, target: string): Float32Array {
  const preds = result.predictions?.[target];
  if (!preds) {
    throw new ConfigError(`deep insight: no predictions for head ${target} (heads: ${Object.keys(result.predictions ?? {}).join(', ') || 'none'})`);
  }
  return preds;
}

/**
 * The deep-insight messages of one step (metric/utils.write_deep_insight):
 * empty when the batch has no `req_time`; single-target (v1) unless
 * `targets` is given, then multi-target (v2) with extra fields. Only
 * sampled rows yield a message.
 */
export function deepInsightMessages(result: StepResult, opts: DeepInsightOptions): string[] {
  const batch = result.batch;
  if (!batch) throw new ConfigError('deep insight needs StepResult.batch (its LineId fields)');
  const reqTimes = lineIdColumn(batch, 'req_time');
  if (!reqTimes) {
    warnFirstN('deepInsight:req_time', 1, 'Disabling deep_insight because req_time is absent');
    return [];
  }
  const trainTime = Math.floor((opts.scheduler ?? asyncScheduler).now() / 1000);
  const common = { ...opts, trainTime };
  let msgs: string[];
  if (!opts.targets || opts.targets.length === 0) {
    const heads = Object.keys(result.predictions ?? {});
    const target = opts.target ?? (heads.length === 1 ? heads[0]! : undefined);
    if (target === undefined) throw new ConfigError(`deep insight: name the target head (heads: ${heads.join(', ') || 'none'})`);
    msgs = writeDeepInsight({
      ...common,
      target,
      uids: column(batch, 'uid'),
      reqTimes,
      labels: labelsOf(result, target, opts.labelIndex?.[target]),
      preds: predsOf(result, target),
      sampleRates: Float32Array.from(column(batch, 'sample_rate') as ArrayLike<number>, Number),
    });
  } else {
    const targets = opts.targets;
    const rateFields: unknown = opts.sampleRateFields;
    let sampleRates: LineIdValues[];
    if (rateFields === undefined || (Array.isArray(rateFields) && rateFields.length === 0)) {
      const rates = column(batch, 'sample_rate');
      sampleRates = targets.map(() => rates);
    } else if (Array.isArray(rateFields)) {
      sampleRates = (rateFields as (string | null | undefined)[]).filter((f): f is string => f != null).map((f) => column(batch, f));
    } else {
      throw new ConfigError('sample_rates_list error!');
    }
    const keys = opts.extraFieldsKeys ?? [];
    const extraFieldsKeys = keys.includes('uid') ? [...keys] : [...keys, 'uid'];
    msgs = writeDeepInsightV2({
      ...common,
      targets,
      reqTimes,
      labels: targets.map((t) => labelsOf(result, t, opts.labelIndex?.[t])),
      preds: targets.map((t) => predsOf(result, t)),
      sampleRates: sampleRates.map((r) => Float32Array.from(r as ArrayLike<number>, Number)),
      extraFieldsKeys,
      extraFieldsValues: extraFieldsKeys.map((k) => column(batch, k)),
    });
  }
  return msgs.filter((m) => m.length > 0);
}

/** The deep-insight messages of each step, as a stream (steps without a sampled row emit nothing). */
export function deepInsight(opts: DeepInsightOptions): OperatorFunction<StepResult, string[]> {
  return pipe(
    map((result: StepResult) => deepInsightMessages(result, opts)),
    filter((msgs) => msgs.length > 0),
  );
}
