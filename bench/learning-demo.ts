/**
 * Learning quality on the planted stream: DeepFM trained through the real
 * pipeline (worker pool, shared hash tables) for a budget of examples, its
 * held-out AUC measured every few steps on rows drawn with a separate seed,
 * next to the planted model's AUC on the same rows (the best any learner can
 * reach). Then Monolith's comparison: the same run with the hash trick
 * (a fixed table of B rows per slot where ids collide) at the same memory as
 * the collisionless tables ended up with (and optionally smaller fractions).
 *
 *   node dist/bench/learning-demo.js [--quick] [--examples N] [--workers 2] [--out bench/RESULTS-learning.md]
 *                                       [--plot bench/plots/auc-over-time.svg] [--fractions 1,0.25]
 */
import { writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Batch } from '../src/batch/batch.js';
import { TrainingPipeline } from '../src/graph/training-pipeline.js';
import { lastValueFrom, tap } from 'rxjs';
import { CollisionCounter, expectedCollisionRate, HashTrick } from '../src/hashtable/hash-trick.js';
import type { DeepFmOptions } from '../src/model/models/deepfm.js';
import { aucOf, SyntheticCtr, type CtrRow, type SyntheticCtrOptions } from '../src/streams/sources/synthetic-ctr.js';
import { Rng } from '../src/util/random.js';
import type { BackendName } from '../src/workers/tf-backend.js';
import { TrainStep } from '../src/workers/train-step.js';
import { writeLinePlot } from './plot.js';

export interface LearningBenchOptions {
  /** Training examples per run. */
  examples?: number;
  batchSize?: number;
  workers?: number;
  backend?: BackendName;
  /** Held-out rows (drawn with `heldOutSeed` from the same planted model). */
  evalRows?: number;
  /** Held-out AUC every this many steps. */
  evalEverySteps?: number;
  /** Hash-trick runs, as fractions of the collisionless run's entries (1 = same memory). */
  fractions?: number[];
  /** The main stream (collisionless vs hash trick). */
  stream?: SyntheticCtrOptions;
  /** A second collisionless run on this stream (the main one with its planted pair interactions back); null for none. */
  pairStream?: SyntheticCtrOptions | null;
  heldOutSeed?: number;
  model?: DeepFmOptions;
  /** SVG of AUC over time (none when empty). */
  plot?: string;
  log?: (line: string) => void;
}

/** Budget and model settings tuned to get close to the planted AUC in a few minutes on 2 cores. */
export const FULL: Required<Omit<LearningBenchOptions, 'plot' | 'log' | 'backend' | 'pairStream'>> & { pairStream: SyntheticCtrOptions | null } = {
  examples: 400_000,
  batchSize: 512,
  workers: 2,
  evalRows: 20_000,
  evalEverySteps: 50,
  fractions: [1, 0.25],
  // In the model's family: first-order id weights + dense weights (DeepFM can represent the planted model exactly).
  stream: { seed: 1, vocabSize: 100, interactions: 0 },
  // The stream's default planted model: 2 pairwise slot interactions with hashed (random) pair weights.
  pairStream: { seed: 1, vocabSize: 100, interactions: 2 },
  heldOutSeed: 777,
  model: {
    embeddingDim: 8,
    hidden: [64, 32],
    vecOptimizer: { adagrad: { learningRate: 0.05, initialAccumulatorValue: 1e-4 } },
    biasOptimizer: { ftrl: { learningRate: 0.1, initialAccumulatorValue: 1e-6, beta: 0 } },
    denseOptimizer: { name: 'adam', learningRate: 0.002 },
  },
};

export const QUICK: typeof FULL = { ...FULL, examples: 200_000, evalRows: 10_000, evalEverySteps: 40, fractions: [1] };

export interface CurvePoint {
  examples: number;
  seconds: number;
  auc: number;
}

export interface RunFigures {
  name: string;
  curve: CurvePoint[];
  auc: number;
  logLoss: number;
  /** Entries held by the tables at the end (all slots). */
  entries: number;
  /** Shared bytes of the tables at the end. */
  bytes: number;
  examplesPerSec: number;
  trainSeconds: number;
  buckets?: number;
  collision?: { distinct: number; colliding: number; rate: number; expectedUniform: number; usedBuckets: number };
}

export interface LearningBenchResult {
  /** The planted model on the held-out rows; `firstOrderAuc`: the same without its pairwise interaction terms. */
  planted: { auc: number; logLoss: number; ctr: number; firstOrderAuc: number };
  collisionless: RunFigures;
  hashed: RunFigures[];
  /** The collisionless run on `pairStream`, with that stream's planted figures. */
  pairs?: { planted: LearningBenchResult['planted']; run: RunFigures };
  markdown: string;
  options: LearningBenchOptions;
  wallSeconds: number;
}

const DEEPFM_URL = new URL('../src/model/models/deepfm.js', import.meta.url).href;

function logLossOf(p: ArrayLike<number>, labels: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < p.length; i++) {
    const q = Math.min(1 - 1e-7, Math.max(1e-7, p[i]!));
    s -= labels[i]! > 0.5 ? Math.log(q) : Math.log(1 - q);
  }
  return s / p.length;
}

interface HeldOut {
  batches: Batch[];
  labels: Float32Array;
}

function heldOutSet(stream: SyntheticCtrOptions, rows: number, seed: number): { set: HeldOut; planted: LearningBenchResult['planted'] } {
  const gen = new SyntheticCtr(stream); // same planted weights as the training stream; rows from `seed`
  const rng = new Rng(seed);
  const data: CtrRow[] = Array.from({ length: rows }, () => gen.sampleRow(rng));
  const labels = Float32Array.from(data, (r) => r.label);
  const p = Float64Array.from(data, (r) => gen.plantedProbability(r));
  const noPairs = new SyntheticCtr({ ...stream, interactions: 0 }); // same weights, pair terms dropped
  const p1 = Float64Array.from(data, (r) => noPairs.plantedProbability(r));
  const batches: Batch[] = [];
  for (let i = 0; i < rows; i += 2048) batches.push(gen.toBatch(data.slice(i, i + 2048), i));
  return {
    set: { batches, labels },
    planted: { auc: aucOf(p, labels), logLoss: logLossOf(p, labels), ctr: labels.reduce((a, b) => a + b, 0) / rows, firstOrderAuc: aucOf(p1, labels) },
  };
}

async function trainRun(
  name: string,
  o: typeof FULL & LearningBenchOptions,
  stream: SyntheticCtrOptions,
  heldOut: HeldOut,
  trick?: HashTrick,
): Promise<RunFigures> {
  const log = o.log ?? (() => undefined);
  const steps = Math.ceil(o.examples / o.batchSize);
  const gen = new SyntheticCtr(stream);
  const counter = trick ? new CollisionCounter(trick) : undefined;
  const mapHeld = trick ? heldOut.batches.map((b) => trick.mapBatch(b)) : heldOut.batches;
  const curve: CurvePoint[] = [];
  let trained = 0;
  let evalMs = 0;
  let last = { auc: NaN, logLoss: NaN };
  // eslint-disable-next-line prefer-const
  let p: TrainingPipeline;
  let evaluator: TrainStep | undefined;
  const t0 = performance.now();

  const evaluate = async (): Promise<void> => {
    const e0 = performance.now();
    evaluator ??= new TrainStep({ spec: p.spec, tables: p.tables, dense: p.dense, worker: -1 });
    const preds = new Float32Array(heldOut.labels.length);
    let at = 0;
    for (const b of mapHeld) {
      const r = evaluator.run(b, 'eval');
      preds.set(Object.values(r.predictions!)[0]!, at);
      at += b.rows;
    }
    last = { auc: aucOf(preds, heldOut.labels), logLoss: logLossOf(preds, heldOut.labels) };
    evalMs += performance.now() - e0;
    curve.push({ examples: trained, seconds: (performance.now() - t0 - evalMs) / 1000, auc: last.auc });
    log(`${name}: ${trained} examples, held-out AUC ${last.auc.toFixed(4)}`);
  };

  async function* source(): AsyncGenerator<Batch> {
    for (let s = 0; s < steps; s++) {
      if (s > 0 && s % o.evalEverySteps === 0) await p.gate.exclusive(evaluate);
      const batch = gen.nextBatch(o.batchSize);
      counter?.addBatch(batch);
      trained += batch.rows;
      yield trick ? trick.mapBatch(batch) : batch;
    }
  }

  p = await TrainingPipeline.create({ model: { url: DEEPFM_URL, options: { ...o.model } }, source, workers: o.workers, backend: o.backend });
  try {
    await lastValueFrom(p.run().pipe(tap(() => undefined)), { defaultValue: undefined });
    await evaluate();
  } finally {
    await p.close();
  }
  const trainSeconds = (performance.now() - t0 - evalMs) / 1000;
  const tables = Object.values(p.tables);
  const entries = tables.reduce((a, t) => a + t.size, 0);
  return {
    name,
    curve,
    auc: last.auc,
    logLoss: last.logLoss,
    entries,
    bytes: tables.reduce((a, t) => a + t.bytes, 0),
    examplesPerSec: trained / trainSeconds,
    trainSeconds,
    ...(trick && counter
      ? {
          buckets: trick.buckets,
          collision: {
            distinct: counter.distinct,
            colliding: counter.colliding,
            rate: counter.rate,
            expectedUniform: expectedCollisionRate(counter.distinct / gen.slots, trick.buckets),
            usedBuckets: counter.usedBuckets,
          },
        }
      : {}),
  };
}

export async function run(opts: LearningBenchOptions & { quick?: boolean } = {}): Promise<LearningBenchResult> {
  const base = opts.quick ? QUICK : FULL;
  const o = { ...base, ...Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) } as typeof FULL & LearningBenchOptions;
  o.stream = { ...base.stream, ...opts.stream };
  o.pairStream = opts.pairStream === null ? null : { ...base.pairStream, ...opts.pairStream };
  o.model = { ...base.model, ...opts.model };
  const started = new Date();
  const t0 = performance.now();
  const { set, planted } = heldOutSet(o.stream, o.evalRows, o.heldOutSeed);
  o.log?.(`planted model: held-out AUC ${planted.auc.toFixed(4)}, CTR ${planted.ctr.toFixed(3)}`);
  const collisionless = await trainRun('collisionless', o, o.stream, set);
  const slots = new SyntheticCtr(o.stream).slots;
  const hashed: RunFigures[] = [];
  for (const f of o.fractions) {
    const buckets = Math.max(1, Math.round((f * collisionless.entries) / slots));
    hashed.push(await trainRun(`hash trick, ${fmtFraction(f)} memory`, o, o.stream, set, new HashTrick({ buckets, seed: 0x5eed })));
  }
  let pairs: LearningBenchResult['pairs'];
  if (o.pairStream) {
    const ps = heldOutSet(o.pairStream, o.evalRows, o.heldOutSeed);
    o.log?.(`pair stream: planted AUC ${ps.planted.auc.toFixed(4)}, without pair terms ${ps.planted.firstOrderAuc.toFixed(4)}`);
    pairs = { planted: ps.planted, run: await trainRun('collisionless, pair stream', o, o.pairStream, ps.set) };
  }
  const wallSeconds = (performance.now() - t0) / 1000;
  if (opts.plot) await writeAucPlot(opts.plot, planted, [collisionless, ...hashed], pairs);
  const result = { planted, collisionless, hashed, pairs, options: o, wallSeconds, markdown: '' };
  result.markdown = renderMarkdown(result, started, opts);
  return result;
}

const fmtFraction = (f: number): string => (f === 1 ? 'same' : `${+(f * 100).toFixed(1)}%`);

export async function writeAucPlot(file: string, planted: { auc: number }, runs: RunFigures[], pairs?: LearningBenchResult['pairs']): Promise<void> {
  const values: Record<string, unknown>[] = [];
  for (const r of [...runs, ...(pairs ? [pairs.run] : [])]) for (const c of r.curve) values.push({ examples: c.examples, auc: c.auc, run: r.name });
  const maxX = Math.max(...values.map((v) => v.examples as number));
  const lines: [number, string][] = [[planted.auc, 'planted model (best possible)']];
  if (pairs) lines.push([pairs.planted.auc, 'planted model, pair stream'], [pairs.planted.firstOrderAuc, 'pair stream planted without pair terms']);
  for (const [auc, run] of lines) values.push({ examples: 0, auc, run }, { examples: maxX, auc, run });
  await writeLinePlot(file, {
    title: 'Held-out AUC while training (DeepFM, planted stream)',
    x: { field: 'examples', title: 'training examples' },
    y: { field: 'auc', title: 'held-out AUC', zero: false },
    series: 'run',
    references: (run) => lines.some(([, name]) => name === run),
    values,
    points: false,
  });
}

function renderMarkdown(r: Omit<LearningBenchResult, 'markdown'>, started: Date, opts: LearningBenchOptions & { quick?: boolean }): string {
  const o = r.options as typeof FULL;
  const f4 = (x: number) => x.toFixed(4);
  const gap = r.planted.auc - r.collisionless.auc;
  const runs = [r.collisionless, ...r.hashed];
  const rows = runs.map((x) => {
    const c = x.collision;
    return `| ${x.name} | ${f4(x.auc)} | ${f4(r.planted.auc - x.auc)} | ${f4(x.auc - r.collisionless.auc)} | ${f4(x.logLoss)} | ${x.entries.toLocaleString('en-US')} | ${(x.bytes / 2 ** 20).toFixed(1)} | ${x.buckets?.toLocaleString('en-US') ?? '–'} | ${c ? `${(c.rate * 100).toFixed(1)}% (${c.colliding.toLocaleString('en-US')} of ${c.distinct.toLocaleString('en-US')}; uniform ids: ${(c.expectedUniform * 100).toFixed(1)}%)` : '0 (collisionless)'} | ${x.examplesPerSec.toFixed(0)} |`;
  });
  const m = o.model;
  const pr = r.pairs;
  const pairGap = pr ? pr.planted.auc - pr.run.auc : NaN;
  const pairLine = pr
    ? `**Pair stream: trained ${f4(pr.run.auc)} vs planted ${f4(pr.planted.auc)}: gap ${f4(pairGap)}** (${pairGap <= 0.01 ? 'met' : 'not met'}); the planted model without its pair terms scores ${f4(pr.planted.firstOrderAuc)} on the same rows, so ${f4(pr.planted.auc - pr.planted.firstOrderAuc)} of the gap is the random pair interactions, which DeepFM's FM and MLP terms only approximate, and ${f4(pr.planted.firstOrderAuc - pr.run.auc)} is the rest.`
    : '';
  const pairRows = pr
    ? [
        `| pair stream: planted model | ${f4(pr.planted.auc)} | 0 | | ${f4(pr.planted.logLoss)} | | | | | |`,
        `| pair stream: planted model without its pair terms | ${f4(pr.planted.firstOrderAuc)} | ${f4(pr.planted.auc - pr.planted.firstOrderAuc)} | | | | | | | |`,
        `| pair stream: collisionless | ${f4(pr.run.auc)} | ${f4(pairGap)} | | ${f4(pr.run.logLoss)} | ${pr.run.entries.toLocaleString('en-US')} | ${(pr.run.bytes / 2 ** 20).toFixed(1)} | – | 0 (collisionless) | ${pr.run.examplesPerSec.toFixed(0)} |`,
      ].join('\n')
    : '';
  const cmd = `node dist/bench/learning-demo.js${opts.quick ? ' --quick' : ''}`;
  return `# Learning quality (bench/learning-demo.ts)

Command: \`${cmd}\` — ${started.toISOString()}, ${r.wallSeconds.toFixed(0)} s wall, ${o.workers} worker(s), tfjs backend ${opts.backend ?? 'default (best available)'}.
Streams: \`SyntheticCtr\` (26 sparse slots of Zipf(1.1) ids, 13 dense features, labels from a planted logistic model) with
${JSON.stringify(o.stream)} — the planted model is first-order id weights + dense weights, which DeepFM can represent exactly —
${r.pairs ? `and the "pair stream" ${JSON.stringify(o.pairStream)}: the same weights plus the stream's default 2 pairwise slot interactions with hashed (random) pair weights.` : ''}
Model: DeepFM ${JSON.stringify({ embeddingDim: m.embeddingDim, hidden: m.hidden })}, vec ${JSON.stringify(m.vecOptimizer)}, bias ${JSON.stringify(m.biasOptimizer)}, dense ${JSON.stringify(m.denseOptimizer)}.
Training: ${o.examples.toLocaleString('en-US')} examples per run in batches of ${o.batchSize}, one pass over a fresh stream (online: every example seen once),
through \`TrainingPipeline\` (worker pool, tables in SharedArrayBuffers). Held-out set: ${o.evalRows.toLocaleString('en-US')} rows drawn with seed ${o.heldOutSeed}
from the same planted model, evaluated every ${o.evalEverySteps} steps in the main thread (eval mode: lookupOnly, unseen ids are zeros) while the
workers are held at a step boundary. The planted model's AUC on the same rows is the best any learner can reach.

**Trained (collisionless) held-out AUC ${f4(r.collisionless.auc)} vs planted ${f4(r.planted.auc)}: gap ${f4(gap)}** (target ≤ 0.01: ${gap <= 0.01 ? 'met' : 'not met'}).
${pairLine}

| run | held-out AUC | gap to planted | vs collisionless | log loss | table entries | table MiB | buckets / slot | collision rate (distinct ids sharing a bucket) | examples/s |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |
| planted model | ${f4(r.planted.auc)} | 0 | | ${f4(r.planted.logLoss)} | | | | | |
${rows.join('\n')}
${pairRows}

The hash trick maps each FID to \`slot | hash(fid) mod B\` (src/hashtable/hash-trick.ts) before lookup, in training and held-out alike; B per slot =
fraction × (entries of the collisionless run) / 26, so at "same memory" the fixed table has as many rows as the collisionless tables ended up with.
"uniform ids" is the collision rate expected if the distinct ids of a slot were hashed uniformly, 1 - (1 - 1/B)^(n-1).
Examples/s exclude the held-out evaluations; the machine is shared, so compare runs of the same report.

${opts.plot ? `![held-out AUC over time](plots/${basename(opts.plot)})\n` : ''}`;
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain) {
  const args = process.argv.slice(2);
  const arg = (name: string): string | undefined => (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1] : undefined);
  const num = (name: string): number | undefined => (arg(name) !== undefined ? Number(arg(name)) : undefined);
  const out = arg('out');
  const res = await run({
    quick: args.includes('--quick'),
    examples: num('examples'),
    workers: num('workers'),
    batchSize: num('batch'),
    evalRows: num('eval-rows'),
    evalEverySteps: num('eval-every'),
    fractions: arg('fractions')?.split(',').filter((x) => x !== '').map(Number),
    pairStream: args.includes('--no-pairs') ? null : undefined,
    stream: arg('stream') !== undefined ? (JSON.parse(arg('stream')!) as SyntheticCtrOptions) : undefined,
    model: arg('model') !== undefined ? (JSON.parse(arg('model')!) as DeepFmOptions) : undefined,
    backend: arg('backend') as BackendName | undefined,
    // run-all writes plots/auc-over-time.svg; a standalone run gets its own file so the two never disagree.
    plot: arg('plot') ?? (out ? new URL('../../bench/plots/learning-auc-over-time.svg', import.meta.url).pathname : undefined),
    log: (l) => process.stderr.write(`${l}\n`),
  });
  process.stdout.write(res.markdown);
  if (out) writeFileSync(out, res.markdown);
}
