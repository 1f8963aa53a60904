// Every export the library writes loads in `serve` and `predict`, custom layers
// included: the library's own layers (DeepFM, TestFFMModel use
// lookupEmbeddingSlice → MonolithEmbeddingSlice, …) and a user's layer class
// whose module the export names. Each CLI command runs in a fresh process that
// imports nothing of the model by hand.
import test from 'ava';
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { trainModel } from '../export/fixtures/train.js';
import { createModel as deepfm } from '../../src/model/models/deepfm.js';
import { createModel as deepFwfm } from '../../src/model/models/deep-fwfm.js';
import { createModel as dcnV2 } from '../../src/model/models/dcn-v2.js';
import { createModel as ffm } from '../../src/model/models/test-ffm-model.js';
import { createModel as custom } from './fixtures/custom-layer-model.js';
import type { ModelSpec } from '../../src/model/model-spec.js';
import { saveDenseCheckpoint } from '../../src/export/params-source.js';
import { saveTable } from '../../src/hashtable/checkpoint.js';
import { ckptAssetDir } from '../../src/hashtable/checkpoint-listeners.js';
import { runCtrDemo } from '../../src/demo/ctr-demo.js';
import { ROOT, tempDir } from '../helpers.js';

const run = promisify(execFile);
const CLI = join(ROOT, 'dist', 'src', 'cli', 'main.js');
const cli = (...args: string[]) => run(process.execPath, [CLI, ...args], { env: { ...process.env, MONOLITH_LOG: 'warn' } });

/** A checkpoint of the model, exported through the CLI; returns the export base. */
async function exportViaCli(spec: ModelSpec, modelModule: string, options: object): Promise<string> {
  const tr = trainModel(spec);
  const dir = await tempDir();
  const prefix = join(dir, 'model.ckpt-5');
  await saveDenseCheckpoint(tr.dense, prefix);
  for (const [name, table] of tr.tables) await saveTable(table, join(ckptAssetDir(prefix), name));
  const base = join(dir, 'exports');
  await cli('export', '--model-module', modelModule, '--model-options', JSON.stringify(options), '--model-dir', dir, '--export-base', base, '--global-step-as-timestamp');
  return base;
}

/** `serve` in a child process, `predict-client` against it; returns the parsed outputs. */
async function serveAndQuery(base: string, slots: number[]): Promise<Record<string, { shape: number[]; values: number[] }>> {
  const server = spawn(process.execPath, [CLI, 'serve', '--model-base-path', base, '--port', '0', '--poll-interval-ms', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  server.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
  try {
    let out = '';
    server.stdout.setEncoding('utf8');
    while (!/ on (\S+)\n/.test(out)) {
      const [chunk] = (await Promise.race([once(server.stdout, 'data'), once(server, 'exit').then(() => ['EXIT'])])) as string[];
      if (chunk === 'EXIT') throw new Error(`serve exited: ${out}${err}`);
      out += chunk;
    }
    const addr = / on (\S+)\n/.exec(out)![1]!;
    const res = await cli('predict-client', '--server', addr, '--batch-size', '3', '--slots', slots.join(','));
    return JSON.parse(res.stdout) as Record<string, { shape: number[]; values: number[] }>;
  } finally {
    server.kill('SIGTERM');
    await once(server, 'exit');
  }
}

const cases = [
  { name: 'DeepFM', spec: () => deepfm({ sparseSlots: 3, hidden: [8], denseFeatures: 0 }), module: join(ROOT, 'dist', 'src', 'model', 'models', 'deepfm.js'), options: { sparseSlots: 3, hidden: [8], denseFeatures: 0 } },
  // FieldWeightedFm and CrossLayer (interaction-layers.ts) load by their registered class names.
  { name: 'DeepFwFM', spec: () => deepFwfm({ sparseSlots: 3, hidden: [8], denseFeatures: 0 }), module: join(ROOT, 'dist', 'src', 'model', 'models', 'deep-fwfm.js'), options: { sparseSlots: 3, hidden: [8], denseFeatures: 0 } },
  { name: 'DeepFwFM with one pair vector per id', spec: () => deepFwfm({ sparseSlots: 3, hidden: [8], denseFeatures: 0, fieldAwarePairs: false }), module: join(ROOT, 'dist', 'src', 'model', 'models', 'deep-fwfm.js'), options: { sparseSlots: 3, hidden: [8], denseFeatures: 0, fieldAwarePairs: false } },
  { name: 'DCN-v2', spec: () => dcnV2({ sparseSlots: 3, hidden: [8], denseFeatures: 0 }), module: join(ROOT, 'dist', 'src', 'model', 'models', 'dcn-v2.js'), options: { sparseSlots: 3, hidden: [8], denseFeatures: 0 } },
  { name: 'TestFFMModel', spec: () => ffm({}), module: join(ROOT, 'dist', 'src', 'model', 'models', 'test-ffm-model.js'), options: {} },
];

for (const c of cases) {
  test(`${c.name} (library layers): export → serve → Predict, and predict --saved-model-path, in fresh processes`, async (t) => {
    const spec = c.spec();
    const base = await exportViaCli(spec, c.module, c.options);
    const slots = [...new Set(spec.features.map((f) => f.slot))];
    const outputs = await serveAndQuery(base, slots);
    const head = spec.heads[0]!.name;
    t.deepEqual(outputs[head]!.shape, [3]);
    t.true(outputs[head]!.values.every((v) => Number.isFinite(v)));
    const pred = JSON.parse((await cli('predict', '--saved-model-path', base, '--batch-size', '4')).stdout) as Record<string, { shape: number[] }>;
    t.deepEqual(pred[head]!.shape, [4]);
  });
}

test("a user's layer class: the export names its module, serve and predict import it", async (t) => {
  const module = join(ROOT, 'dist', 'test', 'serving', 'fixtures', 'custom-layer-model.js');
  const base = await exportViaCli(custom(), module, {});
  const versions = (await import('node:fs/promises')).readdir(base);
  const dir = join(base, (await versions)[0]!);
  const manifest = JSON.parse(await readFile(join(dir, 'export.json'), 'utf8')) as { layerModules?: string[] };
  t.deepEqual(manifest.layerModules, [`file://${module}`]);
  const model = JSON.parse(await readFile(join(dir, 'dense', 'model.json'), 'utf8')) as object;
  t.regex(JSON.stringify(model), /"TestUserScale"/);
  const outputs = await serveAndQuery(base, [1, 2, 3]);
  t.deepEqual(outputs.ctr!.shape, [3]);
  const pred = JSON.parse((await cli('predict', '--saved-model-path', base, '--batch-size', '2')).stdout) as Record<string, { shape: number[] }>;
  t.deepEqual(pred.ctr!.shape, [2]);
  // Without the module named, loading says which class is missing (instead of tfjs's "Unknown layer").
  delete manifest.layerModules;
  await writeFile(join(dir, 'export.json'), JSON.stringify(manifest));
  const err = await t.throwsAsync(cli('predict', '--saved-model-path', base));
  t.regex((err as Error & { stderr: string }).stderr, /layer class TestUserScale is not registered/);
});

test("the demo's own export: serve → Predict and predict --saved-model-path in fresh processes", async (t) => {
  const out = await tempDir();
  await runCtrDemo({ workers: 1, maxSteps: 4, durationSec: 600, batchSize: 32, vocabSize: 50, checkpointEverySteps: 100, holdoutRows: 64, deterministic: true, out, say: () => undefined, progressWrite: () => undefined });
  const base = join(out, 'export');
  const slots = Array.from({ length: 26 }, (_, i) => i + 1);
  const outputs = await serveAndQuery(base, slots);
  const [head] = Object.keys(outputs);
  t.deepEqual(outputs[head!]!.shape, [3]);
  t.true(outputs[head!]!.values.every((p) => p > 0 && p < 1));
  const pred = JSON.parse((await cli('predict', '--saved-model-path', base, '--batch-size', '2')).stdout) as Record<string, { shape: number[] }>;
  t.deepEqual(pred[head!]!.shape, [2]);
});
