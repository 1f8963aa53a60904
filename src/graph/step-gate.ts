/**
 * A readers-writer gate in the main thread: steps enter shared, a checkpoint
 * enters exclusive — it waits for the steps in flight to finish and holds
 * new ones back, so the tables, dense weights and global step it saves
 * belong to one moment. Writers are preferred (a waiting checkpoint is not
 * starved by a stream of steps).
 */
export class StepGate {
  private readers = 0;
  private writer = false;
  private writersWaiting = 0;
  private waiters: Array<() => void> = [];

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
    while (this.writer || this.writersWaiting > 0) await this.next();
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
      while (this.writer || this.readers > 0) await this.next();
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
