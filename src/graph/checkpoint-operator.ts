import { asyncScheduler, concat, concatMap, defer, EMPTY, from, interval, last, map, Observable, of, type ObservableInput, type OperatorFunction, type SchedulerLike } from 'rxjs';
import { ConfigError } from '../errors.js';
import type { StepResult } from './step-result.js';

export interface CheckpointTrigger {
  /** Save once the step advanced this many steps since the last save. */
  everySteps?: number;
  /** Save at the first step result after this many seconds since the last timer tick. */
  everySeconds?: number;
  /** Time source for everySeconds (RxJS TestScheduler in tests). */
  scheduler?: SchedulerLike;
  /** Save once more when the stream completes, if steps ran since the last save (default true). */
  saveOnComplete?: boolean;
}

/**
 * The checkpoint node: passes step results through and, when due (every N
 * steps or T seconds, checked at step boundaries like Monolith's
 * CheckpointSaverHook), runs `save()` before passing the result on.
 * `save` returns (or emits) the step it saved; `startStep` is the step the run
 * starts from (a restored checkpoint's step).
 */
export function checkpointOperator(save: () => ObservableInput<number>, trigger: CheckpointTrigger, startStep = 0): OperatorFunction<StepResult, StepResult> {
  const { everySteps, everySeconds } = trigger;
  if (everySteps !== undefined && !(Number.isInteger(everySteps) && everySteps > 0)) throw new ConfigError(`checkpoint: everySteps must be a positive integer, got ${everySteps}`);
  if (everySeconds !== undefined && !(everySeconds > 0)) throw new ConfigError(`checkpoint: everySeconds must be > 0, got ${everySeconds}`);
  if (everySteps === undefined && everySeconds === undefined) throw new ConfigError('checkpoint: give everySteps, everySeconds or both');
  return (source) =>
    new Observable<StepResult>((subscriber) => {
      let lastSaved = startStep;
      let lastSeen = startStep;
      let due = false;
      const timer = everySeconds !== undefined ? interval(everySeconds * 1000, trigger.scheduler ?? asyncScheduler).subscribe(() => (due = true)) : undefined;
      const saveNow = () =>
        from(save()).pipe(
          last(),
          map((step) => {
            lastSaved = step;
            due = false;
          }),
        );
      const main$ = source.pipe(
        concatMap((r) => {
          lastSeen = Math.max(lastSeen, r.step);
          const byStep = everySteps !== undefined && r.step - lastSaved >= everySteps;
          if (r.mode !== 'train' || !(byStep || due)) return of(r);
          return saveNow().pipe(map(() => r));
        }),
      );
      const final$ = defer(() => ((trigger.saveOnComplete ?? true) && lastSeen > lastSaved ? saveNow().pipe(concatMap(() => EMPTY)) : EMPTY));
      const sub = concat(main$, final$).subscribe(subscriber);
      return () => {
        timer?.unsubscribe();
        sub.unsubscribe();
      };
    });
}
