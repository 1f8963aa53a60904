import test from 'ava';
import * as tf from '@tensorflow/tfjs-core';
import { initializers, input, layers, model as tflModel, type SymbolicTensor } from '@tensorflow/tfjs-layers';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import Long from 'long';
import { createModelTables, loadExport, loadLayersModelFromDir, saveLayersModel, liveParams, makeFidV1, parser, PredictionClient, PredictionServer, StandaloneExporter, stringTensor, tensorToNumbers, shapeOf } from 'monolith-ts';
import { ConfigError } from '../../src/errors.js';
import { FnModel } from '../model/helpers.js';
import { useCpu } from '../model/tf-setup.js';
import { ROOT, tempDir } from '../helpers.js';

const CLI = join(ROOT, 'dist', 'src', 'cli', 'main.js');

test.before(useCpu);

/** Slots 1 and 2 (slice `vec`, dim 2), a hidden layer, and two extra outputs: the embeddings and the hidden layer + logit. */
const model = (extra: (m: FnModel, e: SymbolicTensor, hidden: SymbolicTensor, logit: SymbolicTensor) => void) =>
  new FnModel(
    (m) => {
      m.createEmbeddingFeatureColumn(1);
      m.createEmbeddingFeatureColumn(2);
      const e = m.lookupEmbeddingSlice([1, 2], 'vec', { sliceDim: 2, outType: 'concat' }) as SymbolicTensor;
      const hidden = layers.dense({ units: 3, activation: 'relu' }).apply(e) as SymbolicTensor;
      const logit = layers.dense({ units: 1 }).apply(hidden) as SymbolicTensor;
      extra(m, e, hidden, logit);
      return { heads: [{ name: 'ctr', logit }] };
    },
    { name: 'extras' },
  );

const fid = (slot: number, n: number) => makeFidV1(slot, BigInt(n));
const record = (ids: bigint[]) => parser.proto.Instance.encode({ fid: ids.map((f) => Long.fromString(f.toString(), true)) }).finish();

test('addExtraOutput signatures are served from the trained dense model: gRPC and ExportedModel agree with the tables and with serving_default', async (t) => {
  const m = model((mm, e, hidden, logit) => {
    mm.addExtraOutput('emb', e);
    mm.addExtraOutput('inner', { hidden, logit });
  });
  const spec = m.toModelSpec();
  const tables = createModelTables(spec);
  const [t1, t2] = spec.features.map((f) => tables[f.table]!);
  t1!.assign([fid(1, 5)], Float32Array.of(0.5, -1));
  t2!.assign([fid(2, 7)], Float32Array.of(2, 0.25));
  // Trained weights differ from any fresh build: the served outputs must come from these.
  const dense = spec.buildDense();
  dense.setWeights(dense.getWeights().map((w, i) => tf.fill(w.shape, 0.1 * (i + 1))));
  // As a checkpoint holds it: saved and loaded back (the layers are matched by position, not by object).
  const saved = join(await tempDir(), 'dense');
  await saveLayersModel(dense, saved);
  const trained = await loadLayersModelFromDir(saved);
  const base = await tempDir();
  await new StandaloneExporter({ spec, exportDirBase: base, params: liveParams(trained, tables), clock: () => 1700000000 }).exportSavedModel();

  const server = await PredictionServer.start({ modelBasePath: base, pollIntervalMs: 0 }); // warmup runs every signature's requests
  const client = new PredictionClient(server.address);
  t.teardown(async () => {
    client.close();
    await server.stop();
  });
  const sigs = await client.signatures('default');
  t.deepEqual(sigs.get('emb')!.outputs, { emb: { dtype: 'float32', shape: [-1, 4] } });
  t.deepEqual(sigs.get('inner')!.outputs, { hidden: { dtype: 'float32', shape: [-1, 3] }, logit: { dtype: 'float32', shape: [-1, 1] } });
  const records = [record([fid(1, 5), fid(2, 7)]), record([fid(1, 5)]), record([])];
  const inputs = { instances: stringTensor(records) };
  const emb = await client.predict({ modelSpec: { name: 'default', signatureName: 'emb' }, inputs });
  t.deepEqual(shapeOf(emb.outputs.emb!), [3, 4]);
  t.deepEqual(tensorToNumbers(emb.outputs.emb!), [0.5, -1, 2, 0.25, 0.5, -1, 0, 0, 0, 0, 0, 0]);

  const inner = await client.predict({ modelSpec: { name: 'default', signatureName: 'inner' }, inputs });
  const ctr = await client.predict({ modelSpec: { name: 'default', signatureName: 'serving_default' }, inputs });
  const logits = tensorToNumbers(inner.outputs.logit!);
  const probs = tensorToNumbers(ctr.outputs.ctr!);
  logits.forEach((z, i) => t.true(Math.abs(1 / (1 + Math.exp(-z)) - probs[i]!) < 1e-6, `row ${i}: sigmoid(logit) is the served ctr`));
  // hidden = relu(emb · 0.1 + 0.2) with the trained (constant) weights
  const h0 = Math.max(0, (0.5 - 1 + 2 + 0.25) * 0.1 + 0.2);
  t.true(Math.abs(tensorToNumbers(inner.outputs.hidden!)[0]! - h0) < 1e-6);
  const filtered = await client.predict({ modelSpec: { name: 'default', signatureName: 'inner' }, inputs, outputFilter: ['hidden'] });
  t.deepEqual(Object.keys(filtered.outputs), ['hidden']);

  const loaded = await loadExport(base);
  t.teardown(() => loaded.dispose());
  const res = await loaded.predict({ modelSpec: { name: 'default', signatureName: 'emb' }, inputs });
  t.deepEqual(tensorToNumbers(res.outputs!.emb!), tensorToNumbers(emb.outputs.emb!));
});

test('an extra output computed by layers the heads do not use is refused at export', async (t) => {
  const m = model((mm, e) => mm.addExtraOutput('side', layers.dense({ units: 2 }).apply(e) as SymbolicTensor));
  const spec = m.toModelSpec();
  const err = await t.throwsAsync(
    new StandaloneExporter({ spec, exportDirBase: await tempDir(), params: liveParams(spec.buildDense(), createModelTables(spec)), warmupFile: false }).exportSavedModel(),
    { instanceOf: ConfigError },
  );
  t.regex(err!.message, /extra output side\/side: computed by layer .*which the heads do not use/);
});

test('a describe() signature with its own tfjs model is served by `monolith-ts serve` over REST; a declared-only signature answers UNIMPLEMENTED', async (t) => {
  const m = model(() => undefined);
  const spec = m.toModelSpec();
  const base = await tempDir();
  await new StandaloneExporter({
    spec,
    exportDirBase: base,
    params: liveParams(spec.buildDense(), createModelTables(spec)),
    clock: () => 1700000000,
    warmupFile: false,
    describe: (ctx) => {
      const x = input({ shape: [2], name: 'x' });
      const y = layers.dense({ units: 1, useBias: false, kernelInitializer: initializers.constant({ value: 2 }), name: 'y' }).apply(x) as SymbolicTensor;
      ctx.addSignatureModel('entry', 'double_sum', { model: tflModel({ inputs: x, outputs: y }), inputs: ['x'], outputs: ['y'] }, { x: { dtype: 'float32', shape: [-1, 2] } }, { y: { dtype: 'float32', shape: [-1, 1] } });
      ctx.addSignature('entry', 'declared_only', { x: { dtype: 'float32', shape: [-1] } }, { y: { dtype: 'float32', shape: [-1] } });
    },
  }).exportSavedModel();
  const proc = spawn(process.execPath, [CLI, 'serve', '--model-base-path', base, '--port', '0', '--rest-api-port', '0', '--poll-interval-ms', '0'], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, MONOLITH_LOG: 'warn' } });
  t.teardown(async () => {
    proc.kill('SIGTERM');
    await once(proc, 'exit');
  });
  let out = '';
  proc.stdout.setEncoding('utf8');
  while (!/REST API on (\S+)\n/.test(out)) {
    const [chunk] = (await Promise.race([once(proc.stdout, 'data'), once(proc, 'exit').then(() => ['EXIT'])])) as string[];
    if (chunk === 'EXIT') throw new Error(`serve exited: ${out}`);
    out += chunk;
  }
  const rest = /REST API on (\S+)\n/.exec(out)![1]!;
  const post = (body: object) => fetch(`${rest}/v1/models/default:predict`, { method: 'POST', body: JSON.stringify(body) });
  const ok = await post({ signature_name: 'double_sum', inputs: { x: [[1, 2], [3, -4]] } });
  t.is(ok.status, 200);
  t.deepEqual(await ok.json(), { outputs: [[6], [-2]] });
  const no = await post({ signature_name: 'declared_only', inputs: { x: [1] } });
  t.is(no.status, 501);
  t.regex(((await no.json()) as { error: string }).error, /declared_only.*cannot be run/);
});
