/** Tags attached to one metric point (`{ model_name: 'ctr', cluster_type: 'stable' }`). */
export type MetricTags = Readonly<Record<string, string>>;

/**
 * Where hooks send their numbers: Monolith's metrics client (`emit_counter`,
 * `emit_timer`, `emit_store`). A counter adds `value`, a timer records one
 * duration sample, a store sets the current value (a gauge).
 */
export interface MetricsClient {
  emitCounter(name: string, value: number, tags?: MetricTags): void;
  emitTimer(name: string, value: number, tags?: MetricTags): void;
  emitStore(name: string, value: number, tags?: MetricTags): void;
  /** Releases sockets, servers and timers; the client emits nothing afterwards. */
  close?(): Promise<void>;
}

export type MetricKind = 'counter' | 'timer' | 'store';
