import test from 'ava';
import { of } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { checkpointOperator } from '../../src/graph/checkpoint-operator.js';
import type { StepResult } from '../../src/graph/step-result.js';

const r = (step: number): StepResult => ({ mode: 'train', step, examples: 1 });

function scheduler(t: { deepEqual(a: unknown, b: unknown): void }) {
  return new TestScheduler((a, b) => t.deepEqual(a, b));
}

test('every N steps: saves when the step advanced N since the last save, and once more at the end', (t) => {
  const ts = scheduler(t);
  ts.run(({ cold, expectObservable }) => {
    const saved: number[] = [];
    let current = 0;
    const src = cold('a-b-c-d-e|', { a: r(1), b: r(2), c: r(3), d: r(4), e: r(5) });
    const op = checkpointOperator(() => { saved.push(current); return of(current); }, { everySteps: 2 });
    const tracked = cold('a-b-c-d-e|', { a: 1, b: 2, c: 3, d: 4, e: 5 });
    tracked.subscribe((s) => (current = s));
    expectObservable(src.pipe(op)).toBe('a-b-c-d-e|', { a: r(1), b: r(2), c: r(3), d: r(4), e: r(5) });
    ts.flush();
    t.deepEqual(saved, [2, 4, 5]);
  });
});

test('timer-based saves happen at step boundaries after each period', (t) => {
  const ts = scheduler(t);
  ts.run(({ cold, flush }) => {
    const savedAt: number[] = [];
    const src = cold('a 999ms b 999ms c 999ms d 999ms e|', { a: r(1), b: r(2), c: r(3), d: r(4), e: r(5) });
    src.pipe(checkpointOperator(() => { savedAt.push(ts.now()); return of(savedAt.length); }, { everySeconds: 1.5, saveOnComplete: false, scheduler: ts })).subscribe();
    flush();
    // steps at 0, 1000, 2000, 3000, 4000 ms; timer ticks at 1500 and 3000 (after d in the same frame):
    // saves at the first step after each tick, c and e.
    t.deepEqual(savedAt, [2000, 4000]);
  });
});

test('eval results never trigger saves; bad triggers are ConfigErrors', (t) => {
  const saved: number[] = [];
  of<StepResult>({ mode: 'eval', step: 10, examples: 1 }).pipe(checkpointOperator(() => of(saved.push(1)), { everySteps: 1, saveOnComplete: false })).subscribe();
  t.deepEqual(saved, []);
  t.throws(() => checkpointOperator(() => of(0), {}), { message: /everySteps, everySeconds or both/ });
  t.throws(() => checkpointOperator(() => of(0), { everySteps: 0 }), { message: /positive integer/ });
});
