/**
 * End-to-end training pipeline throughput (examples/s) with 1 and 2 workers,
 * time split per stage, against the dense compute alone measured in the same
 * run (forward + backward of the same MLP on the same batch size, this thread,
 * same backend), so the pipeline's overhead is a ratio.
 *
 *   node dist/bench/pipeline.js [--batches 60] [--rows 256] [--out bench/RESULTS-pipeline.md]
 */
import { writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { lastValueFrom, tap } from 'rxjs';
import type { Batch } from '../src/batch/batch.js';
import type { StepResult } from '../src/graph/step-result.js';
import { TrainingPipeline } from '../src/graph/training-pipeline.js';
import { Rng } from '../src/util/random.js';
import { initBackend, type BackendName } from '../src/workers/tf-backend.js';
import { createModel } from './pipeline-model.js';

const arg = (name: string, def: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : def;
};
const BATCHES = Number(arg('batches', '60'));
const WARM = 8;
const ROWS = Number(arg('rows', '256'));
const OUT = arg('out', '');
const BACKEND = arg('backend', 'wasm') as BackendName;
const MODEL_URL = new URL('./pipeline-model.js', import.meta.url).href;

function makeBatch(rng: Rng, rows: number): Batch {
  const sparse = Array.from({ length: 8 }, (_, f) => {
    const splits = new Int32Array(rows + 1);
    const ids: number[] = [];
    for (let r = 0; r < rows; r++) {
      const n = 1 + rng.int(0, 3);
      // Zipf-like skew: small ids much more frequent.
      for (let k = 0; k < n; k++) ids.push(Math.floor(Math.exp(rng.float() * Math.log(1e6))));
      splits[r + 1] = ids.length;
    }
    const fids = new Uint32Array(ids.length * 2);
    ids.forEach((id, i) => {
      fids[2 * i] = id;
      fids[2 * i + 1] = (f + 1) << 16;
    });
    return { name: `s${f + 1}`, slot: f + 1, fids, rowSplits: splits };
  });
  return {
    rows,
    sparse,
    dense: [{ name: 'dense', width: 13, values: Float32Array.from({ length: rows * 13 }, () => rng.uniform(-1, 1)) }],
    labels: Float32Array.from({ length: rows }, () => (rng.float() < 0.2 ? 1 : 0)),
    labelWidth: 1,
    lineId: [],
  };
}

async function denseAlone(): Promise<number> {
  const spec = createModel();
  const model = spec.buildDense();
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const inputs = [...spec.features.map(() => tf.variable(tf.randomNormal([ROWS, 16]))), tf.randomNormal([ROWS, 13])];
  const labels = tf.tensor2d(Float32Array.from({ length: ROWS }, (_, i) => i % 5 === 0 ? 1 : 0), [ROWS, 1]);
  const once = () => {
    const { value, grads } = tf.variableGrads(() => tf.losses.sigmoidCrossEntropy(labels, model.apply(inputs, { training: true }) as tf.Tensor) as tf.Scalar, [...vars, ...(inputs.slice(0, -1) as tf.Variable[])]);
    for (const g of Object.values(grads)) g.dataSync();
    tf.dispose([value, ...Object.values(grads)]);
  };
  for (let i = 0; i < WARM; i++) once();
  const t0 = performance.now();
  for (let i = 0; i < BATCHES; i++) once();
  return (BATCHES * ROWS) / ((performance.now() - t0) / 1000);
}

interface PipelineFigures {
  rate: number;
  parse: number;
  lookup: number;
  dense: number;
  apply: number;
}

async function pipeline(workers: number, source: Batch[]): Promise<PipelineFigures> {
  const p = await TrainingPipeline.create({ model: { url: MODEL_URL, options: {} }, source, workers, backend: BACKEND });
  const results: StepResult[] = [];
  let tWarm = 0;
  await lastValueFrom(
    p.run().pipe(
      tap((r) => {
        results.push(r);
        if (results.length === WARM) tWarm = performance.now();
      }),
    ),
  );
  const secs = (performance.now() - tWarm) / 1000;
  await p.close();
  const timed = results.slice(WARM);
  const mean = (k: 'parse' | 'lookup' | 'dense' | 'apply') => timed.reduce((a, r) => a + (r.timings?.[k] ?? 0), 0) / timed.length;
  return { rate: (timed.length * ROWS) / secs, parse: mean('parse'), lookup: mean('lookup'), dense: mean('dense'), apply: mean('apply') };
}

const backend = await initBackend(BACKEND);
const rng = new Rng(7);
const source = Array.from({ length: WARM + BATCHES }, () => makeBatch(rng, ROWS));
const t0 = Date.now();
const alone = await denseAlone();
const one = await pipeline(1, source);
const two = await pipeline(2, source);
const f = (x: number, d = 0) => x.toFixed(d);
const row = (name: string, p: PipelineFigures) => `| ${name} | ${f(p.rate)} | ${f(p.rate / alone, 2)} | ${f(p.lookup, 1)} | ${f(p.dense, 1)} | ${f(p.apply, 1)} |`;
const md = `# Pipeline benchmark (bench/pipeline.ts)

Command: \`node dist/bench/pipeline.js --batches ${BATCHES} --rows ${ROWS}\` — ${new Date().toISOString()}, ${((Date.now() - t0) / 1000).toFixed(0)} s, tfjs backend ${backend} (main thread and workers).
Model: 8 sparse slots (dim 16, reduce_sum, one Adagrad hash table with 8 shards, skewed ids over 1e6) + 13 dense features → MLP 256-128-1, Adagrad;
batches of ${ROWS} rows, ${BATCHES} timed batches after ${WARM} warm-up batches (worker start-up, wasm load and table growth excluded).
"Dense alone" is forward + backward of the same MLP on the same batch size in one thread, same backend, no tables, no pipeline.
Stage times are per step inside the worker (ms, mean): lookup = hash-table lookup-or-insert + pooling; dense = weight read + forward/backward;
apply = gradient scatter + table Adagrad + dense Adagrad. Batches come pre-built from memory (no parser in this run: parse time is not measured here;
the main thread lays each batch out in a SharedArrayBuffer).

| run | examples/s | x dense alone | lookup ms | dense ms | apply ms |
| --- | --- | --- | --- | --- | --- |
| dense alone (1 thread) | ${f(alone)} | 1.00 | | | |
${row('pipeline, 1 worker', one)}
${row('pipeline, 2 workers', two)}

2 workers / 1 worker: **${f(two.rate / one.rate, 2)}x** (target 1.7x). Pipeline with 1 worker / dense alone: **${f(one.rate / alone, 2)}x** (target 0.7x).
`;
process.stdout.write(md);
if (OUT) writeFileSync(OUT, md);
