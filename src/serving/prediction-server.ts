import type * as grpc from '@grpc/grpc-js';
import { grpcJs } from './grpc-js.js';
import { EventEmitter } from 'node:events';
import { tensorflow } from '../proto.js';
import { toSignatureDefMap } from '../export/signature-def.js';
import { log } from '../util/log.js';
import { invalidArgument, quoted, ServingError, statusOf } from './errors.js';
import type { ExportedModel } from './exported-model.js';
import type { PredictOptions } from './predict-handler.js';
import { versionNumber } from './predict-handler.js';
import { predictionServiceDefinition, SIGNATURE_DEF_MAP_TYPE_URL } from './prediction-service.js';
import { RequestBatcher, type BatchingOptions } from './request-batcher.js';
import { RestServer } from './rest-server.js';
import { ServableVersions, type ServableOptions } from './servable-versions.js';

export { runWarmup } from './servable-versions.js';

export interface PredictionServerOptions extends ServableOptions {
  /** Default 127.0.0.1: only this machine can connect unless told otherwise. */
  host?: string;
  /** gRPC port. Default 0: an ephemeral port (see `port` after start). */
  port?: number;
  /** REST API port (TF Serving's --rest_api_port); undefined: no REST API. 0: an ephemeral port. */
  restPort?: number;
  /** How often to look for a newer version; 0 disables the timer (call `poll()` yourself). Default 30000. */
  pollIntervalMs?: number;
  /** Largest request accepted, bytes (default 16 MiB); bigger ones get RESOURCE_EXHAUSTED. */
  maxMessageBytes?: number;
  /** Float outputs in tensor_content instead of float_val (TF Serving's --enable_serialization_as_tensor_content). */
  enableSerializationAsTensorContent?: boolean;
  /** Server-side batching of concurrent small serving_default requests (TF Serving's --enable_batching). */
  batching?: BatchingOptions | false;
  /** Clock for request deadlines, ms since the epoch (default Date.now). */
  now?: () => number;
}

const STATUS = (): Record<ServingError['code'], grpc.status> => ({
  INVALID_ARGUMENT: grpcJs().status.INVALID_ARGUMENT,
  NOT_FOUND: grpcJs().status.NOT_FOUND,
  FAILED_PRECONDITION: grpcJs().status.FAILED_PRECONDITION,
  UNAVAILABLE: grpcJs().status.UNAVAILABLE,
  RESOURCE_EXHAUSTED: grpcJs().status.RESOURCE_EXHAUSTED,
  INTERNAL: grpcJs().status.INTERNAL,
  CANCELLED: grpcJs().status.CANCELLED,
  DEADLINE_EXCEEDED: grpcJs().status.DEADLINE_EXCEEDED,
  UNIMPLEMENTED: grpcJs().status.UNIMPLEMENTED,
});

function toStatus(err: unknown): grpc.ServiceError {
  const { code, message } = statusOf(err);
  return Object.assign(new Error(message), { code: STATUS()[code], details: message, metadata: new (grpcJs().Metadata)() });
}

/** What TF Serving's GetModelMetadata accepts in metadata_field: signature_def, repeated or not. */
export function checkMetadataFields(fields: readonly string[]): void {
  if (!fields.length) throw invalidArgument('GetModelMetadataRequest must specify at least one metadata_field');
  for (const f of fields) if (f !== 'signature_def') throw invalidArgument(`Metadata field ${quoted(f)} is not supported`);
}

/**
 * A TF-Serving-compatible server over a directory of export versions: the
 * gRPC PredictionService (Predict, GetModelMetadata) and, with `restPort`,
 * TF Serving's REST API. Large requests run in slices so small ones are
 * answered meanwhile; a request whose deadline passed or whose client
 * cancelled stops being computed.
 */
export class PredictionServer {
  private server: grpc.Server | undefined;
  private rest: RestServer | undefined;
  private timer: NodeJS.Timeout | undefined;
  readonly versions: ServableVersions;
  readonly batcher: RequestBatcher | undefined;
  /** Emits `predict` with the status code name of every gRPC Predict once it is done ('OK', 'CANCELLED', …). */
  readonly events = new EventEmitter();
  port = 0;

  private constructor(readonly opts: PredictionServerOptions) {
    this.versions = new ServableVersions(opts);
    this.batcher = opts.batching ? new RequestBatcher(opts.batching) : undefined;
  }

  get modelName(): string {
    return this.versions.modelName;
  }
  get address(): string {
    return `${this.opts.host ?? '127.0.0.1'}:${this.port}`;
  }
  /** host:port of the REST API, when it runs. */
  get restAddress(): string | undefined {
    return this.rest ? `${this.opts.host ?? '127.0.0.1'}:${this.rest.port}` : undefined;
  }
  /** The version being served. */
  get current(): ExportedModel {
    const m = this.versions.current;
    if (!m) throw new ServingError('UNAVAILABLE', 'no model loaded');
    return m;
  }

  /** Loads and warms up the newest version, then binds; resolves once it is ready to serve. */
  static async start(opts: PredictionServerOptions): Promise<PredictionServer> {
    const s = new PredictionServer(opts);
    if (!(await s.poll())) throw new ServingError('FAILED_PRECONDITION', `no loadable export version under ${opts.modelBasePath}`);
    try {
      await s.bind();
      if (opts.restPort !== undefined) s.rest = await RestServer.start(s, opts.host ?? '127.0.0.1', opts.restPort);
    } catch (err) {
      await s.stop();
      throw err;
    }
    const every = opts.pollIntervalMs ?? 30000;
    if (every > 0) {
      s.timer = setInterval(() => void s.poll().catch((err) => log.error(`version poll failed: ${(err as Error).message}`)), every);
      s.timer.unref();
    }
    return s;
  }

  /** Loads the newest good version if it is newer than the served one; true when a version was swapped in. */
  poll(): Promise<boolean> {
    return this.versions.poll();
  }

  /** Options of one Predict: the server's output encoding and batcher, and when to stop. */
  predictOptions(abort?: PredictOptions['abort']): PredictOptions {
    return { tensorContent: this.opts.enableSerializationAsTensorContent ?? false, ...(this.batcher ? { runner: this.batcher } : {}), ...(abort ? { abort } : {}) };
  }

  /** GetModelMetadata's answer for a request. */
  metadata(req: tensorflow.serving.IGetModelMetadataRequest): tensorflow.serving.GetModelMetadataResponse.$Properties {
    const model = this.versions.resolve(req.modelSpec);
    checkMetadataFields(req.metadataField ?? []);
    const value = tensorflow.serving.SignatureDefMap.encode(toSignatureDefMap(model.signatures)).finish();
    return { modelSpec: { name: this.modelName, version: { value: versionNumber(model.version) } }, metadata: { signature_def: { type_url: SIGNATURE_DEF_MAP_TYPE_URL, value } } };
  }

  private async bind(): Promise<void> {
    const max = this.opts.maxMessageBytes ?? 16 << 20;
    const server = new (grpcJs().Server)({ 'grpc.max_receive_message_length': max, 'grpc.max_send_message_length': max });
    server.addService(predictionServiceDefinition, {
      Predict: (call: grpc.ServerUnaryCall<tensorflow.serving.PredictRequest, unknown>, cb: grpc.sendUnaryData<tensorflow.serving.PredictResponse.$Properties>) => {
        const deadline = call.getDeadline();
        const end = deadline instanceof Date ? deadline.getTime() : deadline;
        const abort = () => (call.cancelled ? 'CANCELLED' : Number.isFinite(end) && (this.opts.now ?? Date.now)() > end ? 'DEADLINE_EXCEEDED' : undefined);
        this.versions.use(call.request.modelSpec, (m) => m.predict(call.request, this.predictOptions(abort))).then(
          (res) => {
            this.events.emit('predict', 'OK');
            cb(null, res);
          },
          (err) => {
            this.events.emit('predict', statusOf(err).code);
            cb(toStatus(err));
          },
        );
      },
      GetModelMetadata: (call: grpc.ServerUnaryCall<tensorflow.serving.GetModelMetadataRequest, unknown>, cb: grpc.sendUnaryData<tensorflow.serving.GetModelMetadataResponse.$Properties>) => {
        try {
          cb(null, this.metadata(call.request));
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
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
    await this.rest?.close();
    this.batcher?.close();
    await this.versions.close();
  }
}
