/** A Kafka commit position: the offset of the next message to read. */
export interface CommitPosition {
  topic: string;
  partition: number;
  offset: number;
}

/**
 * At-least-once bookkeeping for batches acked out of order: a batch's
 * positions may be committed only once it and every batch emitted before it
 * are acked, so a crash never skips an unapplied batch.
 */
export class OffsetTracker {
  private readonly queue: { id: number; positions: CommitPosition[]; acked: boolean }[] = [];
  private nextId = 0;

  /** Registers the next emitted batch with the positions just past its rows; returns its id. */
  add(positions: CommitPosition[]): number {
    const id = this.nextId++;
    this.queue.push({ id, positions, acked: false });
    return id;
  }

  /** Marks a batch acked; returns the positions that may now be committed (one per partition, possibly none). */
  ack(id: number): CommitPosition[] {
    const entry = this.queue.find((e) => e.id === id);
    if (!entry || entry.acked) return [];
    entry.acked = true;
    const ready = new Map<string, CommitPosition>();
    while (this.queue.length > 0 && this.queue[0]!.acked) {
      for (const p of this.queue.shift()!.positions) {
        const key = `${p.topic}\u0000${p.partition}`;
        const had = ready.get(key);
        if (!had || had.offset < p.offset) ready.set(key, { ...p });
      }
    }
    return [...ready.values()];
  }

  /** Batches emitted and not yet committable. */
  get pending(): number {
    return this.queue.length;
  }
}
