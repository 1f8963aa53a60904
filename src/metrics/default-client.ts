import type { MetricsClient } from './metrics-client.js';
import { NoopMetricsClient } from './noop-client.js';

let current: MetricsClient = new NoopMetricsClient();

/**
 * The process-wide metrics client hooks use when their options name none
 * (Monolith's `cli.get_cli(prefix)` / `GetMetrics()`): no-op until set.
 */
export function defaultMetricsClient(): MetricsClient {
  return current;
}

/** Installs `client` as the default; returns the previous one. */
export function setDefaultMetricsClient(client: MetricsClient): MetricsClient {
  const previous = current;
  current = client;
  return previous;
}
