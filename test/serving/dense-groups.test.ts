// A model trained with `--dense-group dense=dense_0..dense_12`, served: clients send the raw
// Instances (13 named dense features), serve assembles them into `dense` as training did.
import test from 'ava';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cli } from '../cli/cli-run.js';
import { plantedInstances, writePlantedRecords } from '../cli/planted-records.js';
import { startServe } from '../helpers/serve-process.js';
import { ROOT, tempDir } from '../helpers.js';
import { parser } from '../../src/proto.js';
import { FormatError } from '../../src/errors.js';
import { readManifest } from '../../src/export/export-manifest.js';

/** The Instance without its named features (so without dense_0..dense_12). */
const withoutNamedFeatures = (bytes: Uint8Array) => parser.proto.Instance.encode({ ...parser.proto.Instance.decode(bytes), feature: [] }).finish();

test('serve assembles a dense group from named dense features: REST predictions equal predict --data on the same rows', async (t) => {
  t.timeout(5 * 60_000);
  const dir = await tempDir();
  const train = join(dir, 'train.pb');
  const rows = join(dir, 'rows.pb');
  await writePlantedRecords(train, 300, 'plain', 1);
  await writePlantedRecords(rows, 6, 'plain', 2);
  const modelDir = join(dir, 'model');
  let r = await cli('train', '--model-module', 'monolith-ts/models/deepfm', '--model-options', '{"hidden":[16],"embeddingDim":4,"seed":3}', '--model-dir', modelDir, '--data', train, '--layout', 'plain', '--slots', '1..26', '--dense-group', 'dense=dense_0..dense_12', '--workers', '0', '--batch-size', '100');
  t.is(r.code, 0, r.stderr);
  r = await cli('export', '--model-dir', modelDir, '--export-base', join(dir, 'export'));
  t.is(r.code, 0, r.stderr);
  const exportDir = r.stdout.trim().split(': ')[1]!;
  const manifest = JSON.parse(await readFile(join(exportDir, 'export.json'), 'utf8')) as { denseGroups: { name: string; members: { name: string; width: number }[] }[] };
  t.deepEqual(manifest.denseGroups, [{ name: 'dense', members: Array.from({ length: 13 }, (_, j) => ({ name: `dense_${j}`, width: 1 })) }]);

  r = await cli('predict', '--data', rows, '--model-dir', modelDir, '--workers', '0', '--output', join(dir, 'p.tsv'));
  t.is(r.code, 0, r.stderr);
  const expected = (await readFile(join(dir, 'p.tsv'), 'utf8')).trim().split('\n').slice(1).map((l) => Number(l.split('\t')[2]));

  const server = await startServe(join(ROOT, 'dist', 'src', 'cli', 'main.js'), dir, ['--model-base-path', join(dir, 'export'), '--poll-interval-ms', '0']);
  t.teardown(() => server.stop());
  const instances = plantedInstances(6, 2).payloads.map((p) => ({ b64: Buffer.from(p).toString('base64') }));
  const res = await fetch(`${server.rest}/v1/models/default:predict`, { method: 'POST', body: JSON.stringify({ instances }), headers: { 'content-type': 'application/json' } });
  t.is(res.status, 200);
  // One output: each prediction is its value (TF Serving's row format).
  const { predictions } = (await res.json()) as { predictions: number[] };
  t.is(predictions.length, 6);
  predictions.forEach((p, i) => t.true(Math.abs(p - expected[i]!) < 1e-5, `row ${i}: served ${p}, predict --data ${expected[i]}`));
  // The dense features matter to this model: without them (zeros) the scores differ.
  const { predictions: zeroDense } = (await (
    await fetch(`${server.rest}/v1/models/default:predict`, {
      method: 'POST',
      body: JSON.stringify({ instances: plantedInstances(6, 2).payloads.map((p) => ({ b64: Buffer.from(withoutNamedFeatures(p)).toString('base64') })) }),
      headers: { 'content-type': 'application/json' },
    })
  ).json()) as { predictions: number[] };
  t.true(zeroDense.some((p, i) => Math.abs(p - expected[i]!) > 1e-4), 'dense features change the scores');
});

test('an export manifest whose dense groups do not fit its dense inputs is a FormatError naming the field', async (t) => {
  const dir = await tempDir();
  const base = { format: 'monolith-ts-export', formatVersion: 1, features: [], denseInputs: [{ name: 'dense', width: 3 }], heads: [], tables: [] };
  const cases: [unknown, RegExp][] = [
    [[{ name: 'nope', members: [{ name: 'a', width: 3 }] }], /denseGroups\[0\] names no dense input/],
    [[{ name: 'dense', members: [{ name: 'a', width: 1 }, { name: 'b', width: 1 }] }], /denseGroups\[0\]: members are 2 values wide, the dense input "dense" takes 3/],
    [[{ name: 'dense', members: [{ name: 'a', width: -3 }] }], /denseGroups\[0\]\.members must be a non-empty list of \{name, width\}/],
  ];
  for (const [denseGroups, message] of cases) {
    await writeFile(join(dir, 'export.json'), JSON.stringify({ ...base, denseGroups }));
    const err = await t.throwsAsync(readManifest(dir), { instanceOf: FormatError });
    t.regex(err!.message, message);
  }
});
