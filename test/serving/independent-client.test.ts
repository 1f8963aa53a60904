// A TF Serving client this project did not write: messages are built and read by
// @bufbuild/protobuf from a descriptor set the buf CLI compiles from the upstream
// tensorflow_serving/apis protos in schemas/ (neither protobufjs nor our codecs are
// involved); grpc-js only carries the bytes.
import test from 'ava';
import * as grpc from '@grpc/grpc-js';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { createModel } from '../export/fixtures/tiny-model.js';
import { encodeInstances, randomRows, trainModel } from '../export/fixtures/train.js';
import { StandaloneExporter } from '../../src/export/exporters.js';
import { liveParams } from '../../src/export/params-source.js';
import { PredictionServer } from '../../src/serving/prediction-server.js';
import { tempDir } from '../helpers.js';
import { predictionServiceClient, tfServingDescriptors, type Msg } from '../helpers/tf-serving-client.js';

const desc = tfServingDescriptors();
const PredictRequest = desc('tensorflow.serving.PredictRequest');
const PredictResponse = desc('tensorflow.serving.PredictResponse');
const MetadataRequest = desc('tensorflow.serving.GetModelMetadataRequest');
const MetadataResponse = desc('tensorflow.serving.GetModelMetadataResponse');
const SignatureDefMap = desc('tensorflow.serving.SignatureDefMap');
const TensorProto = desc('tensorflow.TensorProto');

const tr = trainModel(createModel());
const base = await tempDir();
await new StandaloneExporter({ spec: tr.spec, exportDirBase: base, params: liveParams(tr.dense, tr.tables), clock: () => 1700000000 }).exportSavedModel();
const server = await PredictionServer.start({ modelBasePath: base, pollIntervalMs: 0, warmup: false });

// Raw bytes in, raw bytes out: the only codec is @bufbuild/protobuf.
const client = predictionServiceClient(server.address);
const call = (method: string, bytes: Uint8Array) => client.call(method, bytes);
test.after.always(async () => {
  client.close();
  await server.stop();
});

test('Predict: a request encoded by @bufbuild/protobuf, the answer decoded by it, float_val as TF Serving writes it', async (t) => {
  const records = encodeInstances(randomRows(tr, 4));
  const tensor = create(TensorProto, { dtype: 7, tensorShape: { dim: [{ size: 4n }] }, stringVal: records });
  const req = create(PredictRequest, { modelSpec: { name: 'default', signatureName: 'serving_default' }, inputs: { instances: tensor } });
  const bytes = await call('Predict', toBinary(PredictRequest, req));
  const res = fromBinary(PredictResponse, bytes) as Msg;
  const outputs = res.outputs as Record<string, Msg>;
  t.deepEqual(Object.keys(outputs).sort(), ['ctr', 'value']);
  const ctr = outputs.ctr!;
  t.is(ctr.dtype, 1, 'DT_FLOAT');
  t.is((ctr.tensorContent as Uint8Array).length, 0);
  const local = server.current.predictRecords(records).ctr!;
  t.deepEqual(ctr.floatVal as number[], Array.from(local));
  t.deepEqual(((ctr.tensorShape as Msg).dim as Msg[]).map((d) => d.size), [4n]);
  const spec = res.modelSpec as Msg;
  t.is(spec.name, 'default');
  t.deepEqual((spec.versionChoice as { case: string; value: Msg }).case, 'version');
  t.is((spec.versionChoice as { value: Msg }).value.value, 1700000000n);
  // Our answer is what the independent encoder writes for the same message: re-encoding is byte-identical.
  t.deepEqual(Buffer.from(toBinary(PredictResponse, res)).equals(bytes), true);
});

test('GetModelMetadata: repeated signature_def field accepted; the Any holds a SignatureDefMap the independent decoder reads', async (t) => {
  const req = create(MetadataRequest, { modelSpec: { name: 'default' }, metadataField: ['signature_def', 'signature_def'] });
  const res = fromBinary(MetadataResponse, await call('GetModelMetadata', toBinary(MetadataRequest, req))) as Msg;
  const any = (res.metadata as Record<string, Msg>).signature_def!;
  t.is(any.typeUrl, 'type.googleapis.com/tensorflow.serving.SignatureDefMap');
  const map = fromBinary(SignatureDefMap, any.value as Uint8Array) as Msg;
  const sd = (map.signatureDef as Record<string, Msg>).serving_default!;
  t.is(sd.methodName, 'tensorflow/serving/predict');
  t.is((sd.inputs as Record<string, Msg>).instances!.dtype, 7);
  t.is(((res.modelSpec as Msg).versionChoice as { value: Msg }).value.value, 1700000000n);
});

test('a request without model_spec: INVALID_ARGUMENT "Missing ModelSpec"', async (t) => {
  const err = (await t.throwsAsync(call('Predict', toBinary(PredictRequest, create(PredictRequest, {}))))) as unknown as grpc.ServiceError;
  t.is(err.code, grpc.status.INVALID_ARGUMENT);
  t.is(err.details, 'Missing ModelSpec');
});
