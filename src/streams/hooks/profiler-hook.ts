import { hostname } from 'node:os';
import { join } from 'node:path';
import { asyncScheduler, type MonoTypeOperatorFunction, type SchedulerLike } from 'rxjs';
import { ConfigError } from '../../errors.js';
import type { StepResult } from '../../graph/step-result.js';
import { writeFileAtomic } from '../../io/atomic-file.js';
import { log } from '../../util/log.js';
import type { CpuProfiler } from './cpu-profiler.js';
import { ThreadsCpuProfiler, type ThreadProfile } from './threads-cpu-profiler.js';
import { passThrough } from './pass-through.js';
import { SecondOrStepTimer } from './second-or-step-timer.js';

export interface ProfilerHookOptions {
  /**
   * Profiles go to `<logdir>/plugins/profile/<run>/<host>.cpuprofile` (this
   * thread) and `<host>.worker-<threadId>.cpuprofile` (each worker thread).
   */
  logdir: string;
  /** `[start, end)` of the first profiled window (steps counted from 1 by this hook); `[null, null]`: from step 501, 10 steps. */
  initStepRange: readonly [number | null, number | null];
  /** Profile again every `saveSteps` steps (must exceed the window length) … */
  saveSteps?: number;
  /** … or every `saveSecs` seconds. */
  saveSecs?: number;
  /** Default: V8's CPU profiler over node:inspector on this thread and every worker thread (ThreadsCpuProfiler). */
  profiler?: CpuProfiler | ProfilerOfThreads;
  /** Clock for saveSecs and run names; default asyncScheduler. */
  scheduler?: SchedulerLike;
  host?: string;
  /** Called after each profile is written. */
  onProfile?: (path: string) => void;
}

/** A profiler that returns one profile per thread. */
export interface ProfilerOfThreads {
  start(): void;
  stop(): Promise<ThreadProfile[]>;
  dispose(): void;
}

const DEFAULT_DELTA = 10;

function runName(ms: number, step: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  const stamp = `${d.getUTCFullYear()}_${p(d.getUTCMonth() + 1)}_${p(d.getUTCDate())}_${p(d.getUTCHours())}_${p(d.getUTCMinutes())}_${p(d.getUTCSeconds())}`;
  return `${stamp}_step${step}`;
}

/**
 * Tf2ProfilerHook on V8: profiles the steps of `initStepRange`, then a window
 * of the same length each time the save timer fires, writing one
 * `.cpuprofile` per thread and window. The option checks and window
 * arithmetic are the seed's; the profiles are V8's CPU profiles of this
 * thread and of the worker threads that run the steps, instead of a TF trace.
 */
export function profilerHook(opts: ProfilerHookOptions): MonoTypeOperatorFunction<StepResult> {
  let [initStart, initEnd] = opts.initStepRange;
  if (initStart !== null && (initEnd === null || initEnd <= initStart)) {
    throw new ConfigError(`End step invalid, start_step: ${initStart}, end_step: ${initEnd}`);
  }
  const delta = initEnd !== null && initStart !== null ? initEnd - initStart : DEFAULT_DELTA;
  if (opts.saveSteps !== undefined && opts.saveSteps <= delta) {
    throw new ConfigError(`Save steps must be greater than delta steps(default: ${DEFAULT_DELTA}), got saveSteps ${opts.saveSteps} for a window of ${delta}`);
  }
  const scheduler = opts.scheduler ?? asyncScheduler;
  // validates saveSteps / saveSecs (exactly one)
  new SecondOrStepTimer({ everySteps: opts.saveSteps, everySecs: opts.saveSecs }, () => scheduler.now());

  return passThrough<StepResult>((fail) => {
    const profiler = opts.profiler ?? new ThreadsCpuProfiler();
    const ownsProfiler = opts.profiler === undefined;
    const timer = new SecondOrStepTimer({ everySteps: opts.saveSteps, everySecs: opts.saveSecs }, () => scheduler.now());
    const host = opts.host ?? hostname();
    let startStep = initStart;
    let endStep = initEnd;
    let currentStep = 0;
    let profiling: { startStep: number } | undefined;
    const writes = new Set<Promise<void>>();

    const startProfiling = () => {
      if (profiling) return; // still profiling from the last window: keep going, as the seed does
      profiler.start();
      profiling = { startStep: currentStep };
    };
    const stopProfiling = () => {
      if (!profiling) return;
      const name = runName(scheduler.now(), profiling.startStep);
      profiling = undefined;
      const dir = join(opts.logdir, 'plugins', 'profile', name);
      const write = (profiler.stop() as Promise<object | ThreadProfile[]>)
        .then(async (got) => {
          const list: ThreadProfile[] = Array.isArray(got) ? got : [{ thread: 'main', profile: got }];
          for (const { thread, profile } of list) {
            const path = join(dir, thread === 'main' ? `${host}.cpuprofile` : `${host}.${thread}.cpuprofile`);
            log.debug(`profiler: writing ${path}`);
            await writeFileAtomic(path, JSON.stringify(profile));
            opts.onProfile?.(path);
          }
        })
        .catch((err: unknown) => fail(err));
      writes.add(write);
      void write.finally(() => writes.delete(write));
    };
    const drain = async () => {
      stopProfiling();
      await Promise.all([...writes]);
    };

    return {
      next() {
        currentStep += 1;
        if (startStep === null) {
          startStep = currentStep + 500;
          endStep = startStep + DEFAULT_DELTA;
        }
        if (currentStep < startStep) return;
        if (currentStep >= endStep!) stopProfiling();
        if (timer.shouldTriggerForStep(currentStep)) {
          startProfiling();
          timer.updateLastTriggeredStep(currentStep);
          startStep = currentStep;
          endStep = startStep + delta;
        }
      },
      complete: drain,
      error: drain,
      teardown() {
        if (profiling) {
          profiling = undefined;
          void profiler.stop().catch(() => undefined);
        }
        if (ownsProfiler) void Promise.all([...writes]).finally(() => profiler.dispose());
      },
    };
  });
}
