/**
 * A readers-writer gate in the main thread: steps enter shared, a checkpoint
 * enters exclusive — it waits for the steps in flight to finish and holds
 * new ones back, so the tables, dense weights and global step it saves
 * belong to one moment. Writers are preferred (a waiting checkpoint is not
 * starved by a stream of steps). Once `fail(err)` is called, nothing enters
 * any more: waiting and later callers get `err` (no step runs after a
 * failure, and a checkpoint waiting for the steps is not written).
 */
export class StepGate {
  private readers = 0;
  private writer = false;
  private writersWaiting = 0;
  private waiters: Array<() => void> = [];
  private failure: { err: unknown } | undefined;

  /** Closes the gate for good: everyone waiting, and everyone coming later, gets `err`. */
  fail(err: unknown): void {
    this.failure ??= { err };
    this.wake();
  }

  /** The error the gate was failed with, if any. */
  get failed(): { err: unknown } | undefined {
    return this.failure;
  }

  private check(): void {
    if (this.failure) throw this.failure.err;
  }

  private wake(): void {
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w();
  }

  private next(): Promise<void> {
    return new Promise((r) => this.waiters.push(r));
  }

  async shared<T>(fn: () => Promise<T>): Promise<T> {
    // Check and enter in the same synchronous run (no await between them).
    this.check();
    while (this.writer || this.writersWaiting > 0) {
      await this.next();
      this.check();
    }
    this.readers++;
    try {
      return await fn();
    } finally {
      this.readers--;
      this.wake();
    }
  }

  async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    this.writersWaiting++;
    try {
      this.check();
      while (this.writer || this.readers > 0) {
        await this.next();
        this.check();
      }
    } finally {
      this.writersWaiting--;
    }
    this.writer = true;
    try {
      return await fn();
    } finally {
      this.writer = false;
      this.wake();
    }
  }

  /** Steps currently inside the gate. */
  get inside(): number {
    return this.readers;
  }
}
