import { isObservable, Observable } from 'rxjs';

/** What a graph can read from: pulled (iterables, bounded) or pushed (an Observable, not bounded). */
export type SourceLike<T> = AsyncIterable<T> | Iterable<T> | (() => AsyncIterable<T> | Iterable<T>) | Observable<T>;

function iteratorOf<T>(src: Exclude<SourceLike<T>, Observable<T>>): AsyncIterator<T> | Iterator<T> {
  const it = typeof src === 'function' ? src() : src;
  if (Symbol.asyncIterator in it) return (it as AsyncIterable<T>)[Symbol.asyncIterator]();
  return (it as Iterable<T>)[Symbol.iterator]();
}

/**
 * An Observable that pulls the next item from `src` only while `hasRoom()`
 * is true, re-checking when `room` is signalled: a source faster than its
 * consumer is simply not read. Unsubscribing stops pulling and calls the
 * iterator's `return()` (a generator's `finally` blocks run). An Observable
 * source is passed through as is (push: the caller cannot hold it back).
 */
export function pullSource<T>(src: SourceLike<T>, hasRoom: () => boolean, room: { wait(): Promise<void> }): Observable<T> {
  if (isObservable(src)) return src as Observable<T>;
  return new Observable<T>((subscriber) => {
    let stopped = false;
    let it: AsyncIterator<T> | Iterator<T>;
    try {
      it = iteratorOf(src);
    } catch (err) {
      subscriber.error(err);
      return;
    }
    (async () => {
      try {
        while (!stopped) {
          while (!stopped && !hasRoom()) await room.wait();
          if (stopped) break;
          const r = await it.next();
          if (stopped) break;
          if (r.done) {
            subscriber.complete();
            return;
          }
          subscriber.next(r.value);
        }
      } catch (err) {
        if (!stopped) subscriber.error(err);
      }
    })();
    return () => {
      stopped = true;
      void Promise.resolve(it.return?.()).catch(() => undefined);
    };
  });
}

/** A signal consumers raise when they free room; `wait()` resolves at the next signal. */
export class RoomSignal {
  private waiters: Array<() => void> = [];
  wait(): Promise<void> {
    return new Promise((r) => this.waiters.push(r));
  }
  signal(): void {
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w();
  }
}
