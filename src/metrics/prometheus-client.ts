import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { lazyRequire } from '../util/lazy-require.js';
import { ConfigError } from '../errors.js';
import { log } from '../util/log.js';
import type { MetricKind, MetricsClient, MetricTags } from './metrics-client.js';
import { getMetricPrefix } from './metric-prefix.js';

const promClient = lazyRequire<typeof import('prom-client')>('prom-client');

export interface PrometheusClientOptions {
  /** Prepended to every metric name (`monolith.training` → `monolith_training_…`). Default: getMetricPrefix(). */
  prefix?: string;
  /** Registry to register in; default a private one. */
  registry?: Registry;
  /** Histogram buckets for timers (in the unit the caller emits). */
  timerBuckets?: number[];
}

export interface MetricsEndpoint {
  host: string;
  port: number;
  url: string;
}

type Metric = Counter<string> | Gauge<string> | Histogram<string>;

/** A Prometheus name: letters, digits, `_` and `:`, not starting with a digit. */
export function prometheusName(raw: string): string {
  const name = raw.replace(/[^a-zA-Z0-9_:]/g, '_');
  return /^[0-9]/.test(name) ? `_${name}` : name;
}

function labelName(raw: string): string {
  const name = raw.replace(/[^a-zA-Z0-9_]/g, '_');
  return /^[0-9]/.test(name) || name.startsWith('__') ? `_${name.replace(/^_+/, '')}` : name;
}

/**
 * A MetricsClient on prom-client: counters are Counters, timers Histograms,
 * stores Gauges. A metric's label names are fixed by its first emission
 * (Prometheus requires it); a later emission with other tag keys is a ConfigError.
 * `serve()` exposes `/metrics` on 127.0.0.1.
 */
export class PrometheusMetricsClient implements MetricsClient {
  readonly registry: Registry;
  private readonly prefix: string;
  private readonly metrics = new Map<string, { kind: MetricKind; metric: Metric; labels: string[] }>();
  private server: Server | undefined;

  constructor(private readonly opts: PrometheusClientOptions = {}) {
    this.registry = opts.registry ?? new (promClient().Registry)();
    this.prefix = opts.prefix ?? getMetricPrefix();
  }

  emitCounter(name: string, value: number, tags?: MetricTags): void {
    if (!(value >= 0)) {
      log.warn(`prometheus: counter ${name} cannot decrease (value ${value}); point dropped`);
      return;
    }
    const { metric, labels } = this.metric('counter', name, tags);
    (metric as Counter<string>).inc(labels, value);
  }

  emitTimer(name: string, value: number, tags?: MetricTags): void {
    const { metric, labels } = this.metric('timer', name, tags);
    (metric as Histogram<string>).observe(labels, value);
  }

  emitStore(name: string, value: number, tags?: MetricTags): void {
    const { metric, labels } = this.metric('store', name, tags);
    (metric as Gauge<string>).set(labels, value);
  }

  /** The exposition text (what `/metrics` serves). */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  /** Serves `GET /metrics` on 127.0.0.1 (port 0: any free port). */
  async serve(port = 0): Promise<MetricsEndpoint> {
    if (this.server) throw new ConfigError('prometheus: /metrics is already being served');
    const server = createServer((req, res) => {
      if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
        res.writeHead(404).end();
        return;
      }
      this.registry.metrics().then(
        (body) => res.writeHead(200, { 'Content-Type': this.registry.contentType }).end(body),
        (err: unknown) => res.writeHead(500).end(String(err)),
      );
    });
    server.listen(port, '127.0.0.1');
    await once(server, 'listening');
    this.server = server;
    const addr = server.address() as AddressInfo;
    return { host: addr.address, port: addr.port, url: `http://127.0.0.1:${addr.port}/metrics` };
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }

  private metric(kind: MetricKind, name: string, tags: MetricTags = {}): { metric: Metric; labels: Record<string, string> } {
    const full = prometheusName(this.prefix ? `${this.prefix}.${name}` : name);
    const labels: Record<string, string> = {};
    for (const [k, v] of Object.entries(tags)) labels[labelName(k)] = String(v);
    const keys = Object.keys(labels).sort();
    let entry = this.metrics.get(full);
    if (!entry) {
      const common = { name: full, help: `${kind} ${name}`, labelNames: keys, registers: [this.registry] };
      const metric =
        kind === 'counter' ? new (promClient().Counter)(common)
        : kind === 'store' ? new (promClient().Gauge)(common)
        : new (promClient().Histogram)({ ...common, ...(this.opts.timerBuckets ? { buckets: this.opts.timerBuckets } : {}) });
      entry = { kind, metric, labels: keys };
      this.metrics.set(full, entry);
    }
    if (entry.kind !== kind) {
      throw new ConfigError(`prometheus: metric ${name} was first emitted as a ${entry.kind}, now as a ${kind}`);
    }
    if (entry.labels.length !== keys.length || entry.labels.some((k, i) => k !== keys[i])) {
      throw new ConfigError(`prometheus: metric ${name} has tags [${entry.labels.join(', ')}], this point has [${keys.join(', ')}]`);
    }
    return { metric: entry.metric, labels };
  }
}
