import type { EmbeddingHashTableConfig } from './embedding-hash-table.js';

/** A stable text of a value: object keys sorted, undefined/null fields dropped (plays the role of Python's str(config)). */
export function stableStringify(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v !== 'object') return JSON.stringify(v);
  if (typeof (v as { toNumber?: unknown }).toNumber === 'function' && 'low' in (v as object)) return String(v);
  if (Array.isArray(v)) return `[${v.map(stableStringify).join(',')}]`;
  const keys = Object.keys(v as object)
    .filter((k) => (v as Record<string, unknown>)[k] != null)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${stableStringify((v as Record<string, unknown>)[k])}`).join(',')}}`;
}

/** The merge key of a table config: everything except its names. */
export function configKey(c: EmbeddingHashTableConfig): string {
  const { name: _n, extraRestoreNames: _e, ...rest } = c;
  return stableStringify(rest);
}
