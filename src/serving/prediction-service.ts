import type { MethodDefinition, ServiceDefinition } from '@grpc/grpc-js';
import { tensorflow } from '../proto.js';

type Codec<T> = { encode(m: T): { finish(): Uint8Array }; decode(b: Uint8Array): T };

function unary<Req, Res>(name: string, req: Codec<Req>, res: Codec<Res>): MethodDefinition<Req, Res> {
  return {
    path: `/tensorflow.serving.PredictionService/${name}`,
    requestStream: false,
    responseStream: false,
    requestSerialize: (m: Req) => Buffer.from(req.encode(m).finish()),
    requestDeserialize: (b: Buffer) => req.decode(b),
    responseSerialize: (m: Res) => Buffer.from(res.encode(m).finish()),
    responseDeserialize: (b: Buffer) => res.decode(b),
  };
}

const S = tensorflow.serving;

/**
 * TF Serving's PredictionService (tensorflow_serving/apis/prediction_service.proto)
 * with our generated codecs: the two methods this server implements. Classify,
 * Regress and MultiInference are answered UNIMPLEMENTED by grpc-js.
 */
export const predictionServiceDefinition = {
  Predict: unary('Predict', S.PredictRequest as Codec<tensorflow.serving.PredictRequest>, S.PredictResponse as Codec<tensorflow.serving.PredictResponse>),
  GetModelMetadata: unary(
    'GetModelMetadata',
    S.GetModelMetadataRequest as Codec<tensorflow.serving.GetModelMetadataRequest>,
    S.GetModelMetadataResponse as Codec<tensorflow.serving.GetModelMetadataResponse>,
  ),
} satisfies ServiceDefinition;

export const SIGNATURE_DEF_MAP_TYPE_URL = 'type.googleapis.com/tensorflow.serving.SignatureDefMap';
