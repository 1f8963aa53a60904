import { access, copyFile, mkdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, relative } from 'node:path';
import { ConfigError } from '../errors.js';
import { removeStaleTemps, writeFileAtomic } from '../io/atomic-file.js';
import { ckptAssetDir } from '../hashtable/checkpoint-listeners.js';
import type { EmbeddingHashTable } from '../hashtable/embedding-hash-table.js';
import type { ModelSpec } from '../model/model-spec.js';
import type { ServingDense } from '../model/extra-outputs.js';
import { outputDim } from '../model/model-spec.js';
import { MAX_SLOT_V1 } from '../io/fid.js';
import { log } from '../util/log.js';
import { MODEL_DUMP_FILE, type DumpUtils } from './model-dump.js';
import { genContext } from './data-gen.js';
import { ENTRY_GRAPH, enterExportMode, ExportContext, ExportMode, type SavedModelSignature } from './export-context.js';
import { EXPORT_FORMAT, EXPORT_FORMAT_VERSION, EXPORT_MANIFEST, type ExportedDenseGroup, type ExportedTable, type ExportGraphKind, type ExportManifest, type SyncMark } from './export-manifest.js';
import { saveLayersModel } from './fs-model-io.js';
import { DEFAULT_SERVING_SIGNATURE_DEF_KEY, ParserArgs, type WarmupVariant } from './parser-args.js';
import type { ParamsProvider, TrainedParams } from './params-source.js';
import { encodeSavedModel, SAVED_MODEL_FILE } from './signature-def.js';
import { saveSignatureModels } from './signature-model.js';
import { writeServingDump } from './table-export.js';
import { ASSETS_EXTRA, genPredictionLogs, WARMUP_FILE, warmupInputName, writeWarmupFile, type WarmupSignature } from './warmup.js';

/** The model description an export needs (the data part of a ModelSpec; builders are not used). */
export type ExportModelSpec = Pick<ModelSpec, 'name' | 'features' | 'tables' | 'denseInputs' | 'heads' | 'servingDense'>;

export interface WarmupOptions {
  /** Rows per warmup request (default 16). */
  batchSize?: number;
  /** Rows over all requests (default 256): floor(maxRecords / batchSize) requests. */
  maxRecords?: number;
  seed?: number;
}

export interface ExporterOptions {
  spec: ExportModelSpec;
  exportDirBase: string;
  params: ParamsProvider;
  /** Reference the checkpoint's table files instead of writing the rows into the export (needs a checkpoint path). */
  sharedEmbedding?: boolean;
  /** A warmup file to copy into assets.extra instead of generating one; `false`: no warmup file. */
  warmupFile?: string | false;
  warmup?: WarmupOptions;
  /** Serving input (default `instance`: serialized Instances under `instances`). */
  variant?: WarmupVariant;
  /** Store (and serve) embeddings as fp16: every table, or the named ones. */
  fp16?: boolean | string[];
  /** Leave all-zero embeddings out of the export, and refuse them in raw_assign. */
  skipZeroEmbedding?: boolean;
  /** Add `<table>/raw_assign` and `raw_assign` signatures so a serving copy can take parameter updates (default true). */
  rawAssign?: boolean;
  /** Name versions after the global step instead of the clock. */
  globalStepAsTimestamp?: boolean;
  /** Seconds since the epoch, for version names (default the wall clock). */
  clock?: () => number;
  /** Written into each entry / standalone export as `assets.extra/model_dump`, with the export's signatures. */
  modelDump?: DumpUtils;
  /**
   * Modules that register the dense model's own tfjs layer classes (module
   * specifiers or file URLs), recorded in the manifest so `serve`/`predict`
   * import them before loading; the library's layers need none.
   */
  layerModules?: string[];
  /** Dense inputs requests carry as several named dense features (recorded in the manifest; serving assembles them). */
  denseGroups?: ExportedDenseGroup[];
  /**
   * Where a parameter-sync topic stands (a SyncPublisher's `mark`): called once
   * per standalone export, after the checkpoint is written, and recorded in the manifest.
   */
  syncMark?: () => Promise<SyncMark | undefined>;
  /** Called in export mode before the signatures are written: may add signatures to the ExportContext. */
  describe?: (ctx: ExportContext) => void | Promise<void>;
}

export interface ExportCall {
  /** Checkpoint prefix (`…/model.ckpt-<step>`) the parameters come from. */
  checkpointPath?: string;
  globalStep?: number;
}

const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );

/** Signature names of an exported table. */
export const lookupSignatureName = (table: string) => `${table}/lookup`;
export const rawAssignSignatureName = (table: string) => `${table}/raw_assign`;
/** All tables of a graph at once: ragged ids (`id`, `id_split`) and flat values. */
export const MULTI_RAW_ASSIGN_SIGNATURE = 'raw_assign';

const extraOf = (s: ServingDense): Partial<ExportManifest> => (s.extraOutputs.length ? { extraOutputs: s.extraOutputs } : {});

/** Writes a directory under a temp name and renames it into place; the target must not exist. */
async function writeDirAtomically(target: string, fill: (tmp: string) => Promise<void>): Promise<void> {
  const tmp = join(dirname(target), `.${basename(target)}.tmp-${process.pid}-${Math.floor(Math.random() * 1e9)}`);
  await mkdir(tmp, { recursive: true });
  try {
    await fill(tmp);
    await rename(tmp, target);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
  await removeStaleTemps(dirname(target)); // left by exports that were killed
}

/** What Standalone and Distributed exports share: signatures, dense model, table dumps, warmup, manifest. */
export abstract class BaseExporter {
  protected readonly opts: ExporterOptions;
  readonly variant: WarmupVariant;

  constructor(opts: ExporterOptions) {
    this.opts = opts;
    this.variant = opts.variant ?? 'instance';
    for (const f of opts.spec.features) {
      if (!opts.spec.tables[f.table]) throw new ConfigError(`feature ${f.name}: table "${f.table}" is not among the model's tables (${Object.keys(opts.spec.tables).join(', ')})`);
    }
  }

  get inputName(): string {
    return warmupInputName(this.variant);
  }

  protected now(): number {
    return Math.floor(this.opts.clock ? this.opts.clock() : Date.now() / 1000);
  }

  protected isFp16(table: string): boolean {
    const f = this.opts.fp16;
    return Array.isArray(f) ? f.includes(table) : !!f;
  }

  /** serving_default: the serialized records in, one probability (or value) per head out. */
  protected addServingSignature(ctx: ExportContext, graph: string): void {
    const outputs = Object.fromEntries(this.opts.spec.heads.map((h) => [h.name, { dtype: 'float32' as const, shape: [-1] }]));
    ctx.addSignature(graph, DEFAULT_SERVING_SIGNATURE_DEF_KEY, { [this.inputName]: { dtype: 'string', shape: [-1] } }, outputs);
  }

  /**
   * The dense model to save: the trained one plus the model's extra outputs,
   * each extra signature added to `graph` (serving records in, its outputs out).
   */
  protected servingDense(ctx: ExportContext, graph: string, params: TrainedParams): ServingDense {
    const serving = this.opts.spec.servingDense?.(params.dense) ?? { model: params.dense, extraOutputs: [] };
    for (const e of serving.extraOutputs) {
      const outputs = Object.fromEntries(Object.entries(e.outputs).map(([k, i]) => [k, { dtype: 'float32' as const, shape: serving.model.outputs[i]!.shape.map((d) => d ?? -1) }]));
      ctx.addSignature(graph, e.signature, { [this.inputName]: { dtype: 'string', shape: [-1] } }, outputs);
    }
    return serving;
  }

  /** Lookup (and raw_assign) signatures of the tables a graph holds. */
  protected addTableSignatures(ctx: ExportContext, graph: string, tables: { name: string; dim: number }[]): void {
    for (const t of tables) {
      ctx.addSignature(graph, lookupSignatureName(t.name), { id: { dtype: 'int64', shape: [-1] } }, { embedding: { dtype: 'float32', shape: [-1, t.dim] } });
      if (this.opts.rawAssign ?? true) {
        ctx.addSignature(graph, rawAssignSignatureName(t.name), { id: { dtype: 'int64', shape: [-1] }, value: { dtype: 'float32', shape: [-1, t.dim] } }, { size: { dtype: 'int64', shape: [] } });
      }
    }
    if ((this.opts.rawAssign ?? true) && tables.length) {
      ctx.addSignature(
        graph,
        MULTI_RAW_ASSIGN_SIGNATURE,
        { id: { dtype: 'int64', shape: [-1] }, id_split: { dtype: 'int64', shape: [tables.length + 1] }, flat_value: { dtype: 'float32', shape: [-1] } },
        { size: { dtype: 'int64', shape: [] } },
      );
    }
  }

  protected tableDims(): { name: string; dim: number }[] {
    return Object.keys(this.opts.spec.tables)
      .sort()
      .map((name) => ({ name, dim: this.tableDim(name) }));
  }

  private tableDim(name: string): number {
    const c = this.opts.spec.tables[name]!;
    return c.entry.segments.reduce((a, s) => a + (s.dimSize ?? 0), 0);
  }

  /** Writes the tables (or references the checkpoint's files) into `dir/assets`, optionally one partition. */
  protected async writeTables(dir: string, params: TrainedParams, call: ExportCall, partition?: { index: number; count: number }): Promise<ExportedTable[]> {
    const out: ExportedTable[] = [];
    for (const { name, dim } of this.tableDims()) {
      const table: EmbeddingHashTable | undefined = params.tables.get(name);
      const base = { name, dim, fp16: this.isFp16(name), skipZeroEmbedding: !!this.opts.skipZeroEmbedding, ...(partition ? { partition } : {}) };
      if (this.opts.sharedEmbedding) {
        if (!call.checkpointPath) throw new ConfigError('shared_embedding exports reference the checkpoint\'s table files: give a checkpoint path');
        const files = join(ckptAssetDir(call.checkpointPath), name);
        out.push({ ...base, basename: files, shared: true });
        continue;
      }
      if (!table) throw new ConfigError(`the trained parameters have no table "${name}"`);
      if (table.dim !== dim) throw new ConfigError(`table ${name}: trained dim ${table.dim}, the spec says ${dim}`);
      const rel = join('assets', name);
      const entries = await writeServingDump(table, join(dir, rel), { fp16: base.fp16, skipZeroEmbedding: base.skipZeroEmbedding, partition });
      out.push({ ...base, basename: rel, shared: false, entries });
    }
    return out;
  }

  /** ParserArgs describing this model's serving input, for the warmup generator. */
  protected warmupArgs(signatureNames: string[]): ParserArgs {
    const { spec } = this.opts;
    const w = this.opts.warmup ?? {};
    const dense = spec.denseInputs;
    const featureList = new Map(spec.features.map((f) => [f.name, { slot: f.slot }]));
    const v1 = [...new Set(spec.features.filter((f) => f.slot >= 1 && f.slot <= MAX_SLOT_V1).map((f) => f.slot))];
    const v2 = spec.features.filter((f) => f.slot > MAX_SLOT_V1).map((f) => f.name);
    return new ParserArgs({
      modelName: spec.name,
      variantType: this.variant,
      batchSize: w.batchSize ?? 16,
      maxRecords: w.maxRecords ?? 256,
      signatureName: signatureNames,
      ...(this.variant === 'instance' ? { fidv1Features: v1.length ? v1 : undefined, fidv2Features: v2.length ? v2 : undefined } : { sparseFeatures: spec.features.map((f) => f.name) }),
      featureList,
      ...(dense.length ? { denseFeatures: dense.map((d) => d.name), denseFeatureShapes: dense.map((d) => d.width), denseFeatureTypes: dense.map(() => 'float32' as const) } : {}),
      dropRate: 0,
    });
  }

  /** assets.extra/tf_serving_warmup_requests from the serving signatures (or a copy of the configured file). */
  protected async writeWarmup(dir: string, signatures: SavedModelSignature[]): Promise<boolean> {
    if (this.opts.warmupFile === false) return false;
    const target = join(dir, ASSETS_EXTRA, WARMUP_FILE);
    await mkdir(dirname(target), { recursive: true });
    if (typeof this.opts.warmupFile === 'string') {
      await copyFile(this.opts.warmupFile, target);
      return true;
    }
    const serving = new Map<string, WarmupSignature>();
    for (const s of signatures) if (this.inputName in s.inputs) serving.set(s.name, { inputs: Object.keys(s.inputs), outputs: Object.keys(s.outputs) });
    if (!serving.size) return false;
    await writeWarmupFile(target, genPredictionLogs(genContext(this.opts.warmup?.seed ?? 0, { now: () => this.now() }), this.warmupArgs([...serving.keys()]), serving));
    return true;
  }

  protected manifest(version: string, graph: string, kind: ExportGraphKind, call: ExportCall, tables: ExportedTable[], extra: Partial<ExportManifest> = {}): ExportManifest {
    const { spec } = this.opts;
    return {
      format: EXPORT_FORMAT,
      formatVersion: EXPORT_FORMAT_VERSION,
      modelName: spec.name,
      version,
      ...(call.globalStep !== undefined ? { globalStep: call.globalStep } : {}),
      graph,
      kind,
      variant: this.variant,
      features: spec.features.map((f) => ({ ...f })),
      denseInputs: spec.denseInputs.map((d) => ({ ...d })),
      heads: spec.heads.map((h) => ({ ...h })),
      tables,
      ...(this.opts.layerModules?.length ? { layerModules: [...this.opts.layerModules] } : {}),
      ...(this.opts.denseGroups?.length ? { denseGroups: this.opts.denseGroups.map((g) => ({ name: g.name, members: g.members.map((x) => ({ ...x })) })) } : {}),
      createdAt: new Date(this.now() * 1000).toISOString(),
      ...extra,
    };
  }

  /** Saves the graph's signature models and records them in its manifest. */
  protected async writeGraphFiles(dir: string, manifest: ExportManifest, signatures: SavedModelSignature[], ctx?: ExportContext): Promise<void> {
    const models = ctx?.signatureModels(manifest.graph);
    if (models?.size) manifest.signatureModels = await saveSignatureModels(dir, models);
    const dump = this.opts.modelDump;
    if (dump && (manifest.kind === 'standalone' || manifest.kind === 'entry')) {
      dump.addSignatures(signatures);
      for (const ps of manifest.ps ?? []) dump.addSubModel('ps', basename(dirname(ps)));
      await dump.save(join(dir, ASSETS_EXTRA, MODEL_DUMP_FILE));
    }
    await writeFileAtomic(join(dir, SAVED_MODEL_FILE), encodeSavedModel(signatures));
    await writeFileAtomic(join(dir, EXPORT_MANIFEST), JSON.stringify(manifest, null, 2));
  }

  /** Checks that the dense model takes one input per feature then per dense input, of the right widths. */
  protected checkDense(params: TrainedParams): void {
    const { spec } = this.opts;
    const want = [...spec.features.map((f) => [f.name, outputDim(f)] as const), ...spec.denseInputs.map((d) => [d.name, d.width] as const)];
    const inputs = params.dense.inputs;
    if (inputs.length !== want.length) throw new ConfigError(`dense model has ${inputs.length} inputs, the spec needs ${want.length} (${want.map((w) => w[0]).join(', ')})`);
    inputs.forEach((inp, i) => {
      const width = inp.shape[inp.shape.length - 1];
      if (width !== want[i]![1]) throw new ConfigError(`dense model input ${i} (${want[i]![0]}) has width ${width}, expected ${want[i]![1]}`);
    });
    if (params.dense.outputs.length !== spec.heads.length) throw new ConfigError(`dense model has ${params.dense.outputs.length} outputs, the spec has ${spec.heads.length} heads`);
  }

  /** The version directory name: the global step when asked (and known), else the clock in seconds. */
  protected async pickVersion(call: ExportCall, taken: (v: string) => Promise<boolean>): Promise<{ version: string; skip: boolean }> {
    if (this.opts.globalStepAsTimestamp && call.globalStep !== undefined) {
      const version = String(call.globalStep);
      return { version, skip: await taken(version) };
    }
    let t = this.now();
    while (await taken(String(t))) t++;
    return { version: String(t), skip: false };
  }
}

/** One self-contained export `<exportDirBase>/<version>/` holding the dense model and all tables. */
export class StandaloneExporter extends BaseExporter {
  /** Returns the export directory; an existing target (global step versions) is left as it is and returned. */
  async exportSavedModel(call: ExportCall = {}): Promise<string> {
    return enterExportMode(ExportMode.STANDALONE, async (ctx) => {
      const base = this.opts.exportDirBase;
      const { version, skip } = await this.pickVersion(call, (v) => exists(join(base, v)));
      const target = join(base, version);
      if (skip) {
        log.info(`export ${target} exists; skipped`);
        return target;
      }
      const params = await this.opts.params(call.checkpointPath);
      this.checkDense(params);
      const sync = await this.opts.syncMark?.();
      this.addServingSignature(ctx, ENTRY_GRAPH);
      this.addTableSignatures(ctx, ENTRY_GRAPH, this.tableDims());
      await this.opts.describe?.(ctx);
      await mkdir(base, { recursive: true });
      await writeDirAtomically(target, async (tmp) => {
        const serving = this.servingDense(ctx, ENTRY_GRAPH, params);
        await saveLayersModel(serving.model, join(tmp, 'dense'));
        const tables = await this.writeTables(tmp, params, call);
        const sigs = ctx.signatures(ENTRY_GRAPH);
        await this.writeWarmup(tmp, sigs);
        await this.writeGraphFiles(tmp, this.manifest(version, ENTRY_GRAPH, 'standalone', call, tables, { dense: 'dense', ...extraOf(serving), ...(sync ? { sync } : {}) }), sigs, ctx);
      });
      return target;
    });
  }
}

export interface DistributedExporterOptions extends ExporterOptions {
  /** Parameter servers the tables are partitioned over (`fid % numPs`); default 1. */
  numPs?: number;
  /** Only the entry (and dense sub-model): tables are synced to serving by other means. */
  denseOnly?: boolean;
  /** Only these graphs (`entry`, `ps_0`, `dense_0`, …); all when absent. */
  includeGraphs?: string[];
  /** The dense model goes to its own sub-model `dense_0` (Monolith's remote GPU serving). */
  withRemoteGpu?: boolean;
}

/**
 * A distributed export: `<base>/entry/<v>` (dense model, serving signature,
 * warmup), `<base>/ps_<i>/<v>` (the ids with `fid % numPs == i` of every table,
 * with lookup and raw_assign signatures) and, with withRemoteGpu,
 * `<base>/dense_0/<v>` — all under one version name. The parameter servers
 * are written before the entry, so a watcher that sees a new entry finds its
 * parameter servers in place.
 */
export class DistributedExporter extends BaseExporter {
  declare protected readonly opts: DistributedExporterOptions;

  constructor(opts: DistributedExporterOptions) {
    super(opts);
    const n = opts.numPs ?? 1;
    if (!Number.isInteger(n) || n < 1) throw new ConfigError(`numPs must be a positive integer, got ${n}`);
  }

  get numPs(): number {
    return this.opts.numPs ?? 1;
  }

  private shouldExport(graph: string): boolean {
    return !this.opts.includeGraphs || this.opts.includeGraphs.includes(graph);
  }

  /** Returns graph name → export directory of each graph written now (existing targets are skipped and left out). */
  async exportSavedModel(call: ExportCall = {}): Promise<Record<string, string>> {
    const ctx = new ExportContext(!!this.opts.withRemoteGpu);
    return enterExportMode(
      ExportMode.DISTRIBUTED,
      async () => {
        const base = this.opts.exportDirBase;
        const { version } = await this.pickVersion(call, (v) => exists(join(base, ENTRY_GRAPH, v)));
        const psNames = Array.from({ length: this.numPs }, (_, i) => `ps_${i}`);
        const denseName = this.opts.withRemoteGpu ? 'dense_0' : undefined;
        for (const ps of psNames) {
          ctx.subGraphs.add(ps);
          this.addTableSignatures(ctx, ps, this.tableDims());
        }
        if (denseName) {
          ctx.denseSubGraphs.add(denseName);
          ctx.addSignature(denseName, DEFAULT_SERVING_SIGNATURE_DEF_KEY, {}, {});
        }
        this.addServingSignature(ctx, ENTRY_GRAPH);
        await this.opts.describe?.(ctx);

        const result: Record<string, string> = {};
        const todo = async (graph: string) => {
          const target = join(base, graph, version);
          if (await exists(target)) {
            log.info(`export ${target} exists; skipped`);
            return undefined;
          }
          return this.shouldExport(graph) ? target : undefined;
        };
        let serving: ServingDense | undefined;
        const getServing = async () => (serving ??= this.servingDense(ctx, ENTRY_GRAPH, await getParams()));
        let params: TrainedParams | undefined;
        const getParams = async () => {
          if (!params) {
            params = await this.opts.params(call.checkpointPath);
            this.checkDense(params);
          }
          return params;
        };
        if (!this.opts.denseOnly) {
          for (let i = 0; i < psNames.length; i++) {
            const target = await todo(psNames[i]!);
            if (!target) continue;
            const p = await getParams();
            await mkdir(dirname(target), { recursive: true });
            await writeDirAtomically(target, async (tmp) => {
              const tables = await this.writeTables(tmp, p, call, { index: i, count: psNames.length });
              await this.writeGraphFiles(tmp, this.manifest(version, psNames[i]!, 'ps', call, tables), ctx.signatures(psNames[i]!), ctx);
            });
            result[psNames[i]!] = target;
          }
        }
        if (denseName) {
          const target = await todo(denseName);
          if (target) {
            const s = await getServing();
            await mkdir(dirname(target), { recursive: true });
            await writeDirAtomically(target, async (tmp) => {
              await saveLayersModel(s.model, join(tmp, 'dense'));
              await this.writeGraphFiles(tmp, this.manifest(version, denseName, 'dense', call, [], { dense: 'dense' }), ctx.signatures(denseName), ctx);
            });
            result[denseName] = target;
          }
        }
        const entry = await todo(ENTRY_GRAPH);
        if (entry) {
          const s = await getServing();
          await mkdir(dirname(entry), { recursive: true });
          await writeDirAtomically(entry, async (tmp) => {
            if (!denseName) await saveLayersModel(s.model, join(tmp, 'dense'));
            const sigs = ctx.signatures(ENTRY_GRAPH);
            await this.writeWarmup(tmp, sigs);
            const rel = (graph: string) => relative(entry, join(base, graph, version));
            const manifest = this.manifest(version, ENTRY_GRAPH, 'entry', call, [], {
              dense: denseName ? join(rel(denseName), 'dense') : 'dense',
              ps: psNames.map(rel),
              ...(this.opts.denseOnly ? { denseOnly: true } : {}),
              ...extraOf(s),
            });
            await this.writeGraphFiles(tmp, manifest, sigs, ctx);
          });
          result[ENTRY_GRAPH] = entry;
        }
        return result;
      },
      ctx,
    );
  }
}
