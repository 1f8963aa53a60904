/**
 * Learning quality on the harder planted stream (PlantedCtr: Zipf vocabularies
 * from 100 to 200,000 ids, multi-valued slots, named log-normal dense
 * features, FM terms on 2 of 325 slot pairs): each shipped model with its
 * defaults, trained through the real pipeline with `trainEpochs` (held-out
 * figures after each pass), next to the stream's Bayes AUC, its
 * no-interaction ceiling and an FTRL-Proximal logistic regression trained on
 * the same rows in the same run; plus DeepFM with the hash trick at the
 * memory the collisionless tables ended up with.
 *
 *   node dist/bench/learning-quality.js [--quick] [--examples 32768,500000] [--epochs 2] [--models deepfm,deep-fwfm,dcn-v2]
 *                                       [--workers 2] [--no-hash] [--no-pass-scaling] [--rare-ids 8] [--out bench/RESULTS-learning-quality.md]
 *
 * `--quick`: 8,192 examples, one pass, 5,000 held-out rows (a smoke run; the figures mean little).
 */
import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { Batch } from '../src/batch/batch.js';
import { trainEpochs, type EpochReport } from '../src/graph/epoch-training.js';
import { DEFAULT_RARE_ID_COUNT } from '../src/hashtable/first-pass-ids.js';
import { HashTrick } from '../src/hashtable/hash-trick.js';
import { rankPairWeights } from '../src/model/layers/interaction-layers.js';
import { PlantedCtr, type PlantedCtrOptions, type PlantedReference, type PlantedRow } from '../src/streams/sources/planted-ctr.js';
import { aucOf, mix } from '../src/streams/sources/synthetic-ctr.js';
import { Rng } from '../src/util/random.js';
import { FtrlLogistic, type FtrlLogisticOptions } from './ftrl-logistic.js';
import { IdealLearner } from './ideal-learner.js';

/** `--quick`: a smoke run of every part in a minute or two. */
export const QUICK: Partial<PlantedBenchOptions> = { examples: [8192], epochs: 1, evalRows: 5000 };

export interface PlantedBenchOptions {
  examples: number[];
  epochs: number;
  models: string[];
  batchSize: number;
  workers: number;
  evalRows: number;
  stream: PlantedCtrOptions;
  heldOutSeed: number;
  hash: boolean;
  /** trainEpochs' scaleRegularizationByPass (the L2 regularization × the pass number). */
  passScaling: boolean;
  /** trainEpochs' leaveOutRareIds (later passes leave out the ids seen at most this often in the first). */
  rareIds: number;
  ftrl: FtrlLogisticOptions;
  /** Extra options per model (e.g. to compare settings). */
  modelOptions: Record<string, unknown>;
  log: (line: string) => void;
  /** Write the report here after each training size (a long run leaves its finished part behind). */
  out?: string;
}

const DEFAULTS: PlantedBenchOptions = {
  examples: [32_768, 500_000],
  epochs: 2,
  models: ['deepfm', 'deep-fwfm', 'dcn-v2'],
  batchSize: 512,
  workers: 2,
  evalRows: 20_000,
  stream: { seed: 1 },
  heldOutSeed: 4242,
  hash: true,
  rareIds: DEFAULT_RARE_ID_COUNT,
  passScaling: true,
  ftrl: { alpha: 0.2, beta: 1, l1: 1, l2: 1 },
  modelOptions: {},
  log: (l) => process.stderr.write(`${l}\n`),
};

interface ModelRun {
  name: string;
  examples: number;
  epochs: EpochReport[];
  entries: number;
  seconds: number;
  /** For a model with a field-weighted FM: its strongest learnt slot-pair weights. */
  strongestPairs?: string;
}

interface SizeResult {
  examples: number;
  /** AUCs of an ideal per-id learner on these rows, without interactions and with the planted pairs (see ideal-learner.ts). */
  ideal: { firstOrder: number; withPairs: number };
  lr: { auc: number; logLoss: number; nonZero: number; seconds: number };
  runs: ModelRun[];
}

const modelUrl = (name: string) => new URL(`../src/model/models/${name}.js`, import.meta.url).href;

function logLoss(p: ArrayLike<number>, y: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < y.length; i++) {
    const q = Math.min(1 - 1e-7, Math.max(1e-7, p[i]!));
    s -= y[i]! ? Math.log(q) : Math.log(1 - q);
  }
  return s / y.length;
}

function* trainBatches(o: PlantedBenchOptions, examples: number, trick?: HashTrick): Generator<Batch> {
  const gen = new PlantedCtr(o.stream);
  for (let done = 0; done < examples; done += o.batchSize) {
    const b = gen.nextBatch(Math.min(o.batchSize, examples - done));
    yield trick ? trick.mapBatch(b) : b;
  }
}

function runLr(o: PlantedBenchOptions, examples: number, heldOut: PlantedRow[]): SizeResult['lr'] {
  const t0 = performance.now();
  const gen = new PlantedCtr(o.stream);
  const lr = new FtrlLogistic(o.ftrl);
  for (let i = 0; i < examples; i++) lr.learn(gen.sampleRow());
  const preds = heldOut.map((r) => lr.predict(r));
  const labels = heldOut.map((r) => r.label);
  return { auc: aucOf(preds, labels), logLoss: logLoss(preds, labels), nonZero: lr.nonZero, seconds: (performance.now() - t0) / 1000 };
}

async function runModel(o: PlantedBenchOptions, name: string, model: string, examples: number, heldOut: Batch[], trick?: HashTrick, epochs = o.epochs): Promise<ModelRun> {
  const t0 = performance.now();
  const stream = new PlantedCtr(o.stream);
  const res = await trainEpochs({
    model: { url: modelUrl(model), options: { sparseSlots: stream.slots, denseFeatureNames: stream.denseNames, ...o.modelOptions } },
    workers: o.workers,
    trainSource: () => trainBatches(o, examples, trick),
    heldOut: () => (trick ? heldOut.map((b) => trick.mapBatch(b)) : heldOut),
    epochs,
    scaleRegularizationByPass: o.passScaling,
    leaveOutRareIds: o.rareIds,
    onEpoch: (r) => o.log(`${name} @${examples}: pass ${r.epoch}: held-out AUC ${r.heldOutAuc.toFixed(4)}, log loss ${r.heldOutLoss.toFixed(4)}, calibration ${r.calibration.toFixed(3)}, train loss ${r.trainLoss.toFixed(4)}`),
  });
  const entries = Object.values(res.tables).reduce((a, t) => a + t.size, 0);
  const r = res.dense.params.findIndex((p) => p.name.endsWith('pair_weights'));
  const strongestPairs = r < 0 ? undefined : strongestOf(res.dense.weights[r]!, res.dense.params[r]!.shape[0]!);
  if (strongestPairs) o.log(`${name} @${examples}: strongest slot-pair weights ${strongestPairs}`);
  return { name, examples, epochs: res.epochs, entries, seconds: (performance.now() - t0) / 1000, strongestPairs };
}

/** The 4 strongest field-pair weights |r_ij| of a FieldWeightedFm; field i is slot C(i+1). */
function strongestOf(weights: Float32Array, fields: number): string {
  return rankPairWeights(weights, fields)
    .slice(0, 4)
    .map((p) => `C${p.i + 1}×C${p.j + 1} ${Math.abs(p.weight).toFixed(2)}`)
    .join(', ');
}

export async function run(opts: Partial<PlantedBenchOptions> = {}): Promise<{ reference: PlantedReference; sizes: SizeResult[]; markdown: string }> {
  const o: PlantedBenchOptions = { ...DEFAULTS, ...opts };
  const started = new Date();
  const t0 = performance.now();
  const stream = new PlantedCtr(o.stream);
  const rng = new Rng(mix(o.heldOutSeed));
  const heldOutRows = Array.from({ length: o.evalRows }, () => stream.sampleRow(rng));
  const reference = stream.referenceOn(heldOutRows);
  o.log(`held-out: Bayes AUC ${reference.bayesAuc.toFixed(4)}, no-interaction ceiling ${reference.noInteractionAuc.toFixed(4)}, CTR ${reference.ctr.toFixed(3)}`);
  const heldOut: Batch[] = [];
  for (let i = 0; i < heldOutRows.length; i += 2048) heldOut.push(stream.toBatch(heldOutRows.slice(i, i + 2048)));
  const sizes: SizeResult[] = [];
  for (const examples of o.examples) {
    const lr = runLr(o, examples, heldOutRows);
    o.log(`FTRL logistic regression @${examples}: AUC ${lr.auc.toFixed(4)}`);
    const ideal = new IdealLearner(o.stream, examples).auc(heldOutRows);
    o.log(`ideal per-id learner @${examples}: AUC ${ideal.firstOrder.toFixed(4)} without interactions, ${ideal.withPairs.toFixed(4)} with the planted pairs`);
    const runs: ModelRun[] = [];
    for (const m of o.models) runs.push(await runModel(o, m, m, examples, heldOut));
    if (o.hash && runs[0]) {
      const buckets = Math.max(1, Math.round(runs[0].entries / stream.slots));
      runs.push(await runModel(o, `${o.models[0]}, hash trick (same memory: ${buckets} rows/slot)`, o.models[0]!, examples, heldOut, new HashTrick({ buckets, seed: 0x5eed }), 1));
    }
    sizes.push({ examples, ideal, lr, runs });
    if (o.out) writeFileSync(o.out, render(o, reference, sizes, started, (performance.now() - t0) / 1000));
  }
  const markdown = render(o, reference, sizes, started, (performance.now() - t0) / 1000);
  return { reference, sizes, markdown };
}

function render(o: PlantedBenchOptions, ref: PlantedReference, sizes: SizeResult[], started: Date, wall: number): string {
  const f4 = (x: number) => x.toFixed(4);
  const stream = new PlantedCtr(o.stream);
  const lines = sizes.flatMap((s) => [
    `| ${s.examples.toLocaleString('en-US')} | ideal per-id learner without interactions (knows each slot's prior; reference, not trained) | ${f4(s.ideal.firstOrder)} | | | | | |`,
    `| ${s.examples.toLocaleString('en-US')} | ideal per-id learner with the planted pair factors (knows the pairs and the priors; reference, not trained) | ${f4(s.ideal.withPairs)} | | | | | |`,
    `| ${s.examples.toLocaleString('en-US')} | FTRL-Proximal logistic regression (α ${o.ftrl.alpha}, β ${o.ftrl.beta}, L1 ${o.ftrl.l1}, L2 ${o.ftrl.l2}; per example) | ${f4(s.lr.auc)} | | ${f4(s.lr.logLoss)} | | ${s.lr.nonZero.toLocaleString('en-US')} non-zero | ${s.lr.seconds.toFixed(0)} |`,
    ...s.runs.map((r) => {
      const [a, b] = r.epochs;
      return `| ${s.examples.toLocaleString('en-US')} | ${r.name} | ${f4(a!.heldOutAuc)} | ${b ? f4(b.heldOutAuc) : '–'} | ${f4(a!.heldOutLoss)} | ${a!.calibration.toFixed(3)} | ${r.entries.toLocaleString('en-US')} | ${r.seconds.toFixed(0)} |`;
    }),
  ]);
  const pairsFound = sizes.flatMap((s) => s.runs.filter((r) => r.strongestPairs).map((r) => `${r.name} @${s.examples.toLocaleString('en-US')}: ${r.strongestPairs}`));
  return `# Learning quality on the harder planted stream (bench/learning-quality.ts)

Command: \`node dist/bench/learning-quality.js --examples ${o.examples.join(',')} --epochs ${o.epochs} --models ${o.models.join(',')}${o.hash ? '' : ' --no-hash'}${o.passScaling ? '' : ' --no-pass-scaling'}${o.rareIds === DEFAULT_RARE_ID_COUNT ? '' : ` --rare-ids ${o.rareIds}`}\` — ${started.toISOString()}, ${wall.toFixed(0)} s wall on a busy shared 2-core machine
(the times are not comparable between runs), ${o.workers} worker(s), batches of ${o.batchSize}.

Stream: \`PlantedCtr\` ${JSON.stringify(o.stream)}: ${stream.slots} slots (vocabularies ${Math.min(...stream.vocabs).toLocaleString('en-US')}–${Math.max(...stream.vocabs).toLocaleString('en-US')} ids, Zipf(1.1);
${stream.multiValued.filter(Boolean).length} multi-valued with 0–5 ids), ${stream.denseNames.length} standardized log-normal dense features, FM terms planted on slot pairs
${stream.pairs.map(([a, b]) => `C${a + 1}×C${b + 1}`).join(', ')} of the ${(stream.slots * (stream.slots - 1)) / 2} candidates. Held-out: ${o.evalRows.toLocaleString('en-US')} rows drawn apart from the training rows.

**Bayes AUC ${f4(ref.bayesAuc)}** (the planted probabilities; log loss ${f4(ref.bayesLogLoss)}); **no-interaction ceiling ${f4(ref.noInteractionAuc)}** (the planted logit with
each pair term replaced by its additive part — what a model without interactions reaches with unlimited rows); positive rate ${ref.ctr.toFixed(3)}.
The *ideal per-id learner* row is a reference for a finite number of rows: each planted id weight seen through the noise of its
occurrences in the training rows and shrunk by its slot's true prior (the posterior mean): about the best a model without
interactions can do from these rows (an approximation: Gaussian noise of variance 1/(n·0.16), dense weights exact). The
row *with the planted pair factors* estimates each planted factor of an id the same way, as if its partner's were known.

Every model runs with its shipped defaults (LEARNING_DEFAULTS in src/model/models/learning-defaults.ts), through \`trainEpochs\`
(src/graph/epoch-training.ts): ${o.epochs} pass(es) over the same rows, held-out evaluation after each. The logistic regression sees the same rows once.

| train examples | model | held-out AUC, pass 1 | pass 2 | log loss, pass 1 | calibration (mean p / CTR), pass 1 | table entries | s |
| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |
${lines.join('\n')}
${pairsFound.length ? `\nStrongest learnt slot-pair weights |r| after the last pass (planted: ${stream.pairs.map(([a, b]) => `C${a + 1}×C${b + 1}`).join(', ')}): ${pairsFound.join('; ')}.\n` : ''}
The hash-trick run makes one pass. It maps each FID to \`slot | hash(fid) mod B\` (src/hashtable/hash-trick.ts) with B = (entries of the collisionless DeepFM run) / ${stream.slots}.
`;
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain) {
  const args = process.argv.slice(2);
  const arg = (name: string): string | undefined => (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1] : undefined);
  const res = await run({
    ...(args.includes('--quick') ? QUICK : {}),
    ...(arg('examples') ? { examples: arg('examples')!.split(',').map(Number) } : {}),
    ...(arg('epochs') ? { epochs: Number(arg('epochs')) } : {}),
    ...(arg('models') ? { models: arg('models')!.split(',') } : {}),
    ...(arg('workers') ? { workers: Number(arg('workers')) } : {}),
    ...(arg('eval-rows') ? { evalRows: Number(arg('eval-rows')) } : {}),
    ...(arg('model-options') ? { modelOptions: JSON.parse(arg('model-options')!) as Record<string, unknown> } : {}),
    ...(arg('ftrl') ? { ftrl: JSON.parse(arg('ftrl')!) as FtrlLogisticOptions } : {}),
    ...(args.includes('--no-hash') ? { hash: false } : {}),
    ...(args.includes('--no-pass-scaling') ? { passScaling: false } : {}),
    ...(arg('rare-ids') ? { rareIds: Number(arg('rare-ids')) } : {}),
    ...(arg('out') ? { out: arg('out') } : {}),
  });
  process.stdout.write(res.markdown);
}
