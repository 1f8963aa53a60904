import type * as grpc from '@grpc/grpc-js';
import { grpcJs } from './grpc-js.js';
import { join } from 'node:path';
import { access } from 'node:fs/promises';
import { tensorflow } from '../proto.js';
import { FormatError, MonolithError } from '../errors.js';
import { readTFRecords } from '../io/tfrecord.js';
import { ASSETS_EXTRA, MAX_WARMUP_RECORDS, WARMUP_FILE } from '../export/warmup.js';
import { toSignatureDefMap } from '../export/signature-def.js';
import { log } from '../util/log.js';
import { invalidArgument, notFound, ServingError } from './errors.js';
import { versionNumber, type ExportedModel } from './exported-model.js';
import { listVersions, loadExport, type LoadExportOptions } from './load-export.js';
import { predictionServiceDefinition, SIGNATURE_DEF_MAP_TYPE_URL } from './prediction-service.js';

export interface PredictionServerOptions extends LoadExportOptions {
  /** Directory of versions (`<base>/<version>/export.json`); for a distributed export, `<base>/entry`. */
  modelBasePath: string;
  /** Name clients use in model_spec.name (default `default`). */
  modelName?: string;
  /** Default 127.0.0.1: only this machine can connect unless told otherwise. */
  host?: string;
  /** Default 0: an ephemeral port (see `port` after start). */
  port?: number;
  /** How often to look for a newer version; 0 disables the timer (call `poll()` yourself). Default 30000. */
  pollIntervalMs?: number;
  /** Run assets.extra/tf_serving_warmup_requests before a version serves (default true). */
  warmup?: boolean;
  /** Largest request accepted, bytes (default 64 MiB); bigger ones get RESOURCE_EXHAUSTED. */
  maxMessageBytes?: number;
}

const STATUS = (): Record<ServingError['code'], grpc.status> => ({
  INVALID_ARGUMENT: grpcJs().status.INVALID_ARGUMENT,
  NOT_FOUND: grpcJs().status.NOT_FOUND,
  FAILED_PRECONDITION: grpcJs().status.FAILED_PRECONDITION,
  UNAVAILABLE: grpcJs().status.UNAVAILABLE,
  RESOURCE_EXHAUSTED: grpcJs().status.RESOURCE_EXHAUSTED,
  INTERNAL: grpcJs().status.INTERNAL,
});

function toStatus(err: unknown): grpc.ServiceError {
  const e = err as Error;
  const code = err instanceof ServingError ? STATUS()[err.code] : err instanceof MonolithError ? grpcJs().status.INVALID_ARGUMENT : grpcJs().status.INTERNAL;
  return Object.assign(new Error(e?.message ?? String(err)), { code, details: e?.message ?? String(err), metadata: new (grpcJs().Metadata)() });
}

/** Runs every warmup request of an export against it; a failing request fails the load, as in TF Serving. */
export async function runWarmup(model: ExportedModel): Promise<number> {
  const file = join(model.dir, ASSETS_EXTRA, WARMUP_FILE);
  try {
    await access(file);
  } catch {
    return 0;
  }
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
    model.predict(entry.predictLog.request);
  }
  return n;
}

/**
 * A TF-Serving-compatible PredictionService (Predict, GetModelMetadata) over a
 * directory of export versions. It serves the newest version; a newer one is
 * loaded and warmed up beside the current one and swapped in with one
 * assignment, so requests keep being answered through the swap.
 */
export class PredictionServer {
  private server: grpc.Server | undefined;
  private model: ExportedModel | undefined;
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<boolean> | undefined;
  port = 0;

  private constructor(readonly opts: PredictionServerOptions) {}

  get modelName(): string {
    return this.opts.modelName ?? 'default';
  }
  get address(): string {
    return `${this.opts.host ?? '127.0.0.1'}:${this.port}`;
  }
  /** The version being served. */
  get current(): ExportedModel {
    if (!this.model) throw new ServingError('UNAVAILABLE', 'no model loaded');
    return this.model;
  }

  /** Loads and warms up the newest version, then binds; resolves once it is ready to serve. */
  static async start(opts: PredictionServerOptions): Promise<PredictionServer> {
    const s = new PredictionServer(opts);
    if (!(await s.poll())) throw new ServingError('FAILED_PRECONDITION', `no export version under ${opts.modelBasePath}`);
    await s.bind();
    const every = opts.pollIntervalMs ?? 30000;
    if (every > 0) {
      s.timer = setInterval(() => void s.poll().catch((err) => log.error(`version poll failed: ${(err as Error).message}`)), every);
      s.timer.unref();
    }
    return s;
  }

  /** Loads the newest version if it is newer than the served one; true when a version was swapped in. */
  poll(): Promise<boolean> {
    return (this.polling ??= this.pollOnce().finally(() => (this.polling = undefined)));
  }

  private async pollOnce(): Promise<boolean> {
    const versions = await listVersions(this.opts.modelBasePath);
    const newest = versions[versions.length - 1];
    if (!newest || newest === this.model?.version) return false;
    if (this.model && versionNumber(newest) < versionNumber(this.model.version)) return false;
    const next = await loadExport(join(this.opts.modelBasePath, newest), this.opts);
    if (this.opts.warmup ?? true) {
      try {
        const n = await runWarmup(next);
        log.info(`version ${newest}: ${n} warmup requests run`);
      } catch (err) {
        next.dispose();
        throw err;
      }
    }
    const old = this.model;
    this.model = next;
    // Predict runs synchronously on this thread, so no request still holds the old version.
    old?.dispose();
    log.info(`serving ${this.modelName} version ${newest}`);
    return true;
  }

  private modelFor(spec: tensorflow.serving.IModelSpec | null | undefined): ExportedModel {
    const name = spec?.name ?? '';
    if (name !== this.modelName) throw notFound(`model "${name}" not found (this server serves "${this.modelName}")`);
    const model = this.current;
    const v = spec?.version?.value;
    if (v != null && String(v) !== String(versionNumber(model.version))) throw notFound(`model ${name} version ${String(v)} is not loaded (serving ${model.version})`);
    if (spec?.versionLabel) throw notFound(`version labels are not supported (got "${spec.versionLabel}")`);
    return model;
  }

  private async bind(): Promise<void> {
    const max = this.opts.maxMessageBytes ?? 64 << 20;
    const server = new (grpcJs().Server)({ 'grpc.max_receive_message_length': max, 'grpc.max_send_message_length': max });
    server.addService(predictionServiceDefinition, {
      Predict: (call: grpc.ServerUnaryCall<tensorflow.serving.PredictRequest, unknown>, cb: grpc.sendUnaryData<tensorflow.serving.PredictResponse.$Properties>) => {
        try {
          cb(null, this.modelFor(call.request.modelSpec).predict(call.request));
        } catch (err) {
          cb(toStatus(err));
        }
      },
      GetModelMetadata: (call: grpc.ServerUnaryCall<tensorflow.serving.GetModelMetadataRequest, unknown>, cb: grpc.sendUnaryData<tensorflow.serving.GetModelMetadataResponse.$Properties>) => {
        try {
          const model = this.modelFor(call.request.modelSpec);
          const fields = call.request.metadataField ?? [];
          if (fields.length !== 1 || fields[0] !== 'signature_def') throw invalidArgument(`metadata_field must be exactly ["signature_def"], got [${fields.join(', ')}]`);
          const value = tensorflow.serving.SignatureDefMap.encode(toSignatureDefMap(model.signatures)).finish();
          cb(null, { modelSpec: { name: this.modelName, version: { value: versionNumber(model.version) } }, metadata: { signature_def: { type_url: SIGNATURE_DEF_MAP_TYPE_URL, value } } });
        } catch (err) {
          cb(toStatus(err));
        }
      },
    });
    this.port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(`${this.opts.host ?? '127.0.0.1'}:${this.opts.port ?? 0}`, grpcJs().ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))),
    );
    this.server = server;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.polling?.catch(() => undefined);
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
    this.model?.dispose();
    this.model = undefined;
  }
}
