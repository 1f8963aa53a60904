import test from 'ava';
import * as tfl from '@tensorflow/tfjs-layers';
import { createModel } from './fixtures/tiny-model.js';
import { trainModel } from './fixtures/train.js';
import { StandaloneExporter } from '../../src/export/exporters.js';
import { liveParams } from '../../src/export/params-source.js';
import { PredictionServer } from '../../src/serving/prediction-server.js';
import { tempDir } from '../helpers.js';
import { enterExportMode, ExportMode } from '../../src/export/export-context.js';
import { RemotePredictHelper, tensorSignatureName, type TensorRef } from '../../src/export/remote-predict-helper.js';
import { PredictionClient } from '../../src/serving/prediction-client.js';
import { floatTensor, tensorToNumbers } from '../../src/serving/tensor-proto.js';
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

test('callRemotePredict calls a served model: the function a*3 + b*4 built with tfjs layers is exported and computed by the server', async (t) => {
  const tr = trainModel(createModel());
  const base = await tempDir();
  let helper: RemotePredictHelper | undefined;
  const col = (name: string): TensorRef => ({ name, dtype: 'float32', shape: [-1, 1] });
  const times = (k: number, name: string) => tfl.layers.dense({ units: 1, useBias: false, kernelInitializer: tfl.initializers.constant({ value: k }), name });
  await new StandaloneExporter({
    spec: tr.spec,
    exportDirBase: base,
    params: liveParams(tr.dense, tr.tables),
    clock: () => 1700000000,
    describe: (ctx) => {
      helper = new RemotePredictHelper('test_func', { a: col('a:0'), b: col('b:0') }, (ph) => {
        const { a, b } = ph as unknown as Record<'a' | 'b', tfl.SymbolicTensor>;
        return [tfl.layers.add({ name: 'out' }).apply([times(3, 'a3').apply(a) as tfl.SymbolicTensor, times(4, 'b4').apply(b) as tfl.SymbolicTensor]) as tfl.SymbolicTensor];
      }, { ctx });
    },
  }).exportSavedModel();
  const server = await PredictionServer.start({ modelBasePath: base, pollIntervalMs: 0 });
  const client = new PredictionClient(server.address);
  try {
    const sigs = await client.signatures('default');
    t.deepEqual(sigs.get('test_func'), { name: 'test_func', inputs: { a_0: { dtype: 'float32', shape: [-1, 1] }, b_0: { dtype: 'float32', shape: [-1, 1] } }, outputs: { out_0: { dtype: 'float32', shape: [-1, 1] } } });
    const res = await helper!.callRemotePredict('default', client, { a: floatTensor(Float32Array.of(1, 2), [2, 1]), b: floatTensor(Float32Array.of(2, 5), [2, 1]) });
    t.true(Array.isArray(res));
    t.deepEqual(tensorToNumbers((res as tensorflow.ITensorProto[])[0]!), [11, 26]);
    // the same signature through the loaded export, in process
    const local = await server.current.predict({ modelSpec: { name: 'default', signatureName: 'test_func' }, inputs: { a_0: floatTensor(Float32Array.of(-1), [1, 1]), b_0: floatTensor(Float32Array.of(1), [1, 1]) } });
    t.deepEqual(tensorToNumbers(local.outputs!.out_0!), [1]);
    // rows must agree
    const bad = await t.throwsAsync(client.predict({ modelSpec: { name: 'default', signatureName: 'test_func' }, inputs: { a_0: floatTensor(Float32Array.of(1, 2), [2, 1]), b_0: floatTensor(Float32Array.of(1), [1, 1]) } }));
    t.regex(bad!.message, /INVALID_ARGUMENT.*same number of rows/);
  } finally {
    client.close();
    await server.stop();
  }
});
