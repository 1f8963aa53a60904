import type { MetricKind, MetricsClient, MetricTags } from './metrics-client.js';

export interface MetricPoint {
  kind: MetricKind;
  name: string;
  value: number;
  tags: MetricTags;
  /** `clock()` when the point was emitted (ms). */
  time: number;
}

/**
 * Keeps every point in memory, in order: for tests, debugging and the CLI's
 * end-of-run summary.
 */
export class MemoryMetricsClient implements MetricsClient {
  readonly points: MetricPoint[] = [];
  constructor(private readonly clock: () => number = Date.now) {}

  emitCounter(name: string, value: number, tags: MetricTags = {}): void {
    this.points.push({ kind: 'counter', name, value, tags: { ...tags }, time: this.clock() });
  }
  emitTimer(name: string, value: number, tags: MetricTags = {}): void {
    this.points.push({ kind: 'timer', name, value, tags: { ...tags }, time: this.clock() });
  }
  emitStore(name: string, value: number, tags: MetricTags = {}): void {
    this.points.push({ kind: 'store', name, value, tags: { ...tags }, time: this.clock() });
  }
  /** Points named `name` (optionally of one kind). */
  named(name: string, kind?: MetricKind): MetricPoint[] {
    return this.points.filter((p) => p.name === name && (kind === undefined || p.kind === kind));
  }
  async close(): Promise<void> {}
}
