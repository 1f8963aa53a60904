import { Observable, type MonoTypeOperatorFunction } from 'rxjs';

/** What a pass-through operator does around the values it forwards unchanged. */
export interface PassThroughHandlers<T> {
  /** Runs for every value before it is forwarded; a throw errors the stream. */
  next?(value: T): void;
  /** Runs when the source completes; downstream completes once it resolves. */
  complete?(): void | Promise<void>;
  /** Runs when the source errors; the error is forwarded once it resolves. */
  error?(err: unknown): void | Promise<void>;
  /** Runs last in every case, including unsubscription. */
  teardown?(): void;
}

/**
 * Builds an operator that forwards every value unchanged and runs side
 * effects around it, with fresh state per subscription (`setup` runs at
 * subscribe time). `fail` errors the stream from asynchronous work.
 * Completion waits for `complete()`: a sink drains before the stream ends.
 */
export function passThrough<T>(setup: (fail: (err: unknown) => void) => PassThroughHandlers<T>): MonoTypeOperatorFunction<T> {
  return (source) =>
    new Observable<T>((subscriber) => {
      let closed = false;
      const fail = (err: unknown) => {
        if (closed) return;
        closed = true;
        subscriber.error(err);
      };
      let handlers: PassThroughHandlers<T>;
      try {
        handlers = setup(fail);
      } catch (err) {
        subscriber.error(err);
        return;
      }
      const subscription = source.subscribe({
        next(value) {
          if (closed) return;
          try {
            handlers.next?.(value);
          } catch (err) {
            fail(err);
            return;
          }
          subscriber.next(value);
        },
        error(err) {
          if (closed) return;
          let pending: void | Promise<void> = undefined;
          try {
            pending = handlers.error?.(err);
          } catch {
            // the source's error is the one to report
          }
          if (pending instanceof Promise) pending.then(() => fail(err), () => fail(err));
          else fail(err);
        },
        complete() {
          if (closed) return;
          let pending: void | Promise<void>;
          try {
            pending = handlers.complete?.();
          } catch (err) {
            fail(err);
            return;
          }
          const finish = () => {
            if (closed) return;
            closed = true;
            subscriber.complete();
          };
          if (pending instanceof Promise) pending.then(finish, fail);
          else finish();
        },
      });
      return () => {
        subscription.unsubscribe();
        handlers.teardown?.();
      };
    });
}
