// TF Serving's REST API, called with plain fetch as a TF Serving user would.
import test from 'ava';
import { createModel } from '../export/fixtures/tiny-model.js';
import { encodeInstances, randomRows, trainModel } from '../export/fixtures/train.js';
import { StandaloneExporter } from '../../src/export/exporters.js';
import { liveParams } from '../../src/export/params-source.js';
import { PredictionServer } from '../../src/serving/prediction-server.js';
import { tempDir } from '../helpers.js';

const tr = trainModel(createModel());
const base = await tempDir();
await new StandaloneExporter({ spec: tr.spec, exportDirBase: base, params: liveParams(tr.dense, tr.tables), clock: () => 1700000000 }).exportSavedModel();
const server = await PredictionServer.start({ modelBasePath: base, pollIntervalMs: 0, warmup: false, restPort: 0 });
test.after.always(() => server.stop());
const url = (path: string) => `http://${server.restAddress}${path}`;
const post = (path: string, body: unknown) => fetch(url(path), { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
const records = encodeInstances(randomRows(tr, 3));
const b64 = records.map((r) => ({ b64: Buffer.from(r).toString('base64') }));

test('the REST API listens on loopback only by default', (t) => {
  t.regex(server.restAddress!, /^127\.0\.0\.1:\d+$/);
});

test('model status and metadata', async (t) => {
  const status = await fetch(url('/v1/models/default'));
  t.is(status.status, 200);
  t.deepEqual(await status.json(), { model_version_status: [{ version: '1700000000', state: 'AVAILABLE', status: { error_code: 'OK', error_message: '' } }] });
  t.is((await fetch(url('/v1/models/default/versions/1700000000'))).status, 200);
  const v404 = await fetch(url('/v1/models/default/versions/5'));
  t.is(v404.status, 404);
  t.deepEqual(await v404.json(), { error: 'Servable not found for request: Specific(default, 5)' });
  const meta = (await (await fetch(url('/v1/models/default/metadata'))).json()) as { model_spec: { version: string }; metadata: { signature_def: { signature_def: Record<string, { inputs: Record<string, { dtype: string }>; method_name: string }> } } };
  t.is(meta.model_spec.version, '1700000000');
  const sd = meta.metadata.signature_def.signature_def.serving_default!;
  t.is(sd.inputs.instances!.dtype, 'DT_STRING');
  t.is(sd.method_name, 'tensorflow/serving/predict');
});

test('predict in row form (instances → predictions) and columnar form (inputs → outputs) equal in-process predict', async (t) => {
  const local = server.current.predictRecords(records);
  const rows = await post('/v1/models/default:predict', { signature_name: 'serving_default', instances: b64 });
  t.is(rows.status, 200);
  const { predictions } = (await rows.json()) as { predictions: { ctr: number; value: number }[] };
  t.is(predictions.length, 3);
  predictions.forEach((p, i) => {
    t.true(Math.abs(p.ctr - local.ctr![i]!) < 1e-6);
    t.true(Math.abs(p.value - local.value![i]!) < 1e-6);
  });
  const cols = await post('/v1/models/default/versions/1700000000:predict', { inputs: { instances: b64 } });
  const { outputs } = (await cols.json()) as { outputs: { ctr: number[]; value: number[] } };
  t.deepEqual(outputs.ctr.length, 3);
  t.true(outputs.ctr.every((v, i) => Math.abs(v - local.ctr![i]!) < 1e-6));
});

test('errors are {"error": …} with TF Serving HTTP statuses', async (t) => {
  const cases: [string, unknown, number, RegExp][] = [
    ['/v1/models/nope:predict', { instances: b64 }, 404, /Servable not found for request: Latest\(nope\)/],
    ['/v1/models/default:predict', { signature_name: 'nope', instances: b64 }, 400, /Serving signature key "nope" not found/],
    ['/v1/models/default:predict', { instances: [{ constructor: b64[0] }] }, 400, /input tensor alias not found in signature: constructor/],
    ['/v1/models/default:predict', { instances: [{ b64: '***' }] }, 400, /not base64/],
    ['/v1/models/default:predict', { nothing: 1 }, 400, /Missing 'inputs' or 'instances'/],
    ['/v1/models/default:classify', { examples: [] }, 400, /Expected classification signature method_name/],
    ['/v1/models/default:regress', { examples: [] }, 400, /Expected regression signature method_name/],
  ];
  for (const [path, body, status, msg] of cases) {
    const res = await post(path, body);
    t.is(res.status, status, path);
    t.regex(((await res.json()) as { error: string }).error, msg);
  }
  const bad = await fetch(url('/v1/models/default:predict'), { method: 'POST', body: '{not json' });
  t.is(bad.status, 400);
  // Still serving.
  t.is((await post('/v1/models/default:predict', { instances: b64 })).status, 200);
});

test('a request larger than one slice is computed whole (in slices) and equals in-process predict', async (t) => {
  const many = Array.from({ length: 700 }, (_, i) => records[i % records.length]!);
  const res = await post('/v1/models/default:predict', { inputs: { instances: many.map((r) => ({ b64: Buffer.from(r).toString('base64') })) } });
  t.is(res.status, 200);
  const { outputs } = (await res.json()) as { outputs: { ctr: number[] } };
  const local = server.current.predictRecords(many).ctr!;
  t.is(outputs.ctr.length, 700);
  t.true(outputs.ctr.every((v, i) => Math.abs(v - local[i]!) < 1e-6));
});

test('int64 inputs beyond 2^53 as decimal strings: a table lookup over REST', async (t) => {
  const ids = tr.vocab.get(2)!.slice(0, 2);
  t.true(ids[0]! > 2n ** 53n);
  const res = await post('/v1/models/default:predict', { signature_name: 'item/lookup', inputs: { id: ids.map(String) } });
  t.is(res.status, 200);
  const { outputs } = (await res.json()) as { outputs: number[][] };
  const want = tr.tables.get('item')!.lookupOnly(ids);
  t.deepEqual(outputs.flat(), Array.from(want));
});
