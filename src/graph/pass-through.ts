import { Observable, type MonoTypeOperatorFunction, type Subscription } from 'rxjs';

/** What a pass-through operator does around the values it forwards unchanged. */
export interface PassThroughHandlers<T> {
  /** Runs for every value before it is forwarded; a throw ends the stream with that error. */
  next?(value: T): void;
  /** Runs when the source completes; downstream completes once it resolves. */
  complete?(): void | Promise<void>;
  /** Runs when the stream ends in error (the source's, a throw of next, or fail()); the error is forwarded once it resolves. */
  error?(err: unknown): void | Promise<void>;
  /** Runs last in every case, including unsubscription. */
  teardown?(): void;
}

const isPromise = (v: unknown): v is Promise<unknown> => v instanceof Promise;

/**
 * Builds an operator that forwards every value unchanged and runs side
 * effects around it, with fresh state per subscription (`setup` runs at
 * subscribe time). `fail` ends the stream from asynchronous work.
 * Completion and errors wait for their handler: a sink drains before the
 * stream ends.
 */
export function passThrough<T>(setup: (fail: (err: unknown) => void) => PassThroughHandlers<T>): MonoTypeOperatorFunction<T> {
  return (source) =>
    new Observable<T>((subscriber) => {
      let ending = false;
      let upstream: Subscription | undefined;
      let handlers: PassThroughHandlers<T> = {};
      const end = (finish: () => void, work: () => void | Promise<unknown>) => {
        if (ending) return;
        ending = true;
        upstream?.unsubscribe();
        let pending: void | Promise<unknown>;
        try {
          pending = work();
        } catch (err) {
          subscriber.error(err);
          return;
        }
        if (isPromise(pending)) pending.then(finish, (err: unknown) => subscriber.error(err));
        else finish();
      };
      const fail = (err: unknown) =>
        end(
          () => subscriber.error(err),
          () => {
            // the original error is the one reported, even if draining fails too
            try {
              const p = handlers.error?.(err);
              return isPromise(p) ? p.catch(() => undefined) : undefined;
            } catch {
              return undefined;
            }
          },
        );
      try {
        handlers = setup(fail);
      } catch (err) {
        subscriber.error(err);
        return;
      }
      upstream = source.subscribe({
        next(value) {
          if (ending) return;
          try {
            handlers.next?.(value);
          } catch (err) {
            fail(err);
            return;
          }
          if (!ending) subscriber.next(value);
        },
        error: fail,
        complete: () => end(() => subscriber.complete(), () => handlers.complete?.()),
      });
      if (ending) upstream.unsubscribe();
      return () => {
        upstream?.unsubscribe();
        handlers.teardown?.();
      };
    });
}
