import { mkdir, mkdtemp } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Observable } from 'rxjs';
import type { SourceBatch } from '../batch/batch.js';
import { ConfigError } from '../errors.js';
import { StandaloneExporter } from '../export/exporters.js';
import { ExportSaverListener } from '../export/export-saver-listener.js';
import { checkpointParams } from '../export/params-source.js';
import { stringTensor } from '../export/warmup.js';
import { writeModelSettings } from '../graph/model-settings.js';
import { train, type TrainSummary } from '../graph/training-pipeline.js';
import type { ModelSpec } from '../model/model-spec.js';
import { tensorflow } from '../proto.js';
import { loadExport } from '../serving/load-export.js';
import { ensureTfBackend } from '../serving/tf-backend.js';
import { tensorToNumbers } from '../serving/tensor-proto.js';
import { PredictionClient } from '../serving/prediction-client.js';
import { PredictionServer } from '../serving/prediction-server.js';
import { progressLine, type ProgressFigures } from '../streams/hooks/progress-line.js';
import { parsedRowsOf } from '../streams/parse/parsed-rows.js';
import { checkRecordFile } from '../streams/sources/input-check.js';
import { recordFileBatches, recordTopicSource } from '../streams/sources/record-input-source.js';
import { checkModelInput, denseInputsOf, describeInput, exportedDenseGroups, type RecordInput } from '../streams/sources/record-input.js';
import { aucOf, SyntheticCtr, type CtrRow } from '../streams/sources/synthetic-ctr.js';
import { Rng } from '../util/random.js';
import { loadModel } from '../workers/load-model.js';
import { Holdout, instancesOf } from './holdout.js';

export interface CtrDemoOptions {
  /** Worker threads (default: the machine's cores). */
  workers?: number;
  /** Seconds of training on the generated stream (default 45). */
  durationSec?: number;
  /** Stop after this many steps instead (generator; default: no limit). */
  maxSteps?: number;
  batchSize?: number;
  seed?: number;
  /** Ids per slot of the planted stream (default 100, as the demo-stream learning benchmark). */
  vocabSize?: number;
  /** Planted pairwise slot interactions (default 0; DeepFM's FM term can learn them, more slowly). */
  interactions?: number;
  /** Directory for checkpoints and exports (default: a new temp directory). */
  out?: string;
  /** Train from a Kafka topic of serialized Instances instead of the generator. */
  kafka?: { brokers: string; topic: string; groupId?: string };
  /** Train from record files instead of the generator (needs `input`). */
  dataFiles?: string[];
  /** How `dataFiles` (or the Kafka topic) are read; required with files (default for Kafka: the generator's Instances, one per message). */
  input?: RecordInput;
  /** Fraction of the data's batches held out for the AUC (data runs; default 0.1). */
  holdoutFraction?: number;
  checkpointEverySteps?: number;
  /** Held-out rows for the AUC comparison (default 20000; with data: at most this many are kept). */
  holdoutRows?: number;
  /** One batch in flight: bit-reproducible training (tests). */
  deterministic?: boolean;
  /** Lines of text (progress and summary). */
  say?: (line: string) => void;
  /** The live progress line (default: stderr). */
  progressWrite?: (text: string) => void;
}

export interface CtrDemoSummary {
  dir: string;
  train: TrainSummary;
  progress: ProgressFigures;
  examplesPerSec: number;
  /** Held-out AUC of the exported model, and of the planted model on the same rows (generator runs only). */
  heldOutAuc?: number;
  plantedAuc?: number;
  /** Rows of the data held out and scored (data runs). */
  heldOutRows?: number;
  /** Rows read per data file. */
  filesRead?: Record<string, number>;
  tableSizes: Record<string, number>;
  exportPath: string;
  /** Probabilities the gRPC service answered for the first held-out rows, with their labels (and the planted probability for generator rows). */
  served: { predicted: number; planted?: number; label: number }[];
  /** The settings file written beside the checkpoints. */
  settingsPath: string;
}

const DEEPFM_URL = new URL('../model/models/deepfm.js', import.meta.url).href;

/**
 * The DeepFM the demo trains: small towers and the optimizer settings the
 * demo-stream learning benchmark (bench/learning-demo.ts) reaches the planted
 * AUC with on 2 cores.
 */
export const DEMO_MODEL_OPTIONS = {
  embeddingDim: 8,
  hidden: [64, 32],
  seed: 7,
  vecOptimizer: { adagrad: { learningRate: 0.05, initialAccumulatorValue: 1e-4 } },
  vecInitializer: { randomUniform: {} },
  biasOptimizer: { ftrl: { learningRate: 0.1, initialAccumulatorValue: 1e-6, beta: 0 } },
  denseOptimizer: { name: 'adam', learningRate: 0.002 },
};

function generatorSource(ctr: SyntheticCtr, batchSize: number, deadline: number, maxSteps: number): AsyncIterable<SourceBatch> {
  return (async function* () {
    for (let step = 0; step < maxSteps && performance.now() < deadline; step++) yield { batch: ctr.nextBatch(batchSize) };
  })();
}

function instanceRequest(rows: Uint8Array[]): tensorflow.serving.IPredictRequest {
  return {
    modelSpec: { name: 'default', signatureName: 'serving_default' },
    inputs: { instances: stringTensor(rows) },
  };
}

/** DeepFM options for the data's columns: slots 1..n and the width of the `dense` input. */
function modelOptionsFor(input: RecordInput | undefined): Record<string, unknown> {
  if (!input) return { ...DEMO_MODEL_OPTIONS };
  const slots = input.parse.sparse.map((s) => s.slot).sort((a, b) => a - b);
  if (slots.length === 0 || slots.some((s, i) => s !== i + 1)) throw new ConfigError(`demo: DeepFM reads sparse slots 1..n; the parse configuration has ${slots.join(', ') || 'none'}`);
  const dense = denseInputsOf(input);
  const other = dense.filter((d) => d.name !== 'dense');
  if (other.length) throw new ConfigError(`demo: DeepFM takes one dense input named "dense" (a dense feature or --dense-group dense=…); the parse configuration has ${other.map((d) => d.name).join(', ')}`);
  return { ...DEMO_MODEL_OPTIONS, sparseSlots: slots.length, denseFeatures: dense[0]?.width ?? 0 };
}

/**
 * The main job end to end: streams a planted CTR data set (or Kafka / files),
 * trains DeepFM with the worker pool on shared hash tables, checkpoints and
 * exports on every save, stores its settings beside the checkpoints, then
 * scores held-out rows through the export (generator rows, or a held-out
 * fraction of the data), serves the export over gRPC and queries it.
 */
export async function runCtrDemo(opts: CtrDemoOptions = {}): Promise<CtrDemoSummary> {
  const say = opts.say ?? ((l: string) => void process.stdout.write(`${l}\n`));
  const workers = opts.workers ?? availableParallelism();
  const batchSize = opts.batchSize ?? 256;
  const seed = opts.seed ?? 1;
  if (opts.kafka && opts.dataFiles?.length) throw new ConfigError('demo: choose Kafka or data files, not both');
  if (opts.dataFiles?.length && !opts.input) throw new ConfigError('demo: data files need a parse configuration (at least --layout)');
  const dir = opts.out ?? (await mkdtemp(join(tmpdir(), 'monolith-ts-demo-')));
  const modelDir = join(dir, 'checkpoints');
  const exportBase = join(dir, 'export');

  await ensureTfBackend();
  const ctr = new SyntheticCtr({ seed, vocabSize: opts.vocabSize ?? 100, interactions: opts.interactions ?? 0 });
  const synthetic = !opts.kafka && !opts.dataFiles?.length;
  const input: RecordInput | undefined = synthetic ? undefined : (opts.input ?? { format: 'message', variant: 'instance', parse: ctr.parseConfig });
  const model = { url: DEEPFM_URL, options: modelOptionsFor(input) };
  const spec: ModelSpec = await loadModel(model);
  if (input) checkModelInput(spec, input);
  if (opts.dataFiles?.length) {
    for (const file of opts.dataFiles) for (const w of (await checkRecordFile(file, input!, { needLabels: true })).warnings) say(`warning: ${w}`);
  }
  await mkdir(modelDir, { recursive: true });
  const settingsPath = await writeModelSettings(modelDir, { model, ...(input ? { input: { ...input } as unknown as Record<string, unknown> } : {}) });

  // Generator runs: held-out rows from their own generator, where the planted model's AUC is the best any learner can reach.
  const holdoutRows = opts.holdoutRows ?? 20_000;
  const heldOut: CtrRow[] = [];
  if (synthetic) {
    const rng = new Rng(seed + 1_000_003);
    for (let i = 0; i < holdoutRows; i++) heldOut.push(ctr.sampleRow(rng));
  }
  const plantedProbs = heldOut.map((r) => ctr.plantedProbability(r));
  const plantedAuc = synthetic ? aucOf(plantedProbs, heldOut.map((r) => r.label)) : undefined;

  let source: AsyncIterable<SourceBatch> | Observable<SourceBatch>;
  let what: string;
  const holdout = opts.dataFiles?.length ? new Holdout(opts.holdoutFraction ?? 0.1, holdoutRows) : undefined;
  const filesRead: Record<string, number> = {};
  if (opts.kafka) {
    source = recordTopicSource({ brokers: opts.kafka.brokers, topic: opts.kafka.topic, groupId: opts.kafka.groupId ?? 'monolith-ts-demo', input: input!, batchSize });
    what = `Kafka topic ${opts.kafka.topic} at ${opts.kafka.brokers} (${describeInput(input!)})`;
  } else if (opts.dataFiles?.length) {
    const files = recordFileBatches({ files: opts.dataFiles, input: input!, batchSize, onFileRead: (f, rows) => (filesRead[f] = rows) });
    source = holdout!.split(files);
    what = `${opts.dataFiles.length} data file(s) (${describeInput(input!)}), every ${Math.max(2, Math.round(1 / (opts.holdoutFraction ?? 0.1)))}th batch held out`;
  } else {
    const deadline = performance.now() + (opts.durationSec ?? 45) * 1000;
    source = generatorSource(ctr, batchSize, deadline, opts.maxSteps ?? Infinity);
    what = `a planted CTR stream (${ctr.slots} Zipf slots of ${ctr.vocab} ids, ${ctr.denseWidth} dense features; planted AUC ${plantedAuc!.toFixed(4)})`;
  }
  say(`training DeepFM on ${what}`);
  say(`  ${workers} worker thread(s), batches of ${batchSize}, checkpoints and exports in ${dir}`);

  const exporter = new StandaloneExporter({ spec, exportDirBase: exportBase, params: checkpointParams(spec, modelDir), globalStepAsTimestamp: true, denseGroups: exportedDenseGroups(input) });
  const exportListener = new ExportSaverListener({ modelDir, exporter });
  const progress = progressLine({ suffix: plantedAuc === undefined ? undefined : `(planted ${plantedAuc.toFixed(4)})`, write: opts.progressWrite });
  const started = performance.now();
  const summary = await train({
    model,
    source,
    workers,
    deterministic: opts.deterministic,
    hooks: [{ name: 'progress', op: progress }],
    checkpoint: { dir: modelDir, everySteps: opts.checkpointEverySteps ?? 200, listeners: [exportListener.asCheckpointListener()] },
  });
  const secs = (performance.now() - started) / 1000;
  for (const [f, rows] of Object.entries(filesRead)) say(`read ${rows} records from ${f}`);

  // Score the held-out rows through the newest export, as a serving process would.
  const exported = await loadExport(exportBase);
  const head = spec.heads[0]!.name;
  const m = exported.manifest;
  let scores: Float32Array;
  let labels: ArrayLike<number>;
  let records: Uint8Array[];
  const heldOutBatch = holdout?.batch();
  if (synthetic) {
    records = heldOut.map((r, i) => ctr.toInstance(r, i));
    labels = heldOut.map((r) => r.label);
    scores = new Float32Array(records.length);
    for (let i = 0; i < records.length; i += 1024) scores.set(exported.predictRecords(records.slice(i, i + 1024), [head])[head]!, i);
  } else if (heldOutBatch) {
    labels = Float32Array.from({ length: heldOutBatch.rows }, (_, r) => heldOutBatch.labels[r * heldOutBatch.labelWidth]!);
    scores = exported.predictParsed(parsedRowsOf(heldOutBatch, m.features, m.denseInputs), [head])[head]!;
    records = instancesOf(heldOutBatch, 5, m.features, m.denseInputs);
  } else {
    labels = [];
    scores = new Float32Array(0);
    records = [];
  }
  const heldOutAuc = scores.length ? aucOf(scores, labels) : undefined;
  const tableSizes = Object.fromEntries([...exported.tables].map(([k, t]) => [k, t.size]));
  const exportPath = exported.dir;
  exported.dispose();

  // Serve the export over gRPC on loopback and ask it about the first held-out rows.
  let served: CtrDemoSummary['served'] = [];
  if (records.length) {
    const server = await PredictionServer.start({ modelBasePath: exportBase, pollIntervalMs: 0 });
    const client = new PredictionClient(server.address);
    try {
      const res = await client.predict(instanceRequest(records.slice(0, 5)));
      const t = res.outputs[head];
      if (!t) throw new ConfigError(`the served model answered without output ${head} (outputs: ${Object.keys(res.outputs).join(', ')})`);
      served = tensorToNumbers(t).map((p, i) => ({ predicted: p, label: labels[i]!, ...(synthetic ? { planted: plantedProbs[i]! } : {}) }));
    } finally {
      client.close();
      await server.stop();
    }
  }

  const result: CtrDemoSummary = {
    dir,
    train: summary,
    progress: progress.figures(),
    examplesPerSec: summary.examples / secs,
    heldOutAuc,
    plantedAuc,
    ...(holdout ? { heldOutRows: holdout.keptRows, filesRead } : {}),
    tableSizes,
    exportPath,
    served,
    settingsPath,
  };
  printSummary(result, say);
  return result;
}

function printSummary(s: CtrDemoSummary, say: (l: string) => void): void {
  const sizes = Object.values(s.tableSizes);
  say('');
  say('summary');
  say(`  trained      ${s.train.steps} steps, ${s.train.examples.toLocaleString('en-US')} examples, ${Math.round(s.examplesPerSec).toLocaleString('en-US')} examples/s, last loss ${s.train.lastLoss?.toFixed(4)}`);
  if (s.heldOutAuc !== undefined && s.plantedAuc !== undefined) say(`  held-out AUC ${s.heldOutAuc.toFixed(4)} (exported model)  vs  planted model ${s.plantedAuc.toFixed(4)}  (gap ${(s.plantedAuc - s.heldOutAuc).toFixed(4)})`);
  else if (s.heldOutAuc !== undefined) say(`  held-out AUC ${s.heldOutAuc.toFixed(4)} (exported model) on ${s.heldOutRows!.toLocaleString('en-US')} held-out rows of the data`);
  say(`  tables       ${sizes.length} tables, ${sizes.reduce((a, b) => a + b, 0).toLocaleString('en-US')} embeddings (largest ${Math.max(...sizes).toLocaleString('en-US')})`);
  say(`  export       ${s.exportPath}`);
  say(`  settings     ${s.settingsPath}`);
  say(`  served       gRPC Predict on loopback answered ${s.served.length} rows:`);
  for (const r of s.served) say(`               p=${r.predicted.toFixed(4)}${r.planted !== undefined ? `  planted p=${r.planted.toFixed(4)}` : ''}  label ${r.label}`);
  say(`  files        ${s.dir}`);
}
