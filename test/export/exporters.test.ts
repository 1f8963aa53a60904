import test from 'ava';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createModel } from './fixtures/tiny-model.js';
import { encodeInstances, randomRows, referencePredict, trainModel } from './fixtures/train.js';
import { StandaloneExporter, DistributedExporter } from '../../src/export/exporters.js';
import { checkpointParams, liveParams, saveDenseCheckpoint } from '../../src/export/params-source.js';
import { saveTable } from '../../src/hashtable/checkpoint.js';
import { ckptAssetDir } from '../../src/hashtable/checkpoint-listeners.js';
import { ConfigError } from '../../src/errors.js';
import { loadExport } from '../../src/serving/load-export.js';
import { describeWarmupFile } from '../../src/export/warmup.js';
import { tempDir } from '../helpers.js';

const close = (a: ArrayLike<number>, b: ArrayLike<number>, eps = 1e-5) => a.length === b.length && Array.from(a).every((x, i) => Math.abs(x - b[i]!) <= eps);

test('standalone export loads and predicts what the training-side model predicts', async (t) => {
  const tr = trainModel(createModel());
  const base = await tempDir();
  const exporter = new StandaloneExporter({ spec: tr.spec, exportDirBase: base, params: liveParams(tr.dense, tr.tables), clock: () => 1700000000 });
  const dir = await exporter.exportSavedModel();
  t.is(dir, join(base, '1700000000'));
  const files = (await readdir(dir)).sort();
  t.deepEqual(files, ['assets', 'assets.extra', 'dense', 'export.json', 'saved_model.pb']);
  const model = await loadExport(base);
  const rows = randomRows(tr, 33);
  const want = referencePredict(tr, rows);
  const got = model.predictRecords(encodeInstances(rows));
  t.true(close(got.ctr!, want.ctr!), `${Array.from(got.ctr!).slice(0, 4)} vs ${want.ctr!.slice(0, 4)}`);
  t.true(close(got.value!, want.value!));
  const warm: string[] = [];
  for await (const s of describeWarmupFile(join(dir, 'assets.extra', 'tf_serving_warmup_requests'))) warm.push(s);
  t.true(warm.length > 0);
  t.regex(warm[0]!, /signature_name: "serving_default"/);
});

async function ls(dir: string): Promise<string[]> {
  return (await readdir(dir)).sort();
}

test('distributed export: entry + ps_<i> (+ dense_0) under one version; ps partitions cover every id once; loads and predicts', async (t) => {
  const tr = trainModel(createModel());
  const base = await tempDir();
  const exporter = new DistributedExporter({ spec: tr.spec, exportDirBase: base, params: liveParams(tr.dense, tr.tables), clock: () => 1700000100, numPs: 3, withRemoteGpu: true });
  const res = await exporter.exportSavedModel({ globalStep: 5 });
  t.deepEqual(Object.keys(res).sort(), ['dense_0', 'entry', 'ps_0', 'ps_1', 'ps_2']);
  t.deepEqual(await ls(base), ['dense_0', 'entry', 'ps_0', 'ps_1', 'ps_2']);
  for (const g of Object.keys(res)) t.deepEqual(await ls(join(base, g)), ['1700000100'], `${g} has only the version, no temp dir`);
  t.deepEqual(await ls(res.entry!), ['assets.extra', 'export.json', 'saved_model.pb']);
  let total = 0;
  for (let i = 0; i < 3; i++) {
    const m = JSON.parse(await readFile(join(res[`ps_${i}`]!, 'export.json'), 'utf8'));
    total += m.tables.reduce((a: number, x: { entries: number }) => a + x.entries, 0);
  }
  t.is(total, tr.tables.get('user')!.size + tr.tables.get('item')!.size);
  const model = await loadExport(base);
  t.is(model.manifest.graph, 'entry');
  const rows = randomRows(tr, 20, 5);
  const want = referencePredict(tr, rows);
  const got = model.predictRecords(encodeInstances(rows));
  t.true(close(got.ctr!, want.ctr!));
  for (const [name, table] of tr.tables) {
    const ids = [...tr.vocab.values()].flat();
    t.deepEqual(Array.from(model.lookup(name, new Uint32Array(BigUint64Array.from(ids).buffer))), Array.from(table.lookupOnly(ids)), name);
  }
});

test('global_step_as_timestamp: the version is the step and an existing target is skipped', async (t) => {
  const tr = trainModel(createModel());
  const base = await tempDir();
  const opts = { spec: tr.spec, exportDirBase: base, params: liveParams(tr.dense, tr.tables), globalStepAsTimestamp: true, numPs: 2 };
  const first = await new DistributedExporter(opts).exportSavedModel({ globalStep: 42 });
  t.is(first.entry, join(base, 'entry', '42'));
  const before = (await stat(join(first.entry!, 'export.json'))).mtimeMs;
  const again = await new DistributedExporter(opts).exportSavedModel({ globalStep: 42 });
  t.deepEqual(again, {});
  t.is((await stat(join(first.entry!, 'export.json'))).mtimeMs, before);
  const only = await new DistributedExporter({ ...opts, includeGraphs: ['ps_1'] }).exportSavedModel({ globalStep: 43 });
  t.deepEqual(Object.keys(only), ['ps_1']);
  const standalone = new StandaloneExporter({ ...opts, exportDirBase: join(base, 'sa') });
  t.is(await standalone.exportSavedModel({ globalStep: 7 }), join(base, 'sa', '7'));
  t.is(await standalone.exportSavedModel({ globalStep: 7 }), join(base, 'sa', '7'));
});

test('dense_only: no parameter servers written; the entry uses the newest ones there are', async (t) => {
  const tr = trainModel(createModel());
  const base = await tempDir();
  const opts = { spec: tr.spec, exportDirBase: base, params: liveParams(tr.dense, tr.tables), globalStepAsTimestamp: true, numPs: 2 };
  await new DistributedExporter(opts).exportSavedModel({ globalStep: 10 });
  const res = await new DistributedExporter({ ...opts, denseOnly: true }).exportSavedModel({ globalStep: 20 });
  t.deepEqual(Object.keys(res), ['entry']);
  const model = await loadExport(base);
  t.is(model.version, '20');
  t.true(model.manifest.denseOnly);
  const rows = randomRows(tr, 9, 3);
  t.true(close(model.predictRecords(encodeInstances(rows)).ctr!, referencePredict(tr, rows).ctr!));
});

test('fp16 and skip_zero_embedding: rows rounded to halves, zero rows left out', async (t) => {
  const tr = trainModel(createModel());
  const zeroId = 12345n;
  tr.tables.get('user')!.assign([zeroId], new Float32Array(4));
  const base = await tempDir();
  const dir = await new StandaloneExporter({ spec: tr.spec, exportDirBase: base, params: liveParams(tr.dense, tr.tables), fp16: ['user'], skipZeroEmbedding: true, warmupFile: false }).exportSavedModel();
  const m = JSON.parse(await readFile(join(dir, 'export.json'), 'utf8'));
  const user = m.tables.find((x: { name: string }) => x.name === 'user');
  t.true(user.fp16);
  t.is(user.entries, tr.tables.get('user')!.size - 1);
  t.false((await ls(dir)).includes('assets.extra'));
  const model = await loadExport(dir);
  const ids = tr.vocab.get(1)!;
  const trained = tr.tables.get('user')!.lookupOnly(ids);
  const served = model.lookup('user', new Uint32Array(BigUint64Array.from(ids).buffer));
  t.false(close(served, trained, 0), 'fp16 changes the values');
  t.true(close(served, trained, 1e-3));
  t.true(model.tables.get('user')!.layout.halves);
  t.deepEqual(Array.from(model.lookup('item', new Uint32Array(BigUint64Array.from(tr.vocab.get(2)!).buffer))), Array.from(tr.tables.get('item')!.lookupOnly(tr.vocab.get(2)!)));
});

test('export from a checkpoint directory, with and without shared_embedding: lookups equal the trained values', async (t) => {
  const tr = trainModel(createModel());
  const modelDir = await tempDir();
  const prefix = join(modelDir, 'model.ckpt-300');
  await saveDenseCheckpoint(tr.dense, prefix);
  for (const [name, table] of tr.tables) await saveTable(table, join(ckptAssetDir(prefix), name));
  const params = checkpointParams(tr.spec, modelDir);
  const ids = [...tr.vocab.values()].flat();
  for (const sharedEmbedding of [false, true]) {
    const base = await tempDir();
    const dir = await new StandaloneExporter({ spec: tr.spec, exportDirBase: base, params, sharedEmbedding }).exportSavedModel({ checkpointPath: prefix, globalStep: 300 });
    const m = JSON.parse(await readFile(join(dir, 'export.json'), 'utf8'));
    t.is(m.tables[0].shared, sharedEmbedding);
    t.is((await ls(dir)).includes('assets'), !sharedEmbedding);
    const model = await loadExport(dir);
    for (const [name, table] of tr.tables) t.deepEqual(Array.from(model.lookup(name, new Uint32Array(BigUint64Array.from(ids).buffer))), Array.from(table.lookupOnly(ids)), `${name} shared=${sharedEmbedding}`);
    const rows = randomRows(tr, 10, 9);
    t.true(close(model.predictRecords(encodeInstances(rows)).value!, referencePredict(tr, rows).value!));
  }
  await t.throwsAsync(new StandaloneExporter({ spec: tr.spec, exportDirBase: await tempDir(), params: liveParams(tr.dense, tr.tables), sharedEmbedding: true }).exportSavedModel(), { instanceOf: ConfigError, message: /checkpoint/ });
});

test('a dense model that does not match the spec is refused and leaves no directory', async (t) => {
  const tr = trainModel(createModel());
  const other = createModel({ dim: 8 }).buildDense();
  const base = await tempDir();
  await t.throwsAsync(new StandaloneExporter({ spec: tr.spec, exportDirBase: base, params: liveParams(other, tr.tables) }).exportSavedModel(), { instanceOf: ConfigError, message: /width 8, expected 4/ });
  t.deepEqual(await readdir(base).catch(() => []), []);
});
