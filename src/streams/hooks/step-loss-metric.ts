import type { MonoTypeOperatorFunction } from 'rxjs';
import type { StepResult } from '../../graph/step-result.js';
import { defaultMetricsClient } from '../../metrics/default-client.js';
import type { MetricsClient } from '../../metrics/metrics-client.js';
import { passThrough } from './pass-through.js';

/** StepLossMetricHook: emits each step's loss as the `step_loss` store (steps without a loss emit nothing). */
export function stepLossMetric(opts: { client?: MetricsClient } = {}): MonoTypeOperatorFunction<StepResult> {
  return passThrough<StepResult>(() => {
    const client = opts.client ?? defaultMetricsClient();
    return {
      next(result) {
        if (result.loss !== undefined) client.emitStore('step_loss', result.loss);
      },
    };
  });
}
