import test from 'ava';
import { defaultTaskContext, getTaskContext, resetTaskContext, withCtx, type NativeTaskContext } from '../../src/context/native-task-context.js';

const ctx = (serverType: string, workerIndex = 0): NativeTaskContext => ({ ...defaultTaskContext(), serverType, workerIndex, modelName: 'm' });

test.serial.beforeEach(() => resetTaskContext());

test.serial('get() without a context gives the defaults, a fresh object each time', (t) => {
  t.deepEqual(getTaskContext(), { numPs: 0, psIndex: 0, numWorkers: 1, workerIndex: 0, serverType: '', modelName: '', syncBackend: null });
  t.not(getTaskContext(), getTaskContext());
});

test.serial('withCtx sets the context and get() returns that very object', (t) => {
  const a = ctx('worker', 2);
  withCtx(a, () => t.is(getTaskContext(), a));
});

test.serial('nested withCtx restores the previous context on exit', (t) => {
  const a = ctx('worker', 1);
  const b = ctx('ps');
  withCtx(a, () => {
    withCtx(b, () => t.is(getTaskContext(), b));
    t.is(getTaskContext(), a);
  });
});

test.serial('leaving the outermost withCtx keeps its context set (the seed never resets to none)', (t) => {
  const a = ctx('worker', 4);
  withCtx(a, () => undefined);
  t.is(getTaskContext(), a);
  // and a later outer scope then restores it
  const b = ctx('ps');
  withCtx(b, () => t.is(getTaskContext(), b));
  t.is(getTaskContext(), a);
});

test.serial('restores also when the body throws, and after an async body settles', async (t) => {
  const a = ctx('worker', 1);
  const b = ctx('ps');
  await withCtx(a, async () => {
    t.throws(() => withCtx(b, () => {
      throw new Error('boom');
    }));
    t.is(getTaskContext(), a);
    const p = withCtx(b, async () => {
      await Promise.resolve();
      return getTaskContext();
    });
    t.is(await p, b);
    t.is(getTaskContext(), a);
  });
});
