import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FormatError } from '../errors.js';
import type { DenseInputSpec, EmbeddingFeatureSpec, HeadSpec } from '../model/model-spec.js';
import type { WarmupVariant } from './parser-args.js';
import type { SignatureModelRecord } from './signature-model.js';
import type { ExtraOutputRecord } from '../model/extra-outputs.js';

/** The file that describes an exported model (next to saved_model.pb). */
export const EXPORT_MANIFEST = 'export.json';
export const EXPORT_FORMAT = 'monolith-ts-export';
export const EXPORT_FORMAT_VERSION = 1;

/** Where an exported table's rows are: EntryDump shards `<basename>-0000k-of-0000N`. */
export interface ExportedTable {
  name: string;
  dim: number;
  /** Rows are stored (and served) as IEEE halves. */
  fp16: boolean;
  skipZeroEmbedding: boolean;
  /** Relative to the export directory, or absolute when `shared` (the checkpoint's own files). */
  basename: string;
  /** The files are the training checkpoint's (shared_embedding): not copied, optimizer state ignored on load. */
  shared: boolean;
  /** Only ids with `fid % count == index` belong to this graph (a parameter-server shard). */
  partition?: { index: number; count: number };
  /** Entries written (absent for shared files). */
  entries?: number;
}

/**
 * A dense input assembled from several named dense features (`dense` =
 * `dense_0` … `dense_12`): serving fills each member's values into the
 * group's input, in member order, as training did.
 */
export interface ExportedDenseGroup {
  /** The dense input (one of `denseInputs`). */
  name: string;
  /** Named dense features laid side by side, each `width` values. */
  members: { name: string; width: number }[];
}

/**
 * Where a parameter-sync topic stood when an export was taken (the high-water
 * mark of each partition, once every update read before the export was
 * delivered): a serving replica that loads the export replays the topic from there.
 */
export interface SyncMark {
  topic: string;
  offsets: { partition: number; offset: number }[];
}

export type ExportGraphKind = 'standalone' | 'entry' | 'ps' | 'dense';

/**
 * Everything a serving process needs besides the files: the model's features,
 * dense inputs and heads (the ModelSpec contract as data), where the dense
 * model and the tables are, and how the graphs of a distributed export relate.
 */
export interface ExportManifest {
  format: typeof EXPORT_FORMAT;
  formatVersion: number;
  modelName: string;
  version: string;
  globalStep?: number;
  graph: string;
  kind: ExportGraphKind;
  /** Serving input: serialized Instances (`instances`), Examples (`examples`) or one ExampleBatch (`example_batch`). */
  variant: WarmupVariant;
  features: EmbeddingFeatureSpec[];
  denseInputs: DenseInputSpec[];
  heads: HeadSpec[];
  tables: ExportedTable[];
  /** Directory of the tfjs dense model, relative to the export directory (absent on parameter servers). */
  dense?: string;
  /** Entry of a distributed export: the parameter-server graphs, relative paths (`../../ps_0/<version>`). */
  ps?: string[];
  /**
   * Modules (specifiers or file URLs) that register custom tfjs layer classes
   * of the dense model; imported before it is loaded. The library's own layers
   * are always registered.
   */
  layerModules?: string[];
  /** Dense inputs that requests carry as several named dense features (absent: each dense input by its own name). */
  denseGroups?: ExportedDenseGroup[];
  /** Extra signatures (addExtraOutput): serving records in, these outputs of the dense model (by index, after the heads) out. */
  extraOutputs?: ExtraOutputRecord[];
  /** Signatures computed by their own tfjs model (RemotePredictHelper functions, `describe` signatures). */
  signatureModels?: SignatureModelRecord[];
  /** Exported with dense_only: the parameter servers of this version were not written. */
  denseOnly?: boolean;
  /** The parameter-sync topic's offsets at export time (trained with a sync publisher). */
  sync?: SyncMark;
  createdAt: string;
}

export async function readManifest(dir: string): Promise<ExportManifest> {
  const file = join(dir, EXPORT_MANIFEST);
  let m: ExportManifest;
  try {
    m = JSON.parse(await readFile(file, 'utf8')) as ExportManifest;
  } catch (err) {
    throw new FormatError(`not a monolith-ts export: ${(err as Error).message}`, { file }, { cause: err });
  }
  if (typeof m !== 'object' || m === null || Array.isArray(m)) throw new FormatError('not a monolith-ts export: the manifest is not a JSON object', { file });
  if (m.format !== EXPORT_FORMAT) throw new FormatError(`format is "${String(m.format)}", expected "${EXPORT_FORMAT}"`, { file, field: 'format' });
  if (!(m.formatVersion <= EXPORT_FORMAT_VERSION)) throw new FormatError(`format version ${m.formatVersion} is newer than this reader (${EXPORT_FORMAT_VERSION})`, { file, field: 'formatVersion' });
  for (const key of ['features', 'denseInputs', 'heads', 'tables'] as const) {
    if (!Array.isArray(m[key])) throw new FormatError(`${key} must be a list`, { file, field: key });
  }
  m.tables.forEach((t, i) => {
    const ok = typeof t === 'object' && t !== null && typeof t.name === 'string' && typeof t.basename === 'string' && Number.isSafeInteger(t.dim) && t.dim > 0 && (t.entries === undefined || (Number.isSafeInteger(t.entries) && t.entries >= 0));
    if (!ok) throw new FormatError(`tables[${i}] is not {name, dim, basename, entries?}`, { file, field: `tables[${i}]` });
  });
  if (m.extraOutputs !== undefined) {
    const list = Array.isArray(m.extraOutputs) ? m.extraOutputs : [null];
    list.forEach((r, i) => {
      const ok = !!r && typeof r === 'object' && typeof r.signature === 'string' && !!r.outputs && typeof r.outputs === 'object' && Object.values(r.outputs).every((k) => Number.isSafeInteger(k) && (k as number) >= 0);
      if (!ok) throw new FormatError(`extraOutputs[${i}] is not {signature, outputs: {key: output index}}`, { file, field: `extraOutputs[${i}]` });
    });
  }
  if (m.signatureModels !== undefined) {
    const list = Array.isArray(m.signatureModels) ? m.signatureModels : [null];
    list.forEach((r, i) => {
      const strings = (x: unknown) => Array.isArray(x) && x.every((k) => typeof k === 'string');
      const ok = !!r && typeof r === 'object' && typeof r.signature === 'string' && typeof r.dir === 'string' && !r.dir.split(/[\\/]/).includes('..') && strings(r.inputs) && strings(r.outputs);
      if (!ok) throw new FormatError(`signatureModels[${i}] is not {signature, dir (inside the export), inputs, outputs}`, { file, field: `signatureModels[${i}]` });
    });
  }
  if (m.layerModules !== undefined && !(Array.isArray(m.layerModules) && m.layerModules.every((x) => typeof x === 'string'))) {
    throw new FormatError('layerModules must be a list of module specifiers', { file, field: 'layerModules' });
  }
  checkDenseGroups(m, file);
  if (m.sync !== undefined) {
    const ok = !!m.sync && typeof m.sync.topic === 'string' && Array.isArray(m.sync.offsets) && m.sync.offsets.every((o) => Number.isSafeInteger(o?.partition) && o.partition >= 0 && Number.isSafeInteger(o.offset) && o.offset >= 0);
    if (!ok) throw new FormatError('sync is not {topic, offsets: [{partition, offset}]}', { file, field: 'sync' });
  }
  return m;
}

function checkDenseGroups(m: ExportManifest, file: string): void {
  if (m.denseGroups === undefined) return;
  if (!Array.isArray(m.denseGroups)) throw new FormatError('denseGroups must be a list', { file, field: 'denseGroups' });
  m.denseGroups.forEach((g, i) => {
    const field = `denseGroups[${i}]`;
    const input = m.denseInputs.find((d) => d.name === g?.name);
    if (!input) throw new FormatError(`${field} names no dense input of the model`, { file, field });
    const members = Array.isArray(g.members) ? g.members : [];
    const ok = members.length > 0 && members.every((x) => typeof x?.name === 'string' && Number.isSafeInteger(x.width) && x.width > 0);
    if (!ok) throw new FormatError(`${field}.members must be a non-empty list of {name, width}`, { file, field: `${field}.members` });
    const width = members.reduce((s, x) => s + x.width, 0);
    if (width !== input.width) throw new FormatError(`${field}: members are ${width} values wide, the dense input "${g.name}" takes ${input.width}`, { file, field: `${field}.members` });
  });
}
