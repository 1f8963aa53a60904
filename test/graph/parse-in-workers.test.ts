import test from 'ava';
import { lastValueFrom, tap, toArray } from 'rxjs';
// Through the package entry, as a user reaches the feature.
import {
  ConfigError,
  FormatError,
  frameRecords,
  initBackend,
  PipelineError,
  SyntheticCtr,
  timedParse,
  TrainingPipeline,
  unframeRecords,
  workerRecordParser,
  RecordParser,
  type RecordBatch,
  type StepResult,
} from 'monolith-ts';
import type { TinyModelOptions } from '../workers/fixtures/tiny-model.js';

const MODEL_URL = new URL('../workers/fixtures/tiny-model.js', import.meta.url).href;
const model = (options: TinyModelOptions = { seed: 1 }) => ({ url: MODEL_URL, options: options as Record<string, unknown> });

test.before(async () => {
  await initBackend('cpu');
});

/** Batches of serialized Instances with the tiny model's columns: slots 1 and 2, a 2-wide dense input. */
function recordBatches(seed: number, n: number, rows = 16): { ctr: SyntheticCtr; batches: Uint8Array[][] } {
  const ctr = new SyntheticCtr({ seed, sparseSlots: 2, denseFeatures: 2, vocabSize: 50, interactions: 0 });
  let uid = 0;
  return { ctr, batches: Array.from({ length: n }, () => Array.from({ length: rows }, () => ctr.toInstance(ctr.sampleRow(), uid++))) };
}

async function runAll(p: TrainingPipeline): Promise<StepResult[]> {
  try {
    return await lastValueFrom(p.run().pipe(toArray()));
  } finally {
    await p.close();
  }
}

test('frameRecords / unframeRecords: records and their file offsets round-trip as views; a frame whose record ends past its bytes is a FormatError naming the byte', (t) => {
  const recs = [Uint8Array.of(1, 2, 3), new Uint8Array(0), Uint8Array.of(9)];
  const back = unframeRecords(frameRecords(recs, [100, 103, 103]));
  t.deepEqual(back.records.map((r) => Array.from(r)), [[1, 2, 3], [], [9]]);
  t.deepEqual(back.offsets, [100, 103, 103]);
  t.is(unframeRecords(frameRecords(recs)).offsets, undefined);
  const bad = frameRecords(recs);
  new Uint32Array(bad, 8, 3)[1] = 1000; // record 1 claims to end far past the 4 bytes of data
  const err = t.throws(() => unframeRecords(bad), { instanceOf: FormatError });
  t.is(err.offset, 12);
  t.regex(err.message, /record 1 ends at 1000/);
  t.throws(() => unframeRecords(new SharedArrayBuffer(4)), { instanceOf: FormatError, message: /too short/ });
  const huge = new SharedArrayBuffer(8);
  new Uint32Array(huge)[0] = 0xffffffff; // a count no header fits: refused before any view is made
  t.throws(() => unframeRecords(huge), { instanceOf: FormatError, message: /header/ });
});

test('parseInWorkers: 2 workers parsing their own records train exactly as the main thread parsing them (deterministic), with the parse time measured in the worker and every batch acked after its step', async (t) => {
  const { ctr, batches } = recordBatches(4, 8);
  const acked: number[] = [];
  const source: RecordBatch[] = batches.map((records, i) => ({ records, ack: () => acked.push(i) }));
  const inWorkers = await TrainingPipeline.create({ model: model(), source, workers: 2, deterministic: true, parseInWorkers: workerRecordParser(ctr.parseConfig, 'instance') });
  t.regex(inWorkers.describe(), /2 worker\(s\) parsing their batches/);
  const a = await runAll(inWorkers);

  const parser = new RecordParser(ctr.parseConfig, { variant: 'instance' });
  const onMain = await TrainingPipeline.create({ model: model(), source: batches, workers: 2, deterministic: true, before: [{ name: 'parse', op: timedParse((recs: Uint8Array[]) => parser.parse(recs)), kind: 'parse' }] });
  const b = await runAll(onMain);

  t.is(a.length, 8);
  t.deepEqual(acked, [0, 1, 2, 3, 4, 5, 6, 7]);
  t.deepEqual(a.map((r) => r.loss), b.map((r) => r.loss));
  t.deepEqual(Array.from(inWorkers.dense.flatState), Array.from(onMain.dense.flatState));
  t.is(inWorkers.tables.even!.size, onMain.tables.even!.size);
  t.true(a.every((r) => typeof r.timings!.parse === 'number' && r.timings!.parse >= 0 && r.worker !== undefined && r.worker > 0), 'parsed and run in a worker thread');
  t.deepEqual(Array.from(a[3]!.labels!), Array.from(b[3]!.labels!));
});

test('parseInWorkers with workers: 0 parses in this thread and gives the same training as in 2 workers', async (t) => {
  const { ctr, batches } = recordBatches(5, 5);
  const ref = workerRecordParser(ctr.parseConfig, 'instance');
  const local = await TrainingPipeline.create({ model: model(), source: batches, workers: 0, deterministic: true, parseInWorkers: ref });
  const pooled = await TrainingPipeline.create({ model: model(), source: batches, workers: 2, backend: 'cpu', deterministic: true, parseInWorkers: ref });
  const a = await runAll(local);
  const b = await runAll(pooled);
  t.deepEqual(a.map((r) => r.loss), b.map((r) => r.loss));
  t.true(a.every((r) => typeof r.timings!.parse === 'number'));
});

test('parseInWorkers: a damaged record fails the step with a FormatError (its class kept across the thread) naming the file and the record\'s byte offset', async (t) => {
  const { ctr, batches } = recordBatches(6, 3);
  const broken = batches[1]!.map((r) => r.slice());
  broken[2] = Uint8Array.of(0x0a, 0x7f, 1); // field 1, length 127, 1 byte left
  const offsets = broken.map((_, i) => 5000 + 40 * i);
  const source: RecordBatch[] = [{ records: batches[0]! }, { records: broken, file: 'part-0001.rec', offsets }, { records: batches[2]! }];
  const p = await TrainingPipeline.create({ model: model(), source, workers: 2, deterministic: true, parseInWorkers: workerRecordParser(ctr.parseConfig, 'instance') });
  const seen: number[] = [];
  const err = await t.throwsAsync(lastValueFrom(p.run().pipe(tap((r) => seen.push(r.step)))), { instanceOf: PipelineError });
  await p.close();
  t.deepEqual(seen, [1], 'the batch before the damaged one was trained');
  const cause = (err as PipelineError).original;
  t.true(cause instanceof FormatError, `got ${String(cause)}`);
  t.is((cause as FormatError).file, 'part-0001.rec');
  t.true((cause as FormatError).offset! >= 5080 && (cause as FormatError).offset! < 5120, `offset ${(cause as FormatError).offset}`);
});

test('parseInWorkers refuses keepBatch (the batch never exists in this thread) and items that are neither records nor batches', async (t) => {
  const { ctr, batches } = recordBatches(7, 1);
  const ref = workerRecordParser(ctr.parseConfig, 'instance');
  await t.throwsAsync(TrainingPipeline.create({ model: model(), source: batches, workers: 1, keepBatch: true, parseInWorkers: ref }), { instanceOf: ConfigError, message: /keepBatch/ });
  // Refused before anything connects: no Redis listens on port 1.
  await t.throwsAsync(TrainingPipeline.create({ model: model(), source: batches, workers: 1, redis: { nodes: ['127.0.0.1:1'] }, parseInWorkers: ref }), { instanceOf: ConfigError, message: /parseInWorkers does not go with redis/ });
  const p = await TrainingPipeline.create({ model: model(), source: [{ lines: ['not a record'] }], workers: 0, parseInWorkers: ref });
  const err = await t.throwsAsync(lastValueFrom(p.run()), { instanceOf: PipelineError });
  await p.close();
  t.true((err as PipelineError).original instanceof ConfigError);
});
