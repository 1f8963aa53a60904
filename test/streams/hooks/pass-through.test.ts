import test from 'ava';
import { lastValueFrom, of, Subject, throwError, concat, toArray } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { passThrough } from '../../../src/streams/hooks/pass-through.js';

test('values pass unchanged and in time (marbles); state is per subscription', (t) => {
  const scheduler = new TestScheduler((a, b) => t.deepEqual(a, b));
  scheduler.run(({ cold, expectObservable }) => {
    const seen: number[][] = [];
    const op = passThrough<number>(() => {
      const mine: number[] = [];
      seen.push(mine);
      return { next: (v) => void mine.push(v) };
    });
    const source = cold('a-b--c|', { a: 1, b: 2, c: 3 });
    expectObservable(source.pipe(op)).toBe('a-b--c|', { a: 1, b: 2, c: 3 });
    expectObservable(source.pipe(op)).toBe('a-b--c|', { a: 1, b: 2, c: 3 });
    scheduler.flush();
    t.deepEqual(seen, [[1, 2, 3], [1, 2, 3]]);
  });
});

test('completion waits for the complete handler; teardown runs last', async (t) => {
  const order: string[] = [];
  let release!: () => void;
  const op = passThrough<number>(() => ({
    complete: () => new Promise<void>((r) => (release = () => (order.push('drained'), r()))),
    teardown: () => void order.push('teardown'),
  }));
  const done = lastValueFrom(of(1, 2).pipe(op, toArray())).then((v) => (order.push('complete'), v));
  await Promise.resolve();
  t.deepEqual(order, []);
  release();
  t.deepEqual(await done, [1, 2]);
  t.deepEqual(order, ['drained', 'teardown', 'complete']);
});

test('a throw in next, a source error and fail() all run the error handler before the error is delivered', async (t) => {
  const drained: unknown[] = [];
  const mk = (throwOn?: number) =>
    passThrough<number>((fail) => ({
      next: (v) => {
        if (v === throwOn) throw new Error(`bad ${v}`);
        if (v === 99) fail(new Error('async failure'));
      },
      error: async (err) => void drained.push((err as Error).message),
    }));
  await t.throwsAsync(lastValueFrom(of(1, 2, 3).pipe(mk(2))), { message: 'bad 2' });
  await t.throwsAsync(lastValueFrom(concat(of(1), throwError(() => new Error('upstream'))).pipe(mk())), { message: 'upstream' });
  const subject = new Subject<number>();
  const forwarded: number[] = [];
  const p = new Promise<unknown>((resolve) => subject.pipe(mk()).subscribe({ next: (v) => forwarded.push(v), error: resolve }));
  subject.next(1);
  subject.next(99);
  subject.next(2);
  t.is(((await p) as Error).message, 'async failure');
  t.deepEqual(forwarded, [1], 'nothing forwarded once the stream is ending');
  t.deepEqual(drained, ['bad 2', 'upstream', 'async failure']);
});

test('unsubscribing runs teardown and stops the source', (t) => {
  let torn = 0;
  const subject = new Subject<number>();
  const sub = subject.pipe(passThrough<number>(() => ({ teardown: () => void torn++ }))).subscribe();
  t.true(subject.observed);
  sub.unsubscribe();
  t.is(torn, 1);
  t.false(subject.observed);
});
