import test from 'ava';
import * as grpc from '@grpc/grpc-js';
import { enterExportMode, ExportMode } from '../../src/export/export-context.js';
import { RemotePredictHelper, tensorSignatureName, type TensorRef } from '../../src/export/remote-predict-helper.js';
import { predictionServiceDefinition } from '../../src/serving/prediction-service.js';
import { PredictionClient } from '../../src/serving/prediction-client.js';
import { floatTensor, readFloats, tensorToNumbers } from '../../src/serving/tensor-proto.js';
import { ConfigError } from '../../src/errors.js';
import type { tensorflow } from '../../src/proto.js';

const ref = (name: string): TensorRef => ({ name, dtype: 'float32', shape: [-1] });

test('signature names from tensor names; registration in the export context; conflicts rejected', (t) => {
  t.is(tensorSignatureName({ name: 'foo:0' }), 'foo_0');
  enterExportMode(ExportMode.STANDALONE, (ctx) => {
    const h = new RemotePredictHelper('test_func', { a: ref('a:0'), b: ref('b:0') }, () => ({ out: ref('add:0') }));
    t.deepEqual(Object.keys(h.signatureInputs), ['a_0', 'b_0']);
    t.deepEqual(Object.keys(ctx.signature('entry', 'test_func')!.outputs), ['add_0']);
    t.throws(() => new RemotePredictHelper('bad', [ref('x:0'), ref('x_0')], () => ref('y:0')), { instanceOf: ConfigError, message: /name conflict/ });
  });
  t.throws(() => new RemotePredictHelper('outside', ref('a:0'), () => ref('b:0')), { instanceOf: ConfigError, message: /export context/ });
});

test('callRemotePredict through a real gRPC PredictionService computes a*3 + b*4', async (t) => {
  const server = new grpc.Server();
  server.addService(predictionServiceDefinition, {
    Predict: (call: grpc.ServerUnaryCall<tensorflow.serving.PredictRequest, unknown>, cb: grpc.sendUnaryData<tensorflow.serving.IPredictResponse>) => {
      const a = readFloats('a_0', call.request.inputs.a_0!);
      const b = readFloats('b_0', call.request.inputs.b_0!);
      t.is(call.request.modelSpec!.signatureName, 'test_func');
      cb(null, { outputs: { out_0: floatTensor(a.map((x, i) => x * 3 + b[i]! * 4), [a.length]) } });
    },
    GetModelMetadata: (_c: unknown, cb: grpc.sendUnaryData<unknown>) => cb({ code: grpc.status.UNIMPLEMENTED }),
  });
  const port = await new Promise<number>((res, rej) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
  const client = new PredictionClient(`127.0.0.1:${port}`);
  try {
    const helper = enterExportMode(ExportMode.STANDALONE, () => new RemotePredictHelper('test_func', { a: ref('a:0'), b: ref('b:0') }, () => [ref('out:0')]));
    const res = await helper.callRemotePredict('model_name', client, { a: floatTensor(Float32Array.of(1, 2), [2]), b: floatTensor(Float32Array.of(2, 5), [2]) });
    t.true(Array.isArray(res));
    t.deepEqual(tensorToNumbers((res as tensorflow.ITensorProto[])[0]!), [11, 26]);
  } finally {
    client.close();
    server.forceShutdown();
  }
});
