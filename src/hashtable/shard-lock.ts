/**
 * A mutex on one Int32 of shared memory, usable from every worker thread.
 * States: 0 free, 1 held, 2 held with waiters. (Drepper's "futexes are tricky"
 * mutex #2: uncontended lock/unlock is one compareExchange each; waiters sleep
 * in Atomics.wait instead of spinning, which matters on a 2-core machine.)
 */
export function lockWord(ctl: Int32Array, at: number): void {
  let c = Atomics.compareExchange(ctl, at, 0, 1);
  if (c === 0) return;
  // Brief spin first: critical sections are short (one batch slice of one shard).
  for (let spin = 0; spin < 64 && c !== 0; spin++) c = Atomics.compareExchange(ctl, at, 0, 1);
  if (c === 0) return;
  if (c !== 2) c = Atomics.exchange(ctl, at, 2);
  while (c !== 0) {
    Atomics.wait(ctl, at, 2);
    c = Atomics.exchange(ctl, at, 2);
  }
}

export function unlockWord(ctl: Int32Array, at: number): void {
  if (Atomics.sub(ctl, at, 1) !== 1) {
    Atomics.store(ctl, at, 0);
    Atomics.notify(ctl, at, 1);
  }
}
