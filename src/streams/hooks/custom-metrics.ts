import type { MonoTypeOperatorFunction } from 'rxjs';
import { ConfigError } from '../../errors.js';
import type { StepResult } from '../../graph/step-result.js';
import { defaultMetricsClient } from '../../metrics/default-client.js';
import type { MetricsClient } from '../../metrics/metrics-client.js';
import { warnFirstN } from '../../util/log.js';
import { passThrough } from './pass-through.js';

/** What is known of a metric tensor: a tfjs Tensor fits this shape. */
export interface MetricTensorSpec {
  dtype: string;
  shape: readonly number[];
}

export interface CustomMetricsOptions {
  /** The metrics the model reports in `StepResult.metrics`, by name: scalar float32 or int32 each. */
  metrics: Record<string, MetricTensorSpec>;
  client?: MetricsClient;
}

/**
 * CustomMetricHook: emits each declared metric of every step as a store
 * (as a float). Declared metrics must be scalars of dtype float32 or int32,
 * and there must be at least one: otherwise a ConfigError with the seed's message.
 */
export function customMetrics(opts: CustomMetricsOptions): MonoTypeOperatorFunction<StepResult> {
  const names = Object.keys(opts.metrics);
  for (const name of names) {
    const spec = opts.metrics[name]!;
    if (spec.shape.length > 0) throw new ConfigError(`The metric tensor should be a scalar! (${name}: shape [${spec.shape.join(', ')}])`);
    if (spec.dtype !== 'float32' && spec.dtype !== 'int32') {
      throw new ConfigError(`The dtype of a metric tensor should be either tf.float or tf.int32! (${name}: ${spec.dtype})`);
    }
  }
  if (names.length === 0) throw new ConfigError('At least one metric tensor should be offered!');
  return passThrough<StepResult>(() => {
    const client = opts.client ?? defaultMetricsClient();
    return {
      next(result) {
        for (const name of names) {
          const value = result.metrics?.[name];
          if (value === undefined) {
            warnFirstN(`customMetrics:${name}`, 1, `customMetrics: step ${result.step} did not report metric ${name}`);
            continue;
          }
          client.emitStore(name, Number(value));
        }
      },
    };
  });
}
