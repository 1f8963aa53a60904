import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { tensorflow } from '../src/proto.js';
import { readAllTFRecords } from '../src/io/tfrecord.js';
import { ROOT, tempDir } from './helpers.js';

const CLI = join(ROOT, 'dist', 'src', 'cli', 'main.js');
const exec = promisify(execFile);

async function run(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [CLI, ...args], { env: { ...process.env, MONOLITH_LOG: 'warn' } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

test('datagen → warmup gen (file mode) → warmup decode', async (t) => {
  const dir = await tempDir();
  const data = join(dir, 'data.pb');
  const out = join(dir, 'warmup');
  let r = await run('datagen', '-o', data, '--batch-size', '10', '--num-batch', '4', '--fidv1-features', '1,2,200', '--seed', '1');
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /wrote 40 instance records/);
  r = await run('warmup', 'gen', '--file-name', data, '--batch-size', '10', '--max-records', '40', '--signature-names', 'a,b', '--output-path', out);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /wrote 4 warmup requests/);
  const logs = (await readAllTFRecords(out)).map((b) => tensorflow.serving.PredictionLog.decode(b));
  t.deepEqual(logs.map((l) => l.predictLog!.request!.modelSpec!.signatureName), ['a', 'b', 'serving_default', 'a']);
  r = await run('warmup', 'decode', out);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /^request 1 \(predict_log\):\nmodel_spec \{\n  name: "default"\n  signature_name: "a"/);
  t.is(r.stdout.match(/string_val: \.\.\.\n/g)!.length, 40);
  t.notRegex(r.stdout, /string_val: "/);
});

test('warmup gen in random mode with dense int64 features', async (t) => {
  const dir = await tempDir();
  const out = join(dir, 'w');
  const r = await run('warmup', 'gen', '--gen-type', 'random', '--variant-type', 'example', '--sparse-features', 'user_id,slot_4', '--dense-features', 'price,ctr', '--dense-feature-shapes', '1,2', '--dense-feature-types', 'int64,float', '--batch-size', '8', '--max-records', '32', '--seed', '3', '--output-path', out);
  t.is(r.code, 0, r.stderr);
  t.is((await readAllTFRecords(out)).length, 4);
});

test('warmup from-example-batch wraps PredictRequest files; a bad file fails with one line naming it', async (t) => {
  const dir = await tempDir();
  const folder = join(dir, 'requests');
  await mkdir(folder);
  for (const n of ['r1', 'r2']) {
    const bytes = tensorflow.serving.PredictRequest.encode({ modelSpec: { name: 'x' }, inputs: { example_batch: { dtype: tensorflow.DataType.DT_STRING, stringVal: [Buffer.from(n)] } } }).finish();
    await writeFile(join(folder, n), bytes);
  }
  const out = join(dir, 'w');
  let r = await run('warmup', 'from-example-batch', '--input-folder', folder, '--output-path', out);
  t.is(r.code, 0, r.stderr);
  const logs = (await readAllTFRecords(out)).map((b) => tensorflow.serving.PredictionLog.decode(b).predictLog!.request!);
  t.deepEqual(logs.map((q) => [q.modelSpec!.name, q.modelSpec!.signatureName, String(q.inputs!.example_batch!.stringVal![0])]), [
    ['default', 'serving_default', 'r1'],
    ['default', 'serving_default', 'r2'],
  ]);
  await writeFile(join(folder, 'r3'), Buffer.from([0x0a, 0xff]));
  const out2 = join(dir, 'w2');
  r = await run('warmup', 'from-example-batch', '--input-folder', folder, '--output-path', out2);
  t.is(r.code, 1);
  t.is(r.stderr.trim().split('\n').length, 1);
  t.regex(r.stderr, /FormatError: .*r3: not a serialized PredictRequest/);
  t.false((await readdir(dir)).includes('w2'), 'no partial output file');
});

test('errors are one clear line and a non-zero exit', async (t) => {
  let r = await run('warmup', 'decode', '/nonexistent/file');
  t.is(r.code, 1);
  t.regex(r.stderr, /^monolith-ts: error: .*nonexistent/);
  r = await run('warmup', 'gen', '--gen-type', 'random', '--dense-features', 'a', '--dense-feature-shapes', '1', '--dense-feature-types', 'complex', '--output-path', '/tmp/x');
  t.not(r.code, 0);
  t.regex(r.stderr, /unknown dtype "complex"/);
});
