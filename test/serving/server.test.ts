import test from 'ava';
import * as grpc from '@grpc/grpc-js';
import Long from 'long';
import { createModel } from '../export/fixtures/tiny-model.js';
import { encodeInstances, randomRows, trainModel } from '../export/fixtures/train.js';
import { StandaloneExporter } from '../../src/export/exporters.js';
import { liveParams } from '../../src/export/params-source.js';
import { stringTensor } from '../../src/export/warmup.js';
import { PredictionServer } from '../../src/serving/prediction-server.js';
import { PredictionClient } from '../../src/serving/prediction-client.js';
import { floatTensor, int64Tensor, tensorToNumbers } from '../../src/serving/tensor-proto.js';
import { tensorflow } from '../../src/proto.js';
import { tempDir } from '../helpers.js';

async function setup(t: { teardown(fn: () => unknown): void }) {
  const tr = trainModel(createModel());
  const base = await tempDir();
  let clock = 1700000000;
  const exporter = new StandaloneExporter({ spec: tr.spec, exportDirBase: base, params: liveParams(tr.dense, tr.tables), clock: () => clock });
  await exporter.exportSavedModel();
  const server = await PredictionServer.start({ modelBasePath: base, pollIntervalMs: 0 });
  const client = new PredictionClient(server.address);
  t.teardown(async () => {
    client.close();
    await server.stop();
  });
  const exportNext = async (dense = tr.dense) => {
    clock += 10;
    return new StandaloneExporter({ spec: tr.spec, exportDirBase: base, params: liveParams(dense, tr.tables), clock: () => clock }).exportSavedModel();
  };
  return { tr, base, server, client, exportNext };
}

const predictReq = (records: Uint8Array[], extra: Partial<tensorflow.serving.IPredictRequest> = {}): tensorflow.serving.IPredictRequest => ({
  modelSpec: { name: 'default', signatureName: 'serving_default' },
  inputs: { instances: stringTensor(records) },
  ...extra,
});

test('GetModelMetadata and Predict round trip on loopback; answers equal in-process predict', async (t) => {
  const { tr, server, client } = await setup(t);
  t.regex(server.address, /^127\.0\.0\.1:\d+$/);
  const sigs = await client.signatures('default');
  t.deepEqual(sigs.get('serving_default')!.inputs, { instances: { dtype: 'string', shape: [-1] } });
  t.deepEqual(Object.keys(sigs.get('serving_default')!.outputs).sort(), ['ctr', 'value']);
  t.true(sigs.has('item/lookup') && sigs.has('user/raw_assign') && sigs.has('raw_assign'));
  const records = encodeInstances(randomRows(tr, 17));
  const res = await client.predict(predictReq(records));
  const local = server.current.predictRecords(records);
  t.deepEqual(tensorToNumbers(res.outputs.ctr!), Array.from(local.ctr!));
  t.deepEqual(tensorToNumbers(res.outputs.value!), Array.from(local.value!));
  t.is(Number(res.modelSpec!.version!.value), 1700000000);
  const filtered = await client.predict(predictReq(records, { outputFilter: ['ctr'] }));
  t.deepEqual(Object.keys(filtered.outputs), ['ctr']);
});

test('table lookup and raw_assign signatures through gRPC', async (t) => {
  const { tr, client } = await setup(t);
  const ids = tr.vocab.get(2)!.slice(0, 5);
  const lookup = await client.predict({ modelSpec: { name: 'default', signatureName: 'item/lookup' }, inputs: { id: int64Tensor(ids, [5]) } });
  t.deepEqual(tensorToNumbers(lookup.outputs.embedding!), Array.from(tr.tables.get('item')!.lookupOnly(ids)));
  const values = Float32Array.from({ length: 2 * 4 }, (_, i) => i + 0.5);
  const newIds = [7n, 8n];
  const assigned = await client.predict({ modelSpec: { name: 'default', signatureName: 'item/raw_assign' }, inputs: { id: int64Tensor(newIds, [2]), value: floatTensor(values, [2, 4]) } });
  t.is(tensorToNumbers(assigned.outputs.size!)[0], tr.tables.get('item')!.size + 2);
  const after = await client.predict({ modelSpec: { name: 'default', signatureName: 'item/lookup' }, inputs: { id: int64Tensor(newIds, [2]) } });
  t.deepEqual(tensorToNumbers(after.outputs.embedding!), Array.from(values));
});

test('bad requests get INVALID_ARGUMENT / NOT_FOUND and the server keeps serving', async (t) => {
  const { tr, client } = await setup(t);
  const records = encodeInstances(randomRows(tr, 3));
  const code = async (req: tensorflow.serving.IPredictRequest) => {
    const err = await t.throwsAsync(client.predict(req));
    return (err as unknown as grpc.ServiceError).code;
  };
  t.is(await code(predictReq(records, { modelSpec: { name: 'nope' } })), grpc.status.NOT_FOUND);
  t.is(await code(predictReq(records, { modelSpec: { name: 'default', signatureName: 'nope' } })), grpc.status.FAILED_PRECONDITION);
  t.is(await code(predictReq(records, { modelSpec: { name: 'default', version: { value: Long.fromNumber(5) } } })), grpc.status.NOT_FOUND);
  t.is(await code({ modelSpec: { name: 'default' }, inputs: { instances: floatTensor(new Float32Array(3), [3]) } }), grpc.status.INVALID_ARGUMENT);
  t.is(await code({ modelSpec: { name: 'default' }, inputs: { other: stringTensor(records) } }), grpc.status.INVALID_ARGUMENT);
  t.is(await code({ modelSpec: { name: 'default' }, inputs: { instances: { ...stringTensor(records), tensorShape: { dim: [{ size: 3 }, { size: 1 }] } } } }), grpc.status.INVALID_ARGUMENT);
  t.is(await code({ modelSpec: { name: 'default' }, inputs: { instances: { ...stringTensor(records), tensorShape: { dim: [{ size: 4 }] } } } }), grpc.status.INVALID_ARGUMENT);
  t.is(await code(predictReq([Uint8Array.of(0xff, 0xff, 0xff)])), grpc.status.INVALID_ARGUMENT);
  t.is(await code(predictReq(records, { outputFilter: ['nope'] })), grpc.status.INVALID_ARGUMENT);
  t.is(await code({ modelSpec: { name: 'default', signatureName: 'item/raw_assign' }, inputs: { id: int64Tensor([1n], [1]), value: floatTensor(new Float32Array(3), [1, 3]) } }), grpc.status.INVALID_ARGUMENT);
  const meta = await t.throwsAsync(client.getModelMetadata({ modelSpec: { name: 'default' }, metadataField: ['nope'] }));
  t.is((meta as unknown as grpc.ServiceError).code, grpc.status.INVALID_ARGUMENT);
  const ok = await client.predict(predictReq(records));
  t.is(tensorToNumbers(ok.outputs.ctr!).length, 3);
});

test('a newer export is picked up while requests keep being answered', async (t) => {
  const { tr, server, client, exportNext } = await setup(t);
  const records = encodeInstances(randomRows(tr, 8));
  const before = await client.predict(predictReq(records));
  const retrained = createModel({ seed: 99 }).buildDense();
  await exportNext(retrained);
  let stop = false;
  let answered = 0;
  const versions = new Set<number>();
  const load = (async () => {
    while (!stop) {
      const batch = await Promise.all(Array.from({ length: 8 }, () => client.predict(predictReq(records))));
      for (const r of batch) versions.add(Number(r.modelSpec!.version!.value));
      answered += batch.length;
    }
  })();
  t.true(await server.poll());
  stop = true;
  await load;
  t.true(answered > 0);
  t.is(server.current.version, '1700000010');
  const after = await client.predict(predictReq(records));
  t.is(Number(after.modelSpec!.version!.value), 1700000010);
  t.notDeepEqual(tensorToNumbers(after.outputs.ctr!), tensorToNumbers(before.outputs.ctr!));
  t.false(await server.poll(), 'no newer version: nothing to do');
});
