import { threadId } from 'node:worker_threads';
import { HashTableError } from './errors.js';

/**
 * A mutex on one Int32 of shared memory, usable from every worker thread, that
 * records its holder. The word is `owner << 2 | state` with state 1 held,
 * 2 held with waiters, 3 broken (its holder died holding it); 0 is free.
 * `owner` is the holder's `threadId`. (Drepper's "futexes are tricky" mutex #2
 * with the owner in the upper bits: uncontended lock/unlock is one
 * compareExchange each; waiters sleep in Atomics.wait instead of spinning,
 * which matters on a 2-core machine.)
 *
 * A thread that learns another one died calls `breakLockOf` on the words that
 * thread may hold: a word it held turns broken, every waiter wakes and every
 * later `lockWord` throws `LockHolderDiedError` instead of waiting forever.
 */
const HELD = 1;
const WAITED = 2;
const BROKEN = 3;
const me = threadId << 2;

/** A lock whose holder (a worker thread) died while holding it: what it guarded may be half-updated. */
export class LockHolderDiedError extends HashTableError {
  constructor(
    readonly holderThreadId: number,
    what: string,
  ) {
    super(`${what}: its lock was held by thread ${holderThreadId}, which died holding it (the data it guards may be half-updated; restore from a checkpoint)`);
  }
}

/** The thread holding (or that died holding) the lock, or undefined when it is free. */
export function lockOwner(ctl: Int32Array, at: number): number | undefined {
  const c = Atomics.load(ctl, at);
  return c === 0 ? undefined : c >>> 2;
}

/** Whether the lock's holder died holding it. */
export function isLockBroken(ctl: Int32Array, at: number): boolean {
  return (Atomics.load(ctl, at) & 3) === BROKEN;
}

/** Takes the lock only if it is free right now. Throws when it is broken. */
export function tryLockWord(ctl: Int32Array, at: number, what = 'shard'): boolean {
  const c = Atomics.compareExchange(ctl, at, 0, me | HELD);
  if (c === 0) return true;
  if ((c & 3) === BROKEN) throw new LockHolderDiedError(c >>> 2, what);
  return false;
}

export function lockWord(ctl: Int32Array, at: number, what = 'shard'): void {
  let c = Atomics.compareExchange(ctl, at, 0, me | HELD);
  if (c === 0) return;
  // Brief spin first: critical sections are short (one batch slice of one shard).
  for (let spin = 0; spin < 64 && c !== 0 && (c & 3) !== BROKEN; spin++) c = Atomics.compareExchange(ctl, at, 0, me | HELD);
  if (c === 0) return;
  for (;;) {
    if ((c & 3) === BROKEN) throw new LockHolderDiedError(c >>> 2, what);
    if ((c & 3) === HELD) {
      // Tell the holder there is a waiter; retry if the word changed meanwhile.
      const was = Atomics.compareExchange(ctl, at, c, (c & ~3) | WAITED);
      if (was !== c) {
        c = was === 0 ? Atomics.compareExchange(ctl, at, 0, me | WAITED) : was;
        if (c === 0) return;
        continue;
      }
      c = (c & ~3) | WAITED;
    }
    Atomics.wait(ctl, at, c);
    // Taken with the waiters mark: other threads may still be sleeping.
    c = Atomics.compareExchange(ctl, at, 0, me | WAITED);
    if (c === 0) return;
  }
}

export function unlockWord(ctl: Int32Array, at: number): void {
  const c = Atomics.compareExchange(ctl, at, me | HELD, 0);
  if (c === (me | HELD)) return;
  // Waiters: free it and wake one — unless the lock was declared broken meanwhile.
  if ((c & 3) === BROKEN) return;
  if (Atomics.compareExchange(ctl, at, c, 0) === c) Atomics.notify(ctl, at, 1);
}

/**
 * Marks the lock broken if thread `deadThreadId` holds it and wakes all its
 * waiters. Call only for a thread that has exited. Returns whether it did.
 */
export function breakLockOf(ctl: Int32Array, at: number, deadThreadId: number): boolean {
  for (;;) {
    const c = Atomics.load(ctl, at);
    if (c === 0 || c >>> 2 !== deadThreadId || (c & 3) === BROKEN) return false;
    if (Atomics.compareExchange(ctl, at, c, (deadThreadId << 2) | BROKEN) === c) {
      Atomics.notify(ctl, at);
      return true;
    }
  }
}
