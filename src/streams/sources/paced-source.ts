import { Observable } from 'rxjs';
import type { SourceBatch } from '../../batch/batch.js';
import { ConfigError } from '../../errors.js';

export interface PacingOptions {
  /**
   * Most batches emitted but not yet acked. Reading pauses at this many and
   * resumes on the next `ack()`, so a source that outruns its consumer holds
   * at most `maxUnacked` batches (plus the one being built). Default 8.
   * Consumers that never ack must pass `Infinity`.
   */
  maxUnacked?: number;
}

export const DEFAULT_MAX_UNACKED = 8;

export function checkPacing(opts: PacingOptions): number {
  const max = opts.maxUnacked ?? DEFAULT_MAX_UNACKED;
  if (!(max >= 1)) throw new ConfigError(`maxUnacked must be >= 1 (or Infinity), got ${max}`);
  return max;
}

/**
 * A cold Observable over an async iterable of batches, pulled one at a time:
 * the next batch is read only when fewer than `maxUnacked` are un-acked.
 * Each emitted batch gets an idempotent `ack` that first runs the iterable's
 * own ack (e.g. a Kafka offset commit) and then frees a slot. Unsubscribing
 * stops the read and closes the iterable (its `finally` blocks run).
 *
 * An async generator can only be closed at a `yield`: one that waits a long
 * time between batches (a Kafka consumer polling an idle topic) must watch
 * `signal`, which aborts on unsubscribe, and return when it fires — otherwise
 * its `finally` would run only at its next batch, which may never come.
 */
export function pacedSource(open: (signal: AbortSignal) => AsyncIterable<SourceBatch>, opts?: PacingOptions): Observable<SourceBatch>;
/** The same for items other than SourceBatch (anything with an optional ack, e.g. unparsed record slices). */
export function pacedSource<T extends { ack?: () => void }>(open: (signal: AbortSignal) => AsyncIterable<T>, opts?: PacingOptions): Observable<T>;
export function pacedSource<T extends { ack?: () => void }>(open: (signal: AbortSignal) => AsyncIterable<T>, opts: PacingOptions = {}): Observable<T> {
  const max = checkPacing(opts);
  return new Observable<T>((subscriber) => {
    const stop = new AbortController();
    const it = open(stop.signal)[Symbol.asyncIterator]();
    let unacked = 0;
    let emitted = 0;
    let closed = false;
    let wake: (() => void) | undefined;
    const release = () => {
      unacked--;
      const w = wake;
      wake = undefined;
      w?.();
    };
    void (async () => {
      try {
        for (;;) {
          while (unacked >= max && !closed) await new Promise<void>((res) => (wake = res));
          if (closed) return;
          const r = await it.next();
          if (r.done || closed) break;
          unacked++;
          const inner = r.value.ack;
          let done = false;
          const ack = () => {
            if (done) return;
            done = true;
            try {
              inner?.();
            } finally {
              release();
            }
          };
          subscriber.next({ ...r.value, ack });
          // Let timers and I/O run now and then, even when every batch is ready at once.
          if (++emitted % 16 === 0) await new Promise<void>((res) => setImmediate(res));
        }
        if (!closed) subscriber.complete();
      } catch (err) {
        if (!closed) subscriber.error(err);
      }
    })();
    return () => {
      closed = true;
      stop.abort();
      wake?.();
      // Ends the generator (running its finally blocks) once any pending next() settles.
      void it.return?.(undefined)?.catch(() => undefined);
    };
  });
}
