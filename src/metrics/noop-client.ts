import type { MetricsClient, MetricTags } from './metrics-client.js';

/** A client that accepts every call and does nothing (metric/cli.py's `Client`). */
export class NoopMetricsClient implements MetricsClient {
  emitCounter(_name: string, _value: number, _tags?: MetricTags): void {}
  emitTimer(_name: string, _value: number, _tags?: MetricTags): void {}
  emitStore(_name: string, _value: number, _tags?: MetricTags): void {}
  async close(): Promise<void> {}
}

/** A no-op client on which any method name is callable and returns undefined. */
export type PermissiveClient = MetricsClient & Record<string, (...args: unknown[]) => undefined>;

/**
 * `get_cli(*args)`: ignores its arguments and returns a new no-op client.
 * Like the Python `__getattr__`, calling a method the interface does not name
 * is a no-op rather than a TypeError.
 */
export function getCli(..._args: unknown[]): PermissiveClient {
  const target = new NoopMetricsClient();
  return new Proxy(target, {
    get(t, prop, receiver) {
      if (typeof prop === 'symbol' || prop in t) return Reflect.get(t, prop, receiver);
      return () => undefined;
    },
  }) as PermissiveClient;
}
