/**
 * End-to-end training throughput (parse → lookup → dense → apply) with 1 and
 * 2 worker threads, next to the dense compute of the same model alone in 1 and
 * 2 plain threads, on the demo model (DeepFM) and on a Criteo-sized MLP. The
 * four runs of a model are interleaved in every round (A B C D, then D C B A)
 * and repeated; every ratio is taken within a round and reported as the median
 * with its min–max. Each run also records the CPU it used (all threads and the
 * main thread) and the CPU every other process used meanwhile, so a figure
 * taken on a busy machine shows as such.
 *
 *   node dist/bench/pipeline.js [--quick] [--rounds 3] [--models demo,criteo] [--batches N] [--rows 256]
 *                               [--parse workers|main] [--out bench/RESULTS-pipeline.md] [--plot bench/plots/pipeline-throughput-vs-workers.svg]
 */
import { existsSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { Worker } from 'node:worker_threads';
import { lastValueFrom, tap } from 'rxjs';
import { DEMO_MODEL_OPTIONS } from '../src/demo/ctr-demo.js';
import { writeFileAtomic } from '../src/io/atomic-file.js';
import { timedParse } from '../src/graph/parse-timing.js';
import type { StepResult } from '../src/graph/step-result.js';
import { TrainingPipeline } from '../src/graph/training-pipeline.js';
import { RecordParser } from '../src/streams/parse/record-parser.js';
import { workerRecordParser } from '../src/streams/parse/worker-record-parser.js';
import { SyntheticCtr } from '../src/streams/sources/synthetic-ctr.js';
import { loadModel, type ModelRef } from '../src/workers/load-model.js';
import { initBackend, type BackendName } from '../src/workers/tf-backend.js';
import type { DenseAloneWorkerData } from './dense-alone-worker.js';
import { cpuSnapshot, cpuUse, loadLine, type CpuUse } from './machine-load.js';
import { writePipelinePlot } from './pipeline-plot.js';

const argv = process.argv.slice(2);
const arg = (name: string, def: string): string => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1]! : def;
};
const QUICK = argv.includes('--quick');
const ROUNDS = Number(arg('rounds', QUICK ? '2' : '3'));
const ROWS = Number(arg('rows', '256'));
const WARM = Number(arg('warm', QUICK ? '3' : '6'));
const BATCHES = arg('batches', '');
const OUT = arg('out', '');
const PLOT = arg('plot', '');
const BACKEND = arg('backend', 'wasm') as BackendName;
const VOCAB = Number(arg('vocab', '1000000'));
const MODELS = arg('models', 'demo,criteo').split(',');
/** Where the pipeline parses: in the workers (parseInWorkers, default) or on the main thread (a parse node). */
const PARSE = arg('parse', 'workers') as 'workers' | 'main';
/** DeepRec's published WDL training rate per vCPU (examples/s), the issue's external reference. */
const DEEPREC_WDL_PER_VCPU = { low: 2000, high: 3000 };

interface BenchModel {
  key: string;
  title: string;
  ref: ModelRef;
  /** Timed batches per run (full mode). */
  batches: number;
}
const MODEL_URL = new URL('./pipeline-model.js', import.meta.url).href;
const DEEPFM_URL = new URL('../src/model/models/deepfm.js', import.meta.url).href;
const ALL_MODELS: BenchModel[] = [
  { key: 'demo', title: 'demo model: DeepFM, 26 slots (bias + dim 8), FM, MLP 64-32, 13 dense', ref: { url: DEEPFM_URL, options: { ...DEMO_MODEL_OPTIONS } }, batches: 60 },
  { key: 'criteo', title: 'Criteo-sized: 26 slots dim 16 reduce_sum, 13 dense, MLP 400-400-400-1', ref: { url: MODEL_URL, options: { features: 26, dim: 16, hidden: [400, 400, 400] } }, batches: 24 },
];

type RunName = 'dense alone, 1 thread' | 'dense alone, 2 threads' | 'pipeline, 1 worker' | 'pipeline, 2 workers';
const RUNS: RunName[] = ['dense alone, 1 thread', 'pipeline, 1 worker', 'dense alone, 2 threads', 'pipeline, 2 workers'];
interface Measured {
  rate: number;
  cpu: CpuUse;
  stages?: { parse: number; lookup: number; dense: number; apply: number };
}

/** The dense kernel each model's dense-alone runs used (the one its pipeline picks too). */
const denseKernels = new Set<string>();

/** n plain threads running the dense step alone at the same time; examples/s of all of them together. */
async function denseAlone(m: BenchModel, threads: number, batches: number): Promise<Measured> {
  const start = new SharedArrayBuffer(4);
  const data: DenseAloneWorkerData = { model: m.ref, backend: BACKEND, rows: ROWS, warm: WARM, batches, start };
  const ws = Array.from({ length: threads }, () => new Worker(new URL('./dense-alone-worker.js', import.meta.url), { workerData: data }));
  const next = (w: Worker) => new Promise<{ ready?: boolean; ms?: number; kernel?: string }>((res, rej) => {
    w.once('message', res);
    w.once('error', rej);
  });
  try {
    await Promise.all(ws.map(next));
    const done = Promise.all(ws.map(next));
    const c0 = cpuSnapshot();
    Atomics.store(new Int32Array(start), 0, 1);
    Atomics.notify(new Int32Array(start), 0);
    const reports = await done;
    const ms = reports.map((x) => x.ms!);
    const cpu = cpuUse(c0);
    denseKernels.add(`${m.key}: ${reports[0]!.kernel ?? '?'}`);
    return { rate: (threads * batches * ROWS) / (Math.max(...ms) / 1000), cpu };
  } finally {
    await Promise.all(ws.map((w) => w.terminate()));
  }
}

/** One pass of the pipeline over `records` (batches of serialized Instances, parsed on the way). */
async function pipelineRun(p: TrainingPipeline, records: Uint8Array[][]): Promise<Measured> {
  const results: StepResult[] = [];
  let c0 = cpuSnapshot();
  await lastValueFrom(
    p.run().pipe(
      tap((r) => {
        results.push(r);
        if (results.length === WARM) c0 = cpuSnapshot();
      }),
    ),
  );
  const cpu = cpuUse(c0);
  const timed = results.slice(WARM);
  const mean = (k: 'parse' | 'lookup' | 'dense' | 'apply') => timed.reduce((a, r) => a + (r.timings?.[k] ?? 0), 0) / timed.length;
  if (results.length !== records.length) throw new Error(`pipeline ran ${results.length} steps for ${records.length} batches`);
  return { rate: (timed.length * ROWS) / (cpu.wallMs / 1000), cpu, stages: { parse: mean('parse'), lookup: mean('lookup'), dense: mean('dense'), apply: mean('apply') } };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const f = (x: number, d = 0): string => (Number.isFinite(x) ? x.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d }) : 'n/a');
const spread = (xs: number[], d = 0): string => `${f(Math.min(...xs), d)}–${f(Math.max(...xs), d)}`;
const say = (s: string) => process.stderr.write(`[pipeline] ${s}\n`);

async function benchModel(m: BenchModel): Promise<{ table: string[]; ratios: string[] }> {
  const batches = Number(BATCHES || (QUICK ? Math.max(6, m.batches >> 2) : m.batches));
  const spec = await loadModel(m.ref);
  const ctr = new SyntheticCtr({ seed: 11, vocabSize: VOCAB, interactions: 0 });
  let uid = 0;
  const records = Array.from({ length: WARM + batches }, () => Array.from({ length: ROWS }, () => ctr.toInstance(ctr.sampleRow(), uid++)));
  const parser = new RecordParser(ctr.parseConfig, { variant: 'instance' });
  const parse = PARSE === 'main' ? { before: [{ name: 'parse', op: timedParse((recs: Uint8Array[]) => parser.parse(recs)), kind: 'parse' as const }] } : { parseInWorkers: workerRecordParser(ctr.parseConfig, 'instance') };
  const make = (workers: number) => TrainingPipeline.create({ model: m.ref, source: records, workers, backend: BACKEND, ...parse });
  const pipes = { 1: await make(1), 2: await make(2) };
  const got = new Map<RunName, Measured[]>(RUNS.map((r) => [r, []]));
  try {
    // Start-up (worker threads, wasm, first table growth) before any timed round.
    await pipelineRun(pipes[1], records);
    await pipelineRun(pipes[2], records);
    for (let round = 0; round < ROUNDS; round++) {
      for (const run of round % 2 === 0 ? RUNS : [...RUNS].reverse()) {
        const n = run.endsWith('1 thread') || run.endsWith('1 worker') ? 1 : 2;
        const r = run.startsWith('dense') ? await denseAlone(m, n, batches) : await pipelineRun(pipes[n], records);
        got.get(run)!.push(r);
        say(`${m.key} round ${round + 1}/${ROUNDS}: ${run} ${f(r.rate)} examples/s, ${r.cpu.ownCores.toFixed(2)} cores (others ${r.cpu.otherCores.toFixed(2)})`);
      }
    }
  } finally {
    await pipes[1].close();
    await pipes[2].close();
  }
  const rates = (r: RunName) => got.get(r)!.map((x) => x.rate);
  const perRound = (a: RunName, b: RunName) => rates(a).map((x, i) => x / rates(b)[i]!);
  const perCore = (r: RunName) => got.get(r)!.map((x) => x.rate / x.cpu.ownCores);
  const perRound2 = (of: (r: RunName) => number[], a: RunName, b: RunName) => of(a).map((x, i) => x / of(b)[i]!);
  const table = RUNS.map((run) => {
    const ms = got.get(run)!;
    const st = (k: 'parse' | 'lookup' | 'dense' | 'apply') => (ms[0]!.stages ? f(median(ms.map((x) => x.stages![k])), 1) : '');
    return `| ${m.key} | ${run} | ${f(median(rates(run)))} | ${spread(rates(run))} | ${f(median(perRound(run, 'dense alone, 1 thread')), 2)} | ${f(median(perCore(run)))} | ${f(median(ms.map((x) => x.cpu.ownCores)), 2)} | ${f(median(ms.map((x) => x.cpu.mainThreadCores)), 2)} | ${f(median(ms.map((x) => x.cpu.otherCores)), 2)} | ${st('parse')} | ${st('lookup')} | ${st('dense')} | ${st('apply')} |`;
  });
  const ratio = (name: string, xs: number[], goal: string) => `| ${name} | ${m.key} | **${f(median(xs), 2)}×** | ${spread(xs, 2)} | ${goal} |`;
  const wdl = (DEEPREC_WDL_PER_VCPU.low + DEEPREC_WDL_PER_VCPU.high) / 2;
  const ratios = [
    ratio('pipeline: 2 workers / 1 worker', perRound('pipeline, 2 workers', 'pipeline, 1 worker'), '≥ 1.7 on 2 free cores'),
    ratio('examples per CPU-second: pipeline 2 workers / 1 worker (scaling the CPU time predicts; load-proof)', perRound2(perCore, 'pipeline, 2 workers', 'pipeline, 1 worker'), '≥ 0.85 (1.7 / 2)'),
    ratio('dense alone: 2 threads / 1 thread (what the machine gives 2 threads)', perRound('dense alone, 2 threads', 'dense alone, 1 thread'), 'the ceiling of the line above'),
    ratio('pipeline, 1 worker / dense alone, 1 thread', perRound('pipeline, 1 worker', 'dense alone, 1 thread'), '≥ 0.8'),
    ratio('pipeline, 2 workers / dense alone, 2 threads', perRound('pipeline, 2 workers', 'dense alone, 2 threads'), '≥ 0.8'),
    ratio(`pipeline examples/s per core (2 workers) / DeepRec WDL ${f(wdl)} per vCPU`, perCore('pipeline, 2 workers').map((x) => x / wdl), '≥ 3'),
    ratio(`pipeline examples/s per core (1 worker) / DeepRec WDL ${f(wdl)} per vCPU`, perCore('pipeline, 1 worker').map((x) => x / wdl), '≥ 3'),
  ];
  return { table, ratios };
}

const backend = await initBackend(BACKEND);
const t0 = Date.now();
const load0 = loadLine();
const c0 = cpuSnapshot();
const tables: string[] = [];
const ratios: string[] = [];
const chosen = ALL_MODELS.filter((m) => MODELS.includes(m.key));
for (const m of chosen) {
  const r = await benchModel(m);
  tables.push(...r.table);
  ratios.push(...r.ratios);
}
const whole = cpuUse(c0);
const cmd = `node dist/bench/pipeline.js ${argv.filter((a, i) => a !== '--out' && a !== '--plot' && argv[i - 1] !== '--out' && argv[i - 1] !== '--plot').join(' ')}`.trim();
const md = `# Pipeline benchmark (bench/pipeline.ts)

Command: \`${cmd}\` — ${new Date().toISOString()}, ${((Date.now() - t0) / 1000).toFixed(0)} s, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), tfjs backend ${backend} in every thread.
Machine load: ${load0} at the start, ${loadLine()} at the end; over the whole run other processes kept **${whole.otherCores.toFixed(2)} cores** busy
(machine busy time from /proc/stat minus this process's CPU time), steal ${whole.stealCores.toFixed(2)} cores. Figures taken while other
processes used more than ~0.1 core are from a busy machine: read the ratios, not the rates, and rerun on a quiet one.

Models: ${chosen.map((m) => `**${m.key}** = ${m.title}`).join('; ')}.
Data: Criteo-shaped rows from SyntheticCtr (26 Zipf slots over ${f(VOCAB)} ids, 13 dense features), serialized as Monolith Instances
and parsed in the pipeline (fast wire decoder) ${PARSE === 'main' ? 'on the main thread (a parse node before the step)' : 'by the workers (parseInWorkers: the main thread only copies the records into shared memory)'}, batches of ${ROWS} rows; each run passes over ${WARM} warm-up
batches then the timed ones (worker start-up excluded: each pipeline is created and run once before the rounds).
Runs per round, interleaved (A B C D, then D C B A), ${ROUNDS} rounds: the dense step alone (the dense stage of a
training step on the kernel the pipeline picks — ${[...denseKernels].join(', ')}: forward + backward with the model's loss, gradients of the weights and of
the pooled inputs, the dense update; its dense time only) in 1 and in 2 plain threads at once, and the whole pipeline with
1 and 2 workers. Rates are medians over the rounds with min–max; "× dense alone" and every ratio below are taken within a round.
"per core" = examples/s ÷ cores this process kept busy (every thread, from its CPU time). Stage times (ms per step, median of the
per-run means): parse (${PARSE === 'main' ? 'main thread' : 'inside the worker'}), lookup, dense (weight read + forward/backward), apply inside the worker.

| model | run | examples/s | min–max | × dense alone, 1 thread | examples/s per core | cores used | main thread cores | other processes' cores | parse ms | lookup ms | dense ms | apply ms |
| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
${tables.join('\n')}

| ratio | model | median | min–max | goal |
| --- | --- | ---: | ---: | --- |
${ratios.join('\n')}
`;
process.stdout.write(md);
// Notes below the marker in an existing results file (the analysis) are kept across runs.
const NOTES = '<!-- notes below: kept by bench/pipeline.ts across runs -->';
const old = OUT && existsSync(OUT) ? readFileSync(OUT, 'utf8') : '';
if (OUT) await writeFileAtomic(OUT, old.includes(NOTES) ? `${md}\n${old.slice(old.indexOf(NOTES))}` : md);
if (PLOT) await writePipelinePlot(md, PLOT);
