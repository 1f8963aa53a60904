import { access, readdir, readFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { ConfigError, FormatError } from '../errors.js';
import type { EmbeddingHashTable } from '../hashtable/embedding-hash-table.js';
import { ENTRY_GRAPH } from '../export/export-context.js';
import { EXPORT_MANIFEST, readManifest, type ExportManifest } from '../export/export-manifest.js';
import { decodeSavedModel, SAVED_MODEL_FILE } from '../export/signature-def.js';
import { createServingTable, loadServingDump } from '../export/table-export.js';
import { log } from '../util/log.js';
import { ExportedModel, type ServingLimits } from './exported-model.js';
import { ensureTfBackend } from './tf-backend.js';
import { loadDenseModel, type DenseLoadOptions } from './dense-loader.js';
import { RemoteTables } from './remote-tables.js';

/** Whether a path exists (any kind of entry). */
export const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );

/** Version directories of a model base (`<base>/<version>/export.json`), oldest first (numeric order when numeric). */
export async function listVersions(base: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(base);
  } catch {
    return [];
  }
  const found: string[] = [];
  for (const n of names) if (!n.startsWith('.') && (await exists(join(base, n, EXPORT_MANIFEST)))) found.push(n);
  return found.sort((a, b) => {
    const x = Number(a);
    const y = Number(b);
    return Number.isFinite(x) && Number.isFinite(y) ? x - y : a < b ? -1 : a > b ? 1 : 0;
  });
}

/**
 * The export directory `path` names: itself when it holds export.json, else
 * the newest version of `path/entry` (a distributed export base) or of `path`
 * (a model base of versions).
 */
export async function resolveExportDir(path: string): Promise<string> {
  if (await exists(join(path, EXPORT_MANIFEST))) return path;
  for (const base of [join(path, ENTRY_GRAPH), path]) {
    const v = await listVersions(base);
    if (v.length) return join(base, v[v.length - 1]!);
  }
  throw new ConfigError(`no export found at ${path}: expected ${EXPORT_MANIFEST}, <version>/${EXPORT_MANIFEST} or entry/<version>/${EXPORT_MANIFEST}`);
}

async function loadTables(manifests: { dir: string; manifest: ExportManifest }[]): Promise<Map<string, EmbeddingHashTable>> {
  const tables = new Map<string, EmbeddingHashTable>();
  for (const { dir, manifest } of manifests) {
    for (const t of manifest.tables) {
      let table = tables.get(t.name);
      if (!table) tables.set(t.name, (table = createServingTable(t)));
      else if (table.dim !== t.dim) throw new FormatError(`table ${t.name} has dim ${t.dim} here and ${table.dim} in another graph`, { file: join(dir, EXPORT_MANIFEST) });
      await loadServingDump(table, t, dir);
    }
  }
  return tables;
}

/** A parameter server of a distributed entry: the same version, or (dense_only exports) the newest one there is. */
async function resolvePs(entryDir: string, rel: string): Promise<string> {
  const dir = resolve(entryDir, rel);
  if (await exists(join(dir, EXPORT_MANIFEST))) return dir;
  const versions = await listVersions(dirname(dir));
  if (!versions.length) throw new ConfigError(`parameter server ${rel} of ${entryDir} not found, and ${dirname(dir)} has no version`);
  const v = versions[versions.length - 1]!;
  log.info(`parameter server ${basename(dirname(dir))}: version ${basename(dir)} absent (dense_only export); using ${v}`);
  return join(dirname(dir), v);
}

export interface LoadExportOptions extends ServingLimits, Pick<DenseLoadOptions, 'trialLoadTimeoutMs'> {
  /** The version this export serves as (a server passes the version directory's name; default the manifest's). */
  version?: string;
  /**
   * Serve a distributed entry with its tables in parameter-server processes:
   * `host:port` of each (`ps_0` first, one per parameter server of the
   * export), each serving its `ps_<i>` export under `psModelName`. Without
   * it, an entry loads the tables of all its parameter servers into this process.
   */
  psAddrs?: readonly string[];
  /** model_spec.name of the parameter servers (default `default`). */
  psModelName?: string;
}

/**
 * Loads an export for serving, without the model's training code: the
 * manifest, the signatures, the tfjs dense model and the tables (for a
 * distributed entry, the tables of all its parameter servers). The dense
 * model's layer classes come from the library and from the modules the
 * manifest names (`layerModules`); its model.json is checked and trial-loaded
 * in a worker thread first, so a broken one is an error, not a hang.
 */
export async function loadExport(path: string, opts: LoadExportOptions = {}): Promise<ExportedModel> {
  await ensureTfBackend();
  const dir = await resolveExportDir(path);
  const manifest = await readManifest(dir);
  const signatures = decodeSavedModel(await readFile(join(dir, SAVED_MODEL_FILE)), join(dir, SAVED_MODEL_FILE));
  const graphs = [{ dir, manifest }];
  if (opts.psAddrs) {
    if (manifest.kind !== 'entry') throw new ConfigError(`${dir} is a ${manifest.kind} export; parameter-server addresses go with a distributed entry`);
    const want = manifest.ps?.length ?? 0;
    if (opts.psAddrs.length !== want) throw new ConfigError(`${dir}: the entry has ${want} parameter server(s) (${(manifest.ps ?? []).join(', ')}), got ${opts.psAddrs.length} address(es)`);
  }
  for (const rel of opts.psAddrs ? [] : (manifest.ps ?? [])) {
    const psDir = await resolvePs(dir, rel);
    graphs.push({ dir: psDir, manifest: await readManifest(psDir) });
  }
  const dense = manifest.dense
    ? await loadDenseModel(resolve(dir, manifest.dense), { layerModules: manifest.layerModules ?? [], ...(opts.trialLoadTimeoutMs !== undefined ? { trialLoadTimeoutMs: opts.trialLoadTimeoutMs } : {}) })
    : undefined;
  const tables = await loadTables(graphs);
  const model = new ExportedModel(dir, manifest, signatures, tables, dense, opts, opts.version ?? manifest.version);
  for (const r of manifest.signatureModels ?? []) {
    if (!signatures.some((s) => s.name === r.signature)) throw new FormatError(`signatureModels: "${r.signature}" is not a signature of the export`, { file: join(dir, EXPORT_MANIFEST) });
    const m = await loadDenseModel(resolve(dir, r.dir), { layerModules: manifest.layerModules ?? [], ...(opts.trialLoadTimeoutMs !== undefined ? { trialLoadTimeoutMs: opts.trialLoadTimeoutMs } : {}) });
    if (m.inputs.length !== r.inputs.length || m.outputs.length !== r.outputs.length) throw new FormatError(`signature model of "${r.signature}" takes ${m.inputs.length} inputs and gives ${m.outputs.length} outputs; the manifest names ${r.inputs.length} and ${r.outputs.length}`, { file: join(dir, r.dir) });
    model.signatureModels.set(r.signature, { model: m, inputs: r.inputs, outputs: r.outputs });
  }
  if (opts.psAddrs) model.remote = new RemoteTables({ addrs: opts.psAddrs, modelName: opts.psModelName ?? 'default' });
  return model;
}
