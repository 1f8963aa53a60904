import test from 'ava';
import { spawn } from 'node:child_process';
import { readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { compileInConsumer, consumerProject, consumerWorkspace, runNode } from '../helpers/consumer-project.js';

// A user's journey, from the packed tarball installed in a fresh project (no node-rdkafka):
// their own model module importing 'monolith-ts' → training with 2 worker threads → `monolith-ts export`
// → `monolith-ts serve` → Predict over gRPC with `monolith-ts predict-client`.
//
// TODO(lead): once the CLI has `train` and `eval` (another branch), replace train.ts below with
//   monolith-ts train --model-module out/my-model.js --data <record files from `monolith-ts datagen`> --workers 2 --model-dir ckpt
// and add `monolith-ts eval …` on held-out records between training and export.

const MODEL = `import { DeepFMModel, type DeepFmOptions, type ModelSpec } from 'monolith-ts';

export function createModel(options: Record<string, unknown> = {}): ModelSpec {
  return new DeepFMModel({ sparseSlots: 4, hidden: [16], ...(options as DeepFmOptions) }).toModelSpec();
}
`;

const TRAIN = `import { train, syntheticCtrSource } from 'monolith-ts';

const summary = await train({
  model: { url: new URL('./my-model.js', import.meta.url).href },
  source: syntheticCtrSource({ seed: 3, sparseSlots: 4, vocabSize: 50, batchSize: 64, batches: 20 }),
  workers: 2,
  checkpoint: { dir: 'ckpt', everySteps: 10 },
});
console.log(JSON.stringify(summary));
`;

test('user journey: own model module → train with 2 workers → export → serve → Predict over gRPC', async (t) => {
  t.timeout(8 * 60_000);
  const project = await consumerProject();
  const ws = await consumerWorkspace(project, 'journey-');
  await writeFile(join(ws, 'my-model.ts'), MODEL);
  await writeFile(join(ws, 'train.ts'), TRAIN);
  await compileInConsumer(project, ws);
  const cli = join(project.dir, 'node_modules', 'monolith-ts', 'dist', 'src', 'cli', 'main.js');
  t.true((await readdir(join(project.dir, 'node_modules', '.bin'))).includes('monolith-ts'), 'the monolith-ts command is installed');

  const trained = await runNode(join(ws, 'out', 'train.js'), ws);
  t.is(trained.code, 0, trained.stderr);
  t.is((JSON.parse(trained.stdout.trim().split('\n').at(-1)!) as { steps: number }).steps, 20);

  const exported = await runNode(cli, ws, 120_000, {}, ['export', '--model-module', join(ws, 'out', 'my-model.js'), '--model-dir', 'ckpt', '--export-base', 'exp']);
  t.is(exported.code, 0, exported.stderr);
  t.is((await readdir(join(ws, 'exp'))).length, 1);

  const server = spawn(process.execPath, [cli, 'serve', '--model-base-path', 'exp', '--port', '0', '--poll-interval-ms', '0'], { cwd: ws, stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => void server.kill());
  let stderr = '';
  server.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const address = await new Promise<string>((resolve, reject) => {
    let out = '';
    server.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /serving \S+ version \S+ on (\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    server.on('exit', (code) => reject(new Error(`serve exited with ${code}: ${stderr}`)));
  });
  const predicted = await runNode(cli, ws, 60_000, {}, ['predict-client', '--server', address, '--batch-size', '4', '--slots', '1,2,3,4']);
  t.is(predicted.code, 0, predicted.stderr);
  const outputs = JSON.parse(predicted.stdout.trim().split('\n').at(-1)!) as Record<string, { shape: number[]; values: number[] }>;
  const answers = Object.values(outputs);
  t.true(answers.length > 0, predicted.stdout);
  t.true(answers.some((o) => o.shape[0] === 4 && o.values.length >= 4 && o.values.every(Number.isFinite)), predicted.stdout);
  await rm(ws, { recursive: true, force: true });
});
