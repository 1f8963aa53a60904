import test from 'ava';
import { join } from 'node:path';
import { lastValueFrom } from 'rxjs';
import { LockHolderDiedError, PipelineError, StepTimeoutError, TrainingPipeline, WorkerCrashError, type PipelineOptions } from 'monolith-ts';
import { Rng } from '../../src/util/random.js';
import { initBackend } from '../../src/workers/tf-backend.js';
import { tempDir } from '../helpers.js';
import type { FailingModelOptions } from '../workers/fixtures/failing-model.js';
import { tinyBatch } from '../workers/fixtures/tiny-batches.js';

// Every case here used to hang or crash the process; each is bounded by the ava timeout
// below and waits only for the real failure (no sleeps).
const FAILING = new URL('../workers/fixtures/failing-model.js', import.meta.url).href;
const UNIMPORTABLE = new URL('../workers/fixtures/unimportable-model.js', import.meta.url).href;

test.before(async () => {
  await initBackend('cpu');
});

function* endless() {
  const rng = new Rng(5);
  for (;;) yield tinyBatch(rng, 8);
}

let uncaught: unknown[] = [];
process.on('uncaughtException', (err) => uncaught.push(err));
test.beforeEach(() => {
  uncaught = [];
});

async function failingRun(failure: FailingModelOptions['failure'], extra: Partial<PipelineOptions> = {}, atError: () => number = () => 0) {
  const dir = await tempDir();
  const options: FailingModelOptions = { seed: 1, failure, claimDir: join(dir, 'claim') };
  const p = await TrainingPipeline.create({ model: { url: FAILING, options: options as unknown as Record<string, unknown> }, source: endless, workers: 2, ...extra });
  let savedAtError = -1;
  const err = await lastValueFrom(p.run()).then(
    () => undefined,
    (e: unknown) => ((savedAtError = atError()), e),
  );
  await p.close();
  return { err, p, dir, savedAtError };
}

test.serial('a worker that dies holding a shard lock (terminated after a step timeout): the other worker, the waiting checkpoint and close() all end; the lock names its dead holder', async (t) => {
  t.timeout(60_000);
  const ckpt = await tempDir();
  const saved: number[] = [];
  const { err, p, savedAtError } = await failingRun('hold-lock-and-hang', { stepTimeoutMs: 3_000, checkpoint: { dir: ckpt, everySteps: 1, listeners: [{ afterSave: (_p, step) => void saved.push(step) }] } }, () => saved.length);
  t.true(err instanceof PipelineError, String(err));
  const original = (err as PipelineError).original;
  t.true(original instanceof StepTimeoutError || original instanceof LockHolderDiedError || /died holding it/.test(String((original as Error).message)), String(original));
  const holder = p.tables.even!.heldLocks()[0];
  t.truthy(holder, 'the shard lock stays marked with its dead holder');
  t.throws(() => p.tables.even!.forEachEntry(holder!.shard, () => undefined), { instanceOf: LockHolderDiedError, message: new RegExp(`thread ${holder!.thread}, which died holding it`) });
  // The step already running when the failure came ended without starting another one.
  t.is(p.gate.inside, 0);
  t.is(saved.length, savedAtError, 'no checkpoint was written after the failure');
  t.deepEqual(uncaught, []);
});

test.serial('a step that never ends: stepTimeoutMs turns it into a PipelineError naming the thread (StepTimeoutError)', async (t) => {
  t.timeout(60_000);
  const { err } = await failingRun('hang', { stepTimeoutMs: 2_000 });
  t.true(err instanceof PipelineError);
  const original = (err as PipelineError).original;
  t.true(original instanceof StepTimeoutError, String(original));
  t.is((original as StepTimeoutError).threadIds.length, 1);
  t.regex((err as Error).message, /worker thread \d+ ran a train step for more than 2000 ms and was terminated/);
  t.deepEqual(uncaught, []);
});

test.serial('a worker out of heap (resourceLimits) is a WorkerCrashError naming the thread', async (t) => {
  t.timeout(60_000);
  const { err } = await failingRun('oom', { workerResourceLimits: { maxOldGenerationSizeMb: 64 } });
  t.true(err instanceof PipelineError);
  const original = (err as PipelineError).original as WorkerCrashError;
  t.true(original instanceof WorkerCrashError, String(original));
  t.is(original.threadIds.length, 1);
  t.regex(original.message, new RegExp(`worker thread ${original.threadIds[0]} died during a train step: .*memory`, 'i'));
  t.deepEqual(uncaught, []);
});

test.serial('a worker calling process.exit is a WorkerCrashError naming the thread and the exit code', async (t) => {
  t.timeout(60_000);
  const { err } = await failingRun('exit');
  const original = (err as PipelineError).original as WorkerCrashError;
  t.true(original instanceof WorkerCrashError, String(original));
  t.regex(original.message, new RegExp(`worker thread ${original.threadIds[0]} died during a train step: worker exited with code: 3`));
  t.deepEqual(uncaught, []);
});

test.serial('a model module that throws while a worker imports it is a WorkerCrashError naming the thread; nothing is thrown uncaught', async (t) => {
  t.timeout(60_000);
  for (let run = 0; run < 3; run++) {
    const p = await TrainingPipeline.create({ model: { url: UNIMPORTABLE, options: { seed: 1 } }, source: endless, workers: 2 });
    const err = await lastValueFrom(p.run()).then(() => undefined, (e: unknown) => e);
    await p.close();
    const original = (err as PipelineError).original as WorkerCrashError;
    t.true(original instanceof WorkerCrashError, String(err));
    t.regex(original.message, /worker thread \d+ could not load the model: .*cannot be imported in a worker thread/);
  }
  // Give late Piscina messages of the closed pools a turn of the event loop to surface.
  await new Promise((r) => setImmediate(r));
  t.deepEqual(uncaught, []);
});

test.serial('an uncaught error inside a worker thread (thrown from a queued callback of the model) fails the pipeline with a WorkerCrashError naming the thread, not an uncaught exception', async (t) => {
  t.timeout(60_000);
  const { err } = await failingRun('throw-later');
  const original = (err as PipelineError).original as WorkerCrashError;
  t.true(original instanceof WorkerCrashError, String(err));
  t.regex(original.message, /worker thread \d+ died during a train step: a callback of the model threw/);
  await new Promise((r) => setImmediate(r));
  t.deepEqual(uncaught, []);
});

test.serial('a worker thread that fails while idle (between steps) is the pool\'s failure: the next run fails with a WorkerCrashError saying so, not an uncaught exception', async (t) => {
  t.timeout(60_000);
  const dir = await tempDir();
  const options: FailingModelOptions = { seed: 1, failure: 'throw-idle', claimDir: join(dir, 'claim') };
  const rng = new Rng(5);
  const p = await TrainingPipeline.create({ model: { url: FAILING, options: options as unknown as Record<string, unknown> }, source: [tinyBatch(rng, 8)], workers: 1 });
  const thread = p.pool!.threads[0]!;
  const exited = new Promise((r) => thread.once('exit', r));
  await lastValueFrom(p.run());
  // The thread dies after its step's result went out.
  await exited;
  const err = await lastValueFrom(p.run()).then(() => undefined, (e: unknown) => e);
  await p.close();
  const original = (err as PipelineError).original as WorkerCrashError;
  t.true(original instanceof WorkerCrashError, String(err));
  t.regex(original.message, /failed outside a step: .*the model threw while its thread was idle/);
  t.deepEqual(uncaught, []);
});

