import test from 'ava';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TestScheduler } from 'rxjs/testing';
// Through the package entry, as users import it.
import { fitCallbacks, initBackend, stepResult, tensorBoard, train, type Logs, type TrainCallbacks } from 'monolith-ts';
import { Rng } from '../../src/util/random.js';
import { tempDir } from '../helpers.js';
import { tinyBatch } from '../workers/fixtures/tiny-batches.js';

const MODEL_URL = new URL('../workers/fixtures/tiny-model.js', import.meta.url).href;

// ---- An independent reader of TensorFlow event files: TFRecord framing and the
// protobuf wire format by hand, field numbers from TensorFlow's event.proto and summary.proto.
function* tfrecords(buf: Buffer): Generator<Buffer> {
  for (let at = 0; at < buf.length; ) {
    const len = Number(buf.readBigUInt64LE(at));
    yield buf.subarray(at + 12, at + 12 + len);
    at += 12 + len + 4;
  }
}
type Field = { no: number; wire: number; v: bigint | Buffer | number };
function fields(b: Buffer): Field[] {
  const out: Field[] = [];
  let i = 0;
  const varint = () => {
    let x = 0n;
    for (let s = 0n; ; s += 7n) {
      const c = b[i++]!;
      x |= BigInt(c & 0x7f) << s;
      if (c < 0x80) return x;
    }
  };
  while (i < b.length) {
    const key = Number(varint());
    const no = key >> 3;
    const wire = key & 7;
    if (wire === 0) out.push({ no, wire, v: varint() });
    else if (wire === 1) out.push({ no, wire, v: b.readDoubleLE((i += 8) - 8) });
    else if (wire === 5) out.push({ no, wire, v: b.readFloatLE((i += 4) - 4) });
    else if (wire === 2) {
      const n = Number(varint());
      out.push({ no, wire, v: b.subarray(i, (i += n)) });
    } else throw new Error(`wire type ${wire}`);
  }
  return out;
}
const packedDoubles = (b: Buffer) => Array.from({ length: b.length / 8 }, (_, k) => b.readDoubleLE(8 * k));
interface Histo { min: number; max: number; num: number; sum: number; limits: number[]; counts: number[] }
interface Ev { wallTime: number; step: number; fileVersion?: string; scalars: Record<string, number>; histos: Record<string, Histo> }
function decodeEvent(rec: Buffer): Ev {
  const ev: Ev = { wallTime: 0, step: 0, scalars: {}, histos: {} };
  for (const f of fields(rec)) {
    if (f.no === 1) ev.wallTime = f.v as number; // wall_time double
    if (f.no === 2) ev.step = Number(f.v); // step int64
    if (f.no === 3) ev.fileVersion = String(f.v); // file_version
    if (f.no === 5) // summary
      for (const v of fields(f.v as Buffer).filter((x) => x.no === 1)) {
        const vf = fields(v.v as Buffer);
        const tag = String(vf.find((x) => x.no === 1)!.v);
        const simple = vf.find((x) => x.no === 2);
        if (simple) ev.scalars[tag] = simple.v as number;
        const histo = vf.find((x) => x.no === 5);
        if (histo) {
          const h: Histo = { min: 0, max: 0, num: 0, sum: 0, limits: [], counts: [] };
          for (const x of fields(histo.v as Buffer)) {
            if (x.no === 1) h.min = x.v as number;
            if (x.no === 2) h.max = x.v as number;
            if (x.no === 3) h.num = x.v as number;
            if (x.no === 4) h.sum = x.v as number;
            if (x.no === 6) h.limits = packedDoubles(x.v as Buffer);
            if (x.no === 7) h.counts = packedDoubles(x.v as Buffer);
          }
          ev.histos[tag] = h;
        }
      }
  }
  return ev;
}

const source = (n: number) => {
  const rng = new Rng(7);
  return Array.from({ length: n }, () => tinyBatch(rng, 32));
};
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

test.before(async () => {
  await initBackend('cpu');
});

test('train(): TensorBoard event files, tfjs-style callbacks in order, History per epoch', async (t) => {
  const logdir = join(await tempDir(), 'runs', 'tiny');
  const calls: string[] = [];
  const batchLosses: number[] = [];
  const epochLogs: Logs[] = [];
  const callbacks: TrainCallbacks = {
    onTrainBegin: () => void calls.push('trainBegin'),
    onEpochBegin: (e) => void calls.push(`epochBegin ${e}`),
    onBatchEnd: (b, logs) => {
      calls.push(`batch ${b}`);
      batchLosses.push(logs.loss!);
    },
    // async: awaited before the next step is handed on
    onEpochEnd: async (e, logs) => {
      await new Promise((r) => setImmediate(r));
      calls.push(`epochEnd ${e}`);
      epochLogs.push(logs);
    },
    onTrainEnd: (logs) => void calls.push(`trainEnd ${logs.examples}`),
  };
  let clock = 1_700_000_000_000; // injected wall clock (ms): 4 ms per reading
  const summary = await train({
    model: { url: MODEL_URL, options: { seed: 1 } },
    source: source(25),
    workers: 0,
    deterministic: true,
    progress: false,
    callbacks,
    stepsPerEpoch: 10,
    sinks: [tensorBoard({ logdir, everySteps: 5, histogramEverySteps: 10, now: () => (clock += 4) })],
  });
  t.is(summary.steps, 25);

  // callbacks: order, and epochs of 10, 10 and 5 steps
  const expected = ['trainBegin'];
  for (const [e, n] of [[0, 10], [1, 10], [2, 5]] as const) {
    expected.push(`epochBegin ${e}`, ...Array.from({ length: n }, (_, b) => `batch ${b}`), `epochEnd ${e}`);
  }
  expected.push(`trainEnd ${25 * 32}`);
  t.deepEqual(calls, expected);

  // History: one entry per epoch, the mean of its steps' losses
  t.deepEqual(summary.history.epoch, [0, 1, 2]);
  const lossPerEpoch = [mean(batchLosses.slice(0, 10)), mean(batchLosses.slice(10, 20)), mean(batchLosses.slice(20))];
  summary.history.history.loss!.forEach((l, i) => t.true(Math.abs(l - lossPerEpoch[i]!) < 1e-9));
  t.deepEqual(summary.history.history.examples, [320, 320, 160]);
  t.is(summary.history.history.auc!.length, 3);
  t.true(summary.history.history.auc!.every((a) => a > 0 && a < 1));
  t.deepEqual(epochLogs.map((l) => l.loss), summary.history.history.loss);

  // the event file, read with the hand decoder above
  const files = await readdir(logdir);
  t.is(files.length, 1);
  t.regex(files[0]!, /^events\.out\.tfevents\.\d+\.[^.]+\.\d+\.\d+$/);
  const events = [...tfrecords(await readFile(join(logdir, files[0]!)))].map(decodeEvent);
  t.is(events[0]!.fileVersion, 'brain.Event:2');
  t.is(events[0]!.wallTime, 1_700_000_000.004);
  t.true(events.every((e, i) => i === 0 || e.wallTime > events[i - 1]!.wallTime), 'wall times from the injected clock, increasing');
  const scalarEvents = events.filter((e) => 'loss' in e.scalars);
  t.deepEqual(scalarEvents.map((e) => e.step), [5, 10, 15, 20, 25], 'every 5 steps');
  scalarEvents.forEach((e, k) => t.true(Math.abs(e.scalars.loss! - mean(batchLosses.slice(5 * k, 5 * k + 5))) < 1e-6, `loss at ${e.step}`));
  t.is(scalarEvents[0]!.scalars.examples_per_sec, (5 * 32 * 1000) / 4, '160 examples in the 4 ms between two clock readings');
  for (const e of scalarEvents) {
    t.true(e.scalars['auc/ctr']! > 0 && e.scalars['auc/ctr']! < 1);
    t.true(e.scalars.examples_per_sec! > 0);
    t.true(Math.abs(e.scalars['learning_rate/even']! - 0.1) < 1e-7, JSON.stringify(e.scalars));
    t.true(e.scalars['table_size/even']! > 0 && e.scalars['table_size/odd']! > 0);
  }
  const histEvents = events.filter((e) => Object.keys(e.histos).length);
  t.deepEqual(histEvents.map((e) => e.step), [10, 20, 25], 'every 10 steps and at the end');
  const last = histEvents.at(-1)!.histos['embedding_norm/even']!;
  t.is(last.num, scalarEvents.at(-1)!.scalars['table_size/even']!, 'one norm per embedding');
  t.is(last.counts.reduce((a, b) => a + b, 0), last.num);
  t.true(last.min > 0 && last.min <= last.max);
  t.true(last.limits.every((l, i) => i === 0 || l > last.limits[i - 1]!) && last.limits.at(-1)! >= last.max);
});

test('train() shows a progress line when asked and stays quiet by default off a terminal', async (t) => {
  const write = process.stderr.write.bind(process.stderr);
  let err = '';
  process.stderr.write = ((s: string | Uint8Array) => ((err += String(s)), true)) as typeof process.stderr.write;
  try {
    await train({ model: { url: MODEL_URL, options: { seed: 1 } }, source: source(4), workers: 0 });
    t.is(err, '', 'stderr is not a terminal here');
    await train({ model: { url: MODEL_URL, options: { seed: 1 } }, source: source(4), workers: 0, progress: true });
  } finally {
    process.stderr.write = write;
  }
  t.regex(err, /step 4 {2}[\d,]+ examples\/s {2}loss \d\.\d{4} {2}auc /);
});

test('fitCallbacks in a marble test with stepResult()', (t) => {
  const scheduler = new TestScheduler((a, b) => t.deepEqual(a, b));
  scheduler.run(({ cold, expectObservable }) => {
    const values = {
      a: stepResult({ step: 1, loss: 1, examples: 2 }),
      b: stepResult({ step: 2, loss: 3, examples: 2 }),
      c: stepResult({ step: 3, loss: 5, examples: 4, metrics: { mae: 2 } }),
    };
    const fit = fitCallbacks({ stepsPerEpoch: 2 });
    expectObservable(cold('a-b-c|', values).pipe(fit)).toBe('a-b-c|', values);
    scheduler.flush();
    t.deepEqual(fit.history, { epoch: [0, 1], history: { examples: [4, 4], loss: [2, 5], mae: [2] } });
  });
});
