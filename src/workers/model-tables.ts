import { EmbeddingHashTable, type EmbeddingHashTableHandle, type TableRuntimeOptions } from '../hashtable/embedding-hash-table.js';
import type { ModelSpec } from '../model/model-spec.js';

/** Creates one shared table per entry of `spec.tables`, named by its key. */
export function createModelTables(spec: ModelSpec, runtime: TableRuntimeOptions = {}): Record<string, EmbeddingHashTable> {
  const out: Record<string, EmbeddingHashTable> = {};
  for (const [name, config] of Object.entries(spec.tables)) out[name] = EmbeddingHashTable.create({ ...config, name: config.name ?? name }, runtime);
  return out;
}

export function tableHandles(tables: Record<string, EmbeddingHashTable>): Record<string, EmbeddingHashTableHandle> {
  return Object.fromEntries(Object.entries(tables).map(([k, t]) => [k, t.handle()]));
}

export function attachTables(handles: Record<string, EmbeddingHashTableHandle>, runtime: TableRuntimeOptions = {}): Record<string, EmbeddingHashTable> {
  return Object.fromEntries(Object.entries(handles).map(([k, h]) => [k, EmbeddingHashTable.attach(h, runtime)]));
}
