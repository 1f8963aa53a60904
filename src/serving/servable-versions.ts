import { join } from 'node:path';
import { readTFRecords } from '../io/tfrecord.js';
import { tensorflow } from '../proto.js';
import { ASSETS_EXTRA, MAX_WARMUP_RECORDS, WARMUP_FILE } from '../export/warmup.js';
import { EXPORT_MANIFEST } from '../export/export-manifest.js';
import { log } from '../util/log.js';
import { FormatError } from '../errors.js';
import { invalidArgument, quoted, ServingError } from './errors.js';
import type { ExportedModel } from './exported-model.js';
import { exists, listVersions, loadExport, type LoadExportOptions } from './load-export.js';
import { versionNumber } from './predict-handler.js';

export interface ServableOptions extends LoadExportOptions {
  /** Directory of versions (`<base>/<version>/export.json`, version a non-negative integer); for a distributed export, `<base>/entry`. */
  modelBasePath: string;
  /** Name clients use in model_spec.name (default `default`). */
  modelName?: string;
  /** Run assets.extra/tf_serving_warmup_requests before a version serves (default true). */
  warmup?: boolean;
  /** version_label → version, as TF Serving's model config `version_labels`. */
  versionLabels?: Record<string, number>;
}

/** Version directories of a base as TF Serving sees them: names that are non-negative integers, holding an export; oldest first. */
export async function servableVersions(base: string): Promise<string[]> {
  return (await listVersions(base)).filter((n) => /^\d{1,15}$/.test(n)).sort((a, b) => Number(a) - Number(b));
}

/** Runs every warmup request of an export against it; a failing request fails the load, as in TF Serving. */
export async function runWarmup(model: ExportedModel): Promise<number> {
  const file = join(model.dir, ASSETS_EXTRA, WARMUP_FILE);
  if (!(await exists(file))) return 0;
  let n = 0;
  for await (const rec of readTFRecords(file)) {
    if (++n > MAX_WARMUP_RECORDS) throw new ServingError('FAILED_PRECONDITION', `${file}: more than ${MAX_WARMUP_RECORDS} warmup records`);
    let entry: tensorflow.serving.PredictionLog;
    try {
      entry = tensorflow.serving.PredictionLog.decode(rec);
    } catch (err) {
      throw new FormatError(`record ${n - 1} is not a PredictionLog: ${(err as Error).message}`, { file, field: `record ${n - 1}` }, { cause: err });
    }
    if (!entry.predictLog?.request) throw new ServingError('FAILED_PRECONDITION', `${file}: record ${n - 1}: unsupported log_type for warmup (${entry.logType ?? 'none'})`);
    await model.predict(entry.predictLog.request);
  }
  return n;
}

/**
 * The versions of one model a server offers: the newest loadable version
 * directory, loaded and warmed up beside the current one and swapped in with
 * one assignment. A version that fails to load (bad files, a manifest whose
 * version disagrees with its directory, a model.json tfjs cannot build in
 * time) is logged once and skipped; the current version keeps serving. A
 * replaced version is disposed once its last request is done.
 */
export class ServableVersions {
  private model: ExportedModel | undefined;
  private readonly failed = new Set<string>();
  private readonly inflight = new Map<ExportedModel, number>();
  private retired = new Set<ExportedModel>();
  private polling: Promise<boolean> | undefined;
  /** Versions refused so far (each logged once). */
  readonly refused: string[] = [];

  constructor(readonly opts: ServableOptions) {}

  get modelName(): string {
    return this.opts.modelName ?? 'default';
  }
  get current(): ExportedModel | undefined {
    return this.model;
  }

  /** Loads the newest good version if newer than the served one; true when one was swapped in. */
  poll(): Promise<boolean> {
    return (this.polling ??= this.pollOnce().finally(() => (this.polling = undefined)));
  }

  private async pollOnce(): Promise<boolean> {
    const served = this.model ? versionNumber(this.model.version) : -1;
    const candidates = (await servableVersions(this.opts.modelBasePath)).filter((v) => Number(v) > served && !this.failed.has(v)).reverse();
    for (const v of candidates) {
      try {
        await this.swapIn(await this.load(v));
        return true;
      } catch (err) {
        this.failed.add(v);
        this.refused.push(v);
        log.error(`${this.modelName} version ${v} not served: ${(err as Error).message}`);
      }
    }
    return false;
  }

  private async load(v: string): Promise<ExportedModel> {
    const dir = join(this.opts.modelBasePath, v);
    const next = await loadExport(dir, { ...this.opts, version: v });
    try {
      if (versionNumber(String(next.manifest.version)) !== Number(v)) throw new ServingError('FAILED_PRECONDITION', `${join(dir, EXPORT_MANIFEST)} says version ${quoted(String(next.manifest.version))}, its directory ${v}`);
      if (this.opts.warmup ?? true) log.info(`version ${v}: ${await runWarmup(next)} warmup requests run`);
    } catch (err) {
      next.dispose();
      throw err;
    }
    return next;
  }

  private async swapIn(next: ExportedModel): Promise<void> {
    const old = this.model;
    this.model = next;
    log.info(`serving ${this.modelName} version ${next.version}`);
    if (old) this.retire(old);
  }

  private retire(m: ExportedModel): void {
    if (this.inflight.get(m)) this.retired.add(m);
    else m.dispose();
  }

  /** The servable a model_spec names, with TF Serving's status codes and messages. */
  resolve(spec: tensorflow.serving.IModelSpec | null | undefined): ExportedModel {
    if (!spec) throw invalidArgument('Missing ModelSpec');
    const name = spec.name ?? '';
    const v = spec.version?.value;
    const label = spec.versionLabel ?? '';
    const request = v != null ? `Specific(${quoted(name)}, ${String(v)})` : label ? `Label(${quoted(name)}, ${quoted(label)})` : `Latest(${quoted(name)})`;
    const model = this.model;
    if (name !== this.modelName || !model) throw new ServingError('NOT_FOUND', `Servable not found for request: ${request}`);
    if (v != null && label) throw invalidArgument('ModelSpec has both version and version_label');
    let want: number | undefined = v != null ? Number(v) : undefined;
    if (label) {
      const labels = this.opts.versionLabels ?? {};
      if (!Object.hasOwn(labels, label)) throw invalidArgument(`Unrecognized servable version label: ${quoted(label)}`);
      want = labels[label];
    }
    if (want !== undefined && want !== versionNumber(model.version)) throw new ServingError('NOT_FOUND', `Servable not found for request: ${request}`);
    return model;
  }

  /** Runs `fn` on the servable `spec` names, keeping that version loaded until `fn` is done. */
  async use<T>(spec: tensorflow.serving.IModelSpec | null | undefined, fn: (m: ExportedModel) => Promise<T> | T): Promise<T> {
    const m = this.resolve(spec);
    this.inflight.set(m, (this.inflight.get(m) ?? 0) + 1);
    try {
      return await fn(m);
    } finally {
      const left = this.inflight.get(m)! - 1;
      if (left) this.inflight.set(m, left);
      else {
        this.inflight.delete(m);
        if (this.retired.delete(m)) m.dispose();
      }
    }
  }

  /** Waits for a running poll, then disposes every loaded version. */
  async close(): Promise<void> {
    await this.polling?.catch(() => undefined);
    this.model?.dispose();
    this.model = undefined;
    for (const m of this.retired) m.dispose();
    this.retired = new Set();
  }
}
