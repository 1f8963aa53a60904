import type * as grpc from '@grpc/grpc-js';
import { grpcJs } from './grpc-js.js';
import { tensorflow } from '../proto.js';
import { FormatError } from '../errors.js';
import type { SavedModelSignature } from '../export/export-context.js';
import { fromSignatureDef } from '../export/signature-def.js';
import { predictionServiceDefinition, SIGNATURE_DEF_MAP_TYPE_URL } from './prediction-service.js';

type Unary<Req, Res> = (req: Req, meta: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: Res) => void) => grpc.ClientUnaryCall;
interface Stub extends grpc.Client {
  Predict: Unary<tensorflow.serving.IPredictRequest, tensorflow.serving.PredictResponse>;
  GetModelMetadata: Unary<tensorflow.serving.IGetModelMetadataRequest, tensorflow.serving.GetModelMetadataResponse>;
}

type StubCtor = new (address: string, creds: grpc.ChannelCredentials, opts?: grpc.ClientOptions) => Stub;
let stubCtor: StubCtor | undefined;
const StubCtor = (): StubCtor => (stubCtor ??= grpcJs().makeGenericClientConstructor(predictionServiceDefinition, 'PredictionService') as unknown as StubCtor);

export interface CallOptions {
  /** Default 30 s, as demo_predictor_client. */
  timeoutMs?: number;
}

/** A client of any TF-Serving PredictionService (ours or TF Serving itself), insecure channel. */
export class PredictionClient {
  private readonly stub: Stub;

  constructor(readonly address: string, opts: grpc.ClientOptions = {}) {
    this.stub = new (StubCtor())(address, grpcJs().credentials.createInsecure(), { 'grpc.max_receive_message_length': 64 << 20, ...opts });
  }

  private call<Req, Res>(fn: Unary<Req, Res>, req: Req, opts: CallOptions): Promise<Res> {
    const deadline = new Date(Date.now() + (opts.timeoutMs ?? 30000));
    return new Promise((resolve, reject) => fn.call(this.stub, req, new (grpcJs().Metadata)(), { deadline }, (err, res) => (err ? reject(err) : resolve(res!))));
  }

  predict(req: tensorflow.serving.IPredictRequest, opts: CallOptions = {}): Promise<tensorflow.serving.PredictResponse> {
    return this.call(this.stub.Predict, req, opts);
  }

  getModelMetadata(req: tensorflow.serving.IGetModelMetadataRequest, opts: CallOptions = {}): Promise<tensorflow.serving.GetModelMetadataResponse> {
    return this.call(this.stub.GetModelMetadata, req, opts);
  }

  /** The model's signatures (GetModelMetadata with metadata_field signature_def, the Any unpacked). */
  async signatures(modelName: string, opts: CallOptions = {}): Promise<Map<string, SavedModelSignature>> {
    const res = await this.getModelMetadata({ modelSpec: { name: modelName }, metadataField: ['signature_def'] }, opts);
    const any = res.metadata?.signature_def;
    if (!any || any.type_url !== SIGNATURE_DEF_MAP_TYPE_URL) throw new FormatError(`GetModelMetadata: no ${SIGNATURE_DEF_MAP_TYPE_URL} in the response (got ${any?.type_url ?? 'nothing'})`);
    const map = tensorflow.serving.SignatureDefMap.decode(any.value!);
    return new Map(Object.entries(map.signatureDef ?? {}).map(([k, v]) => [k, fromSignatureDef(k, v)]));
  }

  close(): void {
    this.stub.close();
  }
}
