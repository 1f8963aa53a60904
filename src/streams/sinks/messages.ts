/**
 * The messages one stream value carries: arrays (and typed arrays of
 * strings) give their truthy entries, `null`/`undefined` none, anything
 * else is one message (FileMetricHook.after_run's rules).
 */
export function messagesOf(value: unknown): unknown[] {
  if (value === null || value === undefined) return [];
  if (Array.isArray(value)) return value.filter((m) => !!m && !(typeof m === 'object' && 'length' in m && (m as { length: number }).length === 0));
  return [value];
}
