import { asyncScheduler, type MonoTypeOperatorFunction, type SchedulerLike } from 'rxjs';
import type { StepResult } from '../../graph/step-result.js';
import { defaultMetricsClient } from '../../metrics/default-client.js';
import type { MetricsClient } from '../../metrics/metrics-client.js';
import { log } from '../../util/log.js';
import { passThrough } from './pass-through.js';

export interface ThroughputMetricOptions {
  modelName: string;
  /** When the job started (Unix seconds): emits `run_start_elapsed_time.all` once, at subscription. */
  startTimeSecs?: number;
  clusterType?: string;
  /** Seconds between two `run_steps.all` points (default 30). */
  runEveryNSecs?: number;
  client?: MetricsClient;
  /** Clock (its `now()` in ms); default asyncScheduler. */
  scheduler?: SchedulerLike;
}

/**
 * ThroughputMetricHook: every `runEveryNSecs` (checked as results arrive)
 * emits `run_steps.all` (steps since the last point) and
 * `run_steps_elapsed_time.all` (seconds per step), tagged model_name and
 * cluster_type. Times are whole seconds, as in the seed. An interval without
 * steps emits the counter but no timer (the seed divided by zero).
 */
export function throughputMetric(opts: ThroughputMetricOptions): MonoTypeOperatorFunction<StepResult> {
  const runEvery = opts.runEveryNSecs ?? 30;
  const scheduler = opts.scheduler ?? asyncScheduler;
  const tags = { model_name: opts.modelName, cluster_type: opts.clusterType ?? 'stable' };
  return passThrough<StepResult>(() => {
    const client = opts.client ?? defaultMetricsClient();
    const secs = () => Math.floor(scheduler.now() / 1000);
    let emitTime = secs();
    let emitStep: number | undefined;
    if (opts.startTimeSecs !== undefined) {
      const elapsed = emitTime - opts.startTimeSecs;
      log.info(`Run start took ${elapsed}s.`);
      client.emitTimer('run_start_elapsed_time.all', elapsed, tags);
    }
    return {
      next(result) {
        // the global step before the first batch of this run
        emitStep ??= result.step - 1;
        const end = secs();
        const elapsed = end - emitTime;
        if (elapsed < runEvery) return;
        const steps = result.step - emitStep;
        client.emitCounter('run_steps.all', steps, tags);
        if (steps > 0) client.emitTimer('run_steps_elapsed_time.all', elapsed / steps, tags);
        emitStep = result.step;
        emitTime = end;
      },
    };
  });
}
