// A one-byte change in an export's dense/model.json (a layer reference renamed)
// sends tfjs fromConfig into an endless loop. It must be refused, not hang: by
// the model.json check, and if that were passed, by the worker trial load's timeout;
// dropped in as a newer version, it is logged once and the old version keeps serving.
import test from 'ava';
import { cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createModel } from '../export/fixtures/tiny-model.js';
import { encodeInstances, randomRows, trainModel } from '../export/fixtures/train.js';
import { FormatError, liveParams, loadExport, PredictionClient, PredictionServer, StandaloneExporter, stringTensor, trialLoad } from 'monolith-ts';
import { tempDir } from '../helpers.js';

const tr = trainModel(createModel());
const base = await tempDir();
await new StandaloneExporter({ spec: tr.spec, exportDirBase: base, params: liveParams(tr.dense, tr.tables), clock: () => 100 }).exportSavedModel();

/** Copies version 100 to `version` with one byte of its model.json changed: ctr's input becomes a layer that does not exist. */
async function corruptCopy(version: string): Promise<string> {
  const dir = join(base, version);
  await cp(join(base, '100'), dir, { recursive: true });
  const m = JSON.parse(await readFile(join(dir, 'export.json'), 'utf8')) as { version: string };
  m.version = version;
  await writeFile(join(dir, 'export.json'), JSON.stringify(m));
  const file = join(dir, 'dense', 'model.json');
  const text = await readFile(file, 'utf8');
  const at = text.indexOf('["dense_Dense1",0');
  if (at < 0) throw new Error('fixture model.json changed shape');
  await writeFile(file, `${text.slice(0, at)}["dense_Dense2"${text.slice(at + '["dense_Dense1"'.length)}`);
  return dir;
}

test.serial('the model.json check refuses a dangling layer reference, naming the field', async (t) => {
  const dir = await corruptCopy('150');
  const err = await t.throwsAsync(loadExport(dir), { instanceOf: FormatError });
  t.regex(err!.message, /inbound_nodes.*references layer "dense_Dense2", which the model does not have/);
});

test.serial('the worker trial load stops a model tfjs cannot finish building, without blocking this thread', async (t) => {
  const dir = join(base, '150');
  let ticks = 0;
  const ticker = setInterval(() => ticks++, 5);
  const err = await t.throwsAsync(trialLoad(join(dir, 'dense'), [], 2000), { instanceOf: FormatError });
  clearInterval(ticker);
  t.regex(err!.message, /did not finish building the model within 2000 ms/);
  t.true(ticks > 0, 'this thread kept running while the worker was stuck');
  await t.notThrowsAsync(trialLoad(join(base, '100', 'dense'), [], 60000));
});

test.serial('a corrupt newer version is logged once and skipped; the old version keeps serving', async (t) => {
  const server = await PredictionServer.start({ modelBasePath: base, pollIntervalMs: 0, warmup: false });
  const client = new PredictionClient(server.address);
  t.teardown(async () => {
    client.close();
    await server.stop();
  });
  t.is(server.current.version, '100', 'version 150 (corrupt) was skipped at start too');
  await corruptCopy('200');
  t.false(await server.poll());
  t.false(await server.poll());
  t.deepEqual(server.versions.refused, ['150', '200']);
  const res = await client.predict({ modelSpec: { name: 'default' }, inputs: { instances: stringTensor(encodeInstances(randomRows(tr, 2))) } }, { timeoutMs: 10000 });
  t.is(Number(res.modelSpec!.version!.value), 100);
});
