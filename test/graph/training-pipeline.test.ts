import test from 'ava';
import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { lastValueFrom, tap, toArray } from 'rxjs';
import type { Batch, SourceBatch } from '../../src/batch/batch.js';
import { CheckpointSaver, readIndex } from '../../src/graph/checkpoint-saver.js';
import { timedParse } from '../../src/graph/parse-timing.js';
import { PipelineError } from '../../src/graph/pipeline-error.js';
import { train, TrainingPipeline } from '../../src/graph/training-pipeline.js';
import { Rng } from '../../src/util/random.js';
import { initBackend } from '../../src/workers/tf-backend.js';
import { createModelTables } from '../../src/workers/model-tables.js';
import { createSharedDenseParams } from '../../src/workers/train-step.js';
import { WorkerCrashError } from '../../src/workers/worker-errors.js';
import { tempDir } from '../helpers.js';
import { createModel, type TinyModelOptions } from '../workers/fixtures/tiny-model.js';
import { tinyBatch } from '../workers/fixtures/tiny-batches.js';

const MODEL_URL = new URL('../workers/fixtures/tiny-model.js', import.meta.url).href;
const model = (options: TinyModelOptions = { seed: 1 }) => ({ url: MODEL_URL, options: options as Record<string, unknown> });

test.before(async () => {
  await initBackend('cpu');
});

function batches(seed: number, n: number, rows = 16): Batch[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => tinyBatch(rng, rows));
}

/** Fresh tables + dense params of the tiny model with the checkpoint in `dir` restored. */
async function restored(dir: string, options: TinyModelOptions = { seed: 1 }) {
  const spec = createModel(options);
  const tables = createModelTables(spec);
  const dense = createSharedDenseParams(spec);
  const step = await new CheckpointSaver({ dir, tables, dense }).restore();
  return { tables, dense, step };
}

test('train() with two workers: every batch acked after its step, checkpoints every 4 steps, the last one restores to the final state', async (t) => {
  const dir = await tempDir();
  const acked: number[] = [];
  const source: SourceBatch[] = batches(1, 10).map((batch, i) => ({ batch, ack: () => acked.push(i) }));
  const p = await TrainingPipeline.create({ model: model(), source, workers: 2, checkpoint: { dir, everySteps: 4 } });
  t.regex(p.describe(), /source \[source\][\s\S]*train \[step\] 2 worker\(s\), at most 4 in flight[\s\S]*checkpoint \[checkpoint\] every 4 steps/);
  const results = await lastValueFrom(p.run().pipe(toArray()));
  await p.close();
  t.is(results.length, 10);
  t.deepEqual([...acked].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  t.is(p.dense.globalStep, 10);
  t.true(results.every((r) => r.loss! > 0 && r.predictions!.ctr!.length === 16));
  const idx = await readIndex(dir);
  t.is(idx!.latest, 10, 'final save at completion');
  // the periodic save comes due at step >= 4 and waits for the steps in flight, so it holds a step in 4..9
  t.true(idx!.all.some((s) => s >= 4 && s < 10), `periodic saves ${idx!.all}`);
  const back = await restored(dir);
  t.is(back.step, 10);
  t.deepEqual(Array.from(back.dense.flatState), Array.from(p.dense.flatState));
  t.is(back.tables.even!.size, p.tables.even!.size);
  t.is(back.tables.odd!.size, p.tables.odd!.size);
  const ids = [1n << 48n, (1n << 48n) | 3n, (2n << 48n) | 7n];
  t.deepEqual(Array.from(back.tables.even!.lookupOnly(ids)), Array.from(p.tables.even!.lookupOnly(ids)));
});

test('resume: 6 steps, checkpoint, 6 more from the checkpoint = 12 steps in one run (deterministic)', async (t) => {
  const all = batches(2, 12);
  const dirA = await tempDir();
  const first = await train({ model: model(), source: all.slice(0, 6), workers: 0, deterministic: true, checkpoint: { dir: dirA, everySteps: 100 } });
  t.is(first.globalStep, 6);
  const losses: number[] = [];
  const p = await TrainingPipeline.create({ model: model(), source: all.slice(6), workers: 0, deterministic: true, checkpoint: { dir: dirA, everySteps: 100 } });
  t.is(p.restoredStep, 6);
  await lastValueFrom(p.run().pipe(tap((r) => losses.push(r.loss!))), { defaultValue: undefined });
  await p.close();

  const once: number[] = [];
  const q = await TrainingPipeline.create({ model: model(), source: all, workers: 0, deterministic: true });
  await lastValueFrom(q.run().pipe(tap((r) => once.push(r.loss!))));
  await q.close();
  t.is(p.dense.globalStep, 12);
  t.deepEqual(losses, once.slice(6));
  t.deepEqual(Array.from(p.dense.flatState), Array.from(q.dense.flatState));
});

test('a parse node is timed and its errors name it', async (t) => {
  const raw = batches(3, 3).map((b) => JSON.stringify({ rows: b.rows }));
  const src = batches(3, 3);
  let i = 0;
  const results = await lastValueFrom(
    (await TrainingPipeline.create({ model: model(), source: raw, workers: 0, before: [{ name: 'parse', op: timedParse(() => src[i++]!), kind: 'parse' }] })).run().pipe(toArray()),
  );
  t.true(results.every((r) => typeof r.timings!.parse === 'number' && r.timings!.lookup! >= 0));
  const bad = await TrainingPipeline.create({ model: model(), source: ['x'], workers: 0, before: [{ name: 'parse-instances', op: timedParse(() => { throw new Error('truncated record'); }), kind: 'parse' }] });
  const err = await t.throwsAsync(lastValueFrom(bad.run()));
  t.is((err as PipelineError).node, 'parse-instances');
});

test('a worker killed mid-run fails the pipeline with an error naming the step node and the thread, without hanging', async (t) => {
  function* endless() {
    const rng = new Rng(5);
    for (;;) yield tinyBatch(rng, 8);
  }
  const p = await TrainingPipeline.create({ model: model({ seed: 1, busyMs: 150 }), source: endless, workers: 2 });
  let killed: number | undefined;
  const err = await t.throwsAsync(
    lastValueFrom(
      p.run().pipe(
        tap(() => {
          if (killed === undefined) {
            const w = p.pool!.threads[0]!;
            killed = w.threadId;
            void w.terminate();
          }
        }),
      ),
    ),
  );
  await p.close();
  t.true(err instanceof PipelineError);
  t.is((err as PipelineError).node, 'train');
  t.true((err as PipelineError).original instanceof WorkerCrashError);
  t.regex(err!.message, new RegExp(`pipeline node 'train': WorkerCrashError: worker thread ${killed} died during a train step`));
});

test('SIGTERM during training (child process): the exit hook emits its counter and exits with 15; the checkpoint the index names loads whole', async (t) => {
  const dir = await tempDir();
  const script = fileURLToPath(new URL('./fixtures/sigterm-train.js', import.meta.url));
  const child = spawn(process.execPath, [script, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      // Kill right after a step that makes the next checkpoint due: the save is probably running.
      if ((out.match(/saved /g) ?? []).length >= 3 && /step \d+\n$/.test(out)) {
        child.kill('SIGTERM');
        resolve();
      }
    });
    child.once('exit', (code) => reject(new Error(`child exited early with ${code}: ${out}`)));
  });
  t.is(await exited, 15, 'exit hook: sys.exit(signo)');
  t.regex(out, /metric counter exit_hook 1 \{"server_type":"[a-z]*","index":"\d+","sig":"15"\}/);
  const idx = await readIndex(dir);
  t.truthy(idx);
  t.true(idx!.latest >= 6, `latest ${idx!.latest}`);
  const back = await restored(dir);
  t.is(back.step, idx!.latest);
  t.true(back.tables.even!.size > 0 && back.tables.odd!.size > 0);
  t.is(back.dense.globalStep, idx!.latest);
  // Whatever was being written when the signal came is at most a temp file, never a named one.
  const names = await readdir(dir);
  t.true(names.includes('checkpoint'));
});

test('a source marking passes: with 2 workers, 4 steps in flight and a checkpoint after every step, each step applies its own pass as the regularization scale', async (t) => {
  const data = batches(8, 12);
  const source = async function* () {
    for (const pass of [1, 2]) for (const batch of data) yield { batch, pass } as SourceBatch;
  };
  const scales: number[] = [];
  const dir = await tempDir();
  const s = await train({ model: model({ seed: 1, sparseWeightDecay: 0.1 }), source, workers: 2, maxInFlight: 4, reportSparse: true, checkpoint: { dir, everySteps: 1 }, hooks: [{ name: 'scales', op: tap((r) => scales.push(r.sparseUpdates![0]!.regularizationScale)) }] });
  t.is(s.steps, 24);
  t.is(scales.filter((x) => x === 1).length, 12);
  t.is(scales.filter((x) => x === 2).length, 12);
  // Unmarked items train with scale 1, whatever came before; a bad pass fails the pipeline, naming it.
  const after: number[] = [];
  await train({ model: model({ seed: 1, sparseWeightDecay: 0.1 }), source: data.slice(0, 3), workers: 0, reportSparse: true, hooks: [{ name: 'scales', op: tap((r) => after.push(r.sparseUpdates![0]!.regularizationScale)) }] });
  t.deepEqual(after, [1, 1, 1]);
  const bad = await t.throwsAsync(train({ model: model(), source: [{ batch: data[0]!, pass: 0 }], workers: 0 }));
  t.regex(String(bad?.cause ?? bad), /a source item's pass must be an integer >= 1, got 0/);
});
