import { defaultMetricsClient } from '../metrics/default-client.js';
import type { MetricsClient, MetricTags } from '../metrics/metrics-client.js';

/** Microseconds since the Unix epoch, with sub-millisecond resolution. */
export function nowMicros(): number {
  return Math.floor((performance.timeOrigin + performance.now()) * 1000);
}

/** The values unchanged and the time (Unix µs) they were ready (tensors_timestamp). */
export function tensorsTimestamp<T>(tensors: T): [T, number] {
  return [tensors, nowMicros()];
}

/** Tags as one string, `k=v|k2=v2`, in insertion order. */
export function formatTags(tags: MetricTags = {}): string {
  return Object.entries(tags)
    .map(([k, v]) => `${k}=${v}`)
    .join('|');
}

/** The inverse of formatTags. */
export function parseTags(text: string): Record<string, string> {
  const tags: Record<string, string> = {};
  if (!text) return tags;
  for (const part of text.split('|')) {
    const eq = part.indexOf('=');
    if (eq > 0) tags[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return tags;
}

export interface EmittedTimer {
  key: string;
  value: number;
  /** The tags as the metric op receives them, `k=v|k2=v2`. */
  tags: string;
}

/** Emits one timer sample (emit_timer / MonolithMetricV2) and returns what was sent. */
export function emitTimer(key: string, value: number, tags: MetricTags = {}, client: MetricsClient = defaultMetricsClient()): EmittedTimer {
  const tagText = formatTags(tags);
  client.emitTimer(key, value, parseTags(tagText));
  return { key, value, tags: tagText };
}
