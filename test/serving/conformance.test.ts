// TF Serving conformance of the gRPC API: typed outputs, status codes and
// messages, own-key lookups of client-supplied names, version = directory
// name, and that no request stalls the others.
import test from 'ava';
import * as grpc from '@grpc/grpc-js';
import Long from 'long';
import { once } from 'node:events';
import { cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createModel } from '../export/fixtures/tiny-model.js';
import { encodeInstances, randomRows, trainModel } from '../export/fixtures/train.js';
import { StandaloneExporter } from '../../src/export/exporters.js';
import { liveParams } from '../../src/export/params-source.js';
import { stringTensor } from '../../src/export/warmup.js';
import { PredictionServer } from '../../src/serving/prediction-server.js';
import { PredictionClient } from '../../src/serving/prediction-client.js';
import { tensorToNumbers } from '../../src/serving/tensor-proto.js';
import { tensorflow } from '../../src/proto.js';
import { tempDir } from '../helpers.js';

const tr = trainModel(createModel());
const base = await tempDir();
await new StandaloneExporter({ spec: tr.spec, exportDirBase: base, params: liveParams(tr.dense, tr.tables), clock: () => 100 }).exportSavedModel();

let clockCalls = 0;
let deadlineAfterCalls = Infinity;
const server = await PredictionServer.start({ modelBasePath: base, pollIntervalMs: 0, warmup: false, sliceRows: 64, now: () => (++clockCalls > deadlineAfterCalls ? Date.now() + 3600_000 : Date.now()) });
const client = new PredictionClient(server.address);
test.after.always(async () => {
  client.close();
  await server.stop();
});

const req = (records: Uint8Array[], extra: Partial<tensorflow.serving.IPredictRequest> = {}): tensorflow.serving.IPredictRequest => ({
  modelSpec: { name: 'default' },
  inputs: { instances: stringTensor(records) },
  ...extra,
});
const failure = async (p: Promise<unknown>) => {
  const err = (await p.then(
    () => undefined,
    (e: unknown) => e,
  )) as grpc.ServiceError | undefined;
  if (!err) throw new Error('expected the call to fail');
  return { code: err.code, details: err.details };
};
const records = encodeInstances(randomRows(tr, 5));

test.serial('outputs come in the typed float_val field, as TF Serving answers by default', async (t) => {
  const res = await client.predict(req(records));
  t.is(res.outputs.ctr!.floatVal!.length, 5);
  t.is(res.outputs.ctr!.tensorContent!.length, 0);
  t.deepEqual(tensorToNumbers(res.outputs.ctr!), Array.from(server.current.predictRecords(records).ctr!));
});

test.serial('status codes and messages of TF Serving for model spec, signature and metadata fields', async (t) => {
  t.deepEqual(await failure(client.predict({ inputs: { instances: stringTensor(records) } })), { code: grpc.status.INVALID_ARGUMENT, details: 'Missing ModelSpec' });
  t.deepEqual(await failure(client.predict(req(records, { modelSpec: { name: 'nope' } }))), { code: grpc.status.NOT_FOUND, details: 'Servable not found for request: Latest(nope)' });
  t.deepEqual(await failure(client.predict(req(records, { modelSpec: { name: 'default', version: { value: Long.fromNumber(5) } } }))), {
    code: grpc.status.NOT_FOUND,
    details: 'Servable not found for request: Specific(default, 5)',
  });
  const sig = await failure(client.predict(req(records, { modelSpec: { name: 'default', signatureName: 'nope' } })));
  t.deepEqual(sig, { code: grpc.status.FAILED_PRECONDITION, details: 'Serving signature key "nope" not found.' });
  const long = 'm'.repeat(10_000);
  const big = await failure(client.predict(req(records, { modelSpec: { name: long } })));
  t.is(big.code, grpc.status.NOT_FOUND);
  t.true(big.details.length < 400, 'the name is cut in the message');
  const meta = await client.getModelMetadata({ modelSpec: { name: 'default' }, metadataField: ['signature_def', 'signature_def'] });
  t.truthy(meta.metadata.signature_def);
  t.is(Number(meta.modelSpec!.version!.value), 100);
  t.is((await failure(client.getModelMetadata({ modelSpec: { name: 'default' }, metadataField: [] }))).code, grpc.status.INVALID_ARGUMENT);
  t.is((await failure(client.getModelMetadata({ metadataField: ['signature_def'] }))).details, 'Missing ModelSpec');
});

test.serial('client-supplied names are own-key lookups: __proto__, constructor, toString', async (t) => {
  for (const name of ['__proto__', 'constructor', 'toString']) {
    const inputs: Record<string, tensorflow.ITensorProto> = { instances: stringTensor(records) };
    Object.defineProperty(inputs, name, { value: stringTensor(records), enumerable: true });
    const err = await failure(client.predict({ modelSpec: { name: 'default' }, inputs }));
    t.is(err.code, grpc.status.INVALID_ARGUMENT, name);
    t.regex(err.details, /input tensor alias not found in signature/);
    const f = await failure(client.predict(req(records, { outputFilter: [name] })));
    t.is(f.code, grpc.status.INVALID_ARGUMENT, `output_filter ${name}`);
    t.is((await failure(client.predict(req(records, { modelSpec: { name: 'default', signatureName: name } })))).code, grpc.status.FAILED_PRECONDITION);
  }
});

test.serial('a 1-row request is answered while a maximal request is being computed', async (t) => {
  const maxRows = server.current.maxRows;
  const rows = encodeInstances(randomRows(tr, 64));
  const maximal = Array.from({ length: maxRows }, (_, i) => rows[i % rows.length]!);
  const order: string[] = [];
  const before = server.current.denseRuns;
  const bigCall = client.predict(req(maximal), { timeoutMs: 600_000 }).then((r) => {
    order.push('big');
    return r;
  });
  // The server shares this event loop: wait until it has computed the first slice of the big request.
  while (server.current.denseRuns === before) await new Promise((r) => setImmediate(r));
  const small = await client.predict(req(records.slice(0, 1)));
  order.push('small');
  const big = await bigCall;
  t.deepEqual(order, ['small', 'big']);
  t.is(tensorToNumbers(small.outputs.ctr!).length, 1);
  t.is(tensorToNumbers(big.outputs.ctr!).length, maxRows);
  // One more row than the limit is refused up front.
  t.is((await failure(client.predict(req([...maximal, records[0]!])))).code, grpc.status.INVALID_ARGUMENT);
});

test.serial('a request whose deadline passes stops being computed', async (t) => {
  const rows = encodeInstances(randomRows(tr, 64));
  const many = Array.from({ length: 64 * 40 }, (_, i) => rows[i % rows.length]!);
  const before = server.current.denseRuns;
  clockCalls = 0;
  deadlineAfterCalls = 3;
  const err = await failure(client.predict(req(many), { timeoutMs: 600_000 }));
  deadlineAfterCalls = Infinity;
  t.is(err.code, grpc.status.DEADLINE_EXCEEDED);
  t.true(server.current.denseRuns - before <= 3, `${server.current.denseRuns - before} slices computed of 40`);
});

test.serial('a request whose client cancelled stops being computed', async (t) => {
  const rows = encodeInstances(randomRows(tr, 64));
  const many = Array.from({ length: 64 * 40 }, (_, i) => rows[i % rows.length]!);
  const before = server.current.denseRuns;
  const done = once(server.events, 'predict');
  const raw = new grpc.Client(server.address, grpc.credentials.createInsecure());
  t.teardown(() => raw.close());
  let cancelledCode: number | undefined;
  const call = raw.makeUnaryRequest(
    '/tensorflow.serving.PredictionService/Predict',
    (m: tensorflow.serving.IPredictRequest) => Buffer.from(tensorflow.serving.PredictRequest.encode(m).finish()),
    (b: Buffer) => b,
    req(many),
    (err) => (cancelledCode = err?.code),
  );
  // Cancel once the server has computed the first slice.
  while (server.current.denseRuns === before) await new Promise((r) => setImmediate(r));
  call.cancel();
  t.deepEqual(await done, ['CANCELLED']);
  t.true(server.current.denseRuns - before < 40, `${server.current.denseRuns - before} slices computed of 40`);
  t.is(cancelledCode, grpc.status.CANCELLED);
});

test.serial('version is the directory name: a manifest that disagrees is refused once, the served version stays', async (t) => {
  const dir = join(base, '1000');
  await cp(join(base, '100'), dir, { recursive: true });
  const m = JSON.parse(await readFile(join(dir, 'export.json'), 'utf8')) as { version: string };
  m.version = '203';
  await writeFile(join(dir, 'export.json'), JSON.stringify(m));
  t.false(await server.poll());
  t.false(await server.poll());
  t.deepEqual(server.versions.refused, ['1000'], 'tried once, not on every poll');
  const res = await client.predict(req(records));
  t.is(Number(res.modelSpec!.version!.value), 100);
  t.is((await failure(client.predict(req(records, { modelSpec: { name: 'default', version: { value: Long.fromNumber(203) } } })))).code, grpc.status.NOT_FOUND);
  t.is((await failure(client.predict(req(records, { modelSpec: { name: 'default', version: { value: Long.fromNumber(1000) } } })))).code, grpc.status.NOT_FOUND);
});

test.serial('tensor_content and server-side batching are options that change the answer and the runs', async (t) => {
  const s = await PredictionServer.start({ modelBasePath: base, pollIntervalMs: 0, warmup: false, enableSerializationAsTensorContent: true, batching: { maxBatchSize: 4, batchTimeoutMicros: 600e6 }, versionLabels: { stable: 100, canary: 7 } });
  const c = new PredictionClient(s.address);
  t.teardown(async () => {
    c.close();
    await s.stop();
  });
  const before = s.current.denseRuns;
  const four = encodeInstances(randomRows(tr, 4));
  const answers = await Promise.all(four.map((r) => c.predict(req([r]))));
  t.is(s.current.denseRuns - before, 1, 'four 1-row requests, one model run');
  const local = s.current.predictRecords(four).ctr!;
  answers.forEach((a, i) => {
    t.is(a.outputs.ctr!.floatVal!.length, 0);
    t.is(a.outputs.ctr!.tensorContent!.length, 4);
    t.true(Math.abs(tensorToNumbers(a.outputs.ctr!)[0]! - local[i]!) < 1e-6);
  });
  t.is(s.current.version, '100');
  // version_label from the model config: a known label of the served version answers, others do not.
  const labelled = await c.predict(req(four, { modelSpec: { name: 'default', versionLabel: 'stable' } }));
  t.is(Number(labelled.modelSpec!.version!.value), 100);
  t.deepEqual(await failure(c.predict(req(four, { modelSpec: { name: 'default', versionLabel: 'canary' } }))), { code: grpc.status.NOT_FOUND, details: 'Servable not found for request: Label(default, canary)' });
  t.deepEqual(await failure(c.predict(req(four, { modelSpec: { name: 'default', versionLabel: 'nope' } }))), { code: grpc.status.INVALID_ARGUMENT, details: 'Unrecognized servable version label: nope' });
  t.is((await failure(client.predict(req(four, { modelSpec: { name: 'default', versionLabel: 'stable' } })))).code, grpc.status.INVALID_ARGUMENT, 'no labels configured');
});
