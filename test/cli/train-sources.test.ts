import test from 'ava';
import Kafka from 'node-rdkafka';
import { join } from 'node:path';
import { writeTFRecords } from '../../src/io/tfrecord.js';
import { tempDir } from '../helpers.js';
import { startMockKafka } from '../streams/sinks/kafka-mock.js';
import { cli } from './cli-run.js';
import { plantedInstances } from './planted-records.js';

const MODEL = ['--model-module', 'monolith-ts/models/deepfm', '--model-options', '{"hidden":[8],"embeddingDim":4}'];
const FEATURES = ['--slots', '1..26', '--dense-group', 'dense=dense_0..dense_12'];

test.serial('train reads a TFRecord file with --layout tfrecord, every record, --epochs times', async (t) => {
  const dir = await tempDir();
  const file = join(dir, 'data.tfrecord');
  await writeTFRecords(file, plantedInstances(130).payloads);
  const r = await cli('train', ...MODEL, '--model-dir', join(dir, 'm'), '--data', file, '--layout', 'tfrecord', ...FEATURES, '--workers', '0', '--batch-size', '50', '--epochs', '2');
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, new RegExp(`read 130 records from ${file} \\(epoch 1\\)\nread 130 records from ${file} \\(epoch 2\\)`));
  t.regex(r.stdout, /trained 6 steps, 260 examples/);
  // The same file read as a Monolith record file is an error naming it, not garbage rows.
  const bad = await cli('train', ...MODEL, '--model-dir', join(dir, 'm2'), '--data', file, '--layout', 'plain', ...FEATURES);
  t.is(bad.code, 1);
  t.regex(bad.stderr, new RegExp(`FormatError: ${file}, byte \\d+, field size: .*\\(read with --layout plain; is that how the file is framed\\?\\)`));
});

test.serial('train --epochs 2 trains the second pass with the L2 regularization doubled and without the ids seen rarely in the first: not the same as reading the file twice in one pass; the same when the worker parses the records', async (t) => {
  const dir = await tempDir();
  const file = join(dir, 'data.tfrecord');
  const heldOut = join(dir, 'held-out.tfrecord');
  await writeTFRecords(file, plantedInstances(300).payloads);
  await writeTFRecords(heldOut, plantedInstances(200, 7).payloads);
  const trainAndEval = async (name: string, ...flags: string[]): Promise<{ loss: number; stdout: string }> => {
    const r = await cli('train', ...MODEL, '--model-dir', join(dir, name), '--layout', 'tfrecord', ...FEATURES, '--batch-size', '50', '--deterministic', ...flags);
    t.is(r.code, 0, r.stderr);
    t.regex(r.stdout, /trained 12 steps, 600 examples/);
    const ev = await cli('eval', '--model-dir', join(dir, name), '--data', heldOut, '--json');
    return { loss: (JSON.parse(ev.stdout) as { loss: number }).loss, stdout: r.stdout };
  };
  const twoPasses = await trainAndEval('passes', '--data', file, '--epochs', '2', '--workers', '0');
  t.regex(twoPasses.stdout, /passes after the first leave out the ids seen at most 8 time\(s\) in the first/);
  const onePassTwice = await trainAndEval('twice', '--data', file, file, '--workers', '0');
  t.not(twoPasses.loss, onePassTwice.loss);
  // With a worker thread, this thread parses the first pass and counts its ids; the worker parses the second and
  // leaves the rare ids out itself: the same training.
  const withWorker = await trainAndEval('worker', '--data', file, '--epochs', '2', '--workers', '1');
  t.regex(withWorker.stdout, /1 worker thread\(s\) parsing their own batches from the second pass on \(this thread parses the first and counts its ids\)/);
  t.is(withWorker.loss, twoPasses.loss);
  // Every id in every pass: a different model, and the worker parses the records itself.
  const everyId = await trainAndEval('every-id', '--data', file, '--epochs', '2', '--workers', '0', '--leave-out-rare-ids', '0');
  t.notRegex(everyId.stdout, /leave out/);
  t.not(everyId.loss, twoPasses.loss);
  const everyIdInWorker = await trainAndEval('every-id-worker', '--data', file, '--epochs', '2', '--workers', '1', '--leave-out-rare-ids', '0');
  t.regex(everyIdInWorker.stdout, /1 worker thread\(s\) parsing their own batches,/);
  t.is(everyIdInWorker.loss, everyId.loss);
  const onePass = await cli('train', ...MODEL, '--model-dir', join(dir, 'one'), '--layout', 'tfrecord', ...FEATURES, '--data', file, '--leave-out-rare-ids', '3');
  t.is(onePass.code, 1);
  t.regex(onePass.stderr, /--leave-out-rare-ids acts on the passes after the first: it goes with --epochs above 1/);
});

test.serial('train reads a Kafka topic (librdkafka mock cluster), one Instance per message, until --max-steps', async (t) => {
  const kafka = await startMockKafka();
  const producer = new Kafka.Producer({ 'bootstrap.servers': kafka.bootstrap } as Kafka.ProducerGlobalConfig);
  try {
    await new Promise<void>((res, rej) => producer.connect({}, (err) => (err ? rej(err) : res())));
    for (const p of plantedInstances(300).payloads) producer.produce('clicks', 0, Buffer.from(p), null);
    await new Promise<void>((res, rej) => producer.flush(10_000, (err) => (err ? rej(err) : res())));
    const dir = await tempDir();
    const r = await cli('train', ...MODEL, '--model-dir', join(dir, 'm'), '--kafka-brokers', kafka.bootstrap, '--topic', 'clicks', '--layout', 'message', ...FEATURES, '--workers', '0', '--batch-size', '100', '--max-steps', '3');
    t.is(r.code, 0, r.stderr);
    t.regex(r.stdout, /training deepfm on Kafka topic clicks/);
    t.regex(r.stdout, /trained 3 steps, 300 examples, global step 3/);
    // With a worker thread, the worker parses the messages: the same training (one partition, one batch in flight).
    const w = await cli('train', ...MODEL, '--model-dir', join(dir, 'w'), '--kafka-brokers', kafka.bootstrap, '--topic', 'clicks', '--group-id', 'workers', '--layout', 'message', ...FEATURES, '--workers', '1', '--deterministic', '--batch-size', '100', '--max-steps', '3');
    t.is(w.code, 0, w.stderr);
    t.regex(w.stdout, /1 worker thread\(s\) parsing their own batches/);
    const data = join(dir, 'held-out.tfrecord');
    await writeTFRecords(data, plantedInstances(200, 7).payloads);
    const evalOf = async (m: string) => JSON.parse((await cli('eval', '--model-dir', join(dir, m), '--data', data, '--layout', 'tfrecord', '--json')).stdout) as { loss: number };
    t.is((await evalOf('w')).loss, (await evalOf('m')).loss);
    // A damaged message parsed in the worker fails training, naming the topic, partition and offset.
    const payloads = plantedInstances(120).payloads;
    payloads[70] = Uint8Array.of(0x0a, 0x7f, 1);
    for (const p of payloads) producer.produce('broken', 0, Buffer.from(p), null);
    await new Promise<void>((res, rej) => producer.flush(10_000, (err) => (err ? rej(err) : res())));
    const bad = await cli('train', ...MODEL, '--model-dir', join(dir, 'b'), '--kafka-brokers', kafka.bootstrap, '--topic', 'broken', '--layout', 'message', ...FEATURES, '--workers', '1', '--batch-size', '50', '--max-steps', '3');
    t.is(bad.code, 1);
    t.regex(bad.stderr, /FormatError: kafka:broken\/0@70\b/);
  } finally {
    await new Promise<void>((res) => producer.disconnect(5000, () => res()));
    await kafka.close();
  }
});

test.serial('train --eval-data evaluates every pass, keeps the best pass as the checkpoint, and eval reads that one', async (t) => {
  const dir = await tempDir();
  const data = join(dir, 'train.tfrecord');
  const heldOut = join(dir, 'held-out.tfrecord');
  const all = plantedInstances(400).payloads;
  await writeTFRecords(data, all.slice(0, 300));
  await writeTFRecords(heldOut, all.slice(300));
  const model = join(dir, 'm');
  const r = await cli('train', ...MODEL, '--model-dir', model, '--data', data, '--eval-data', heldOut, '--layout', 'tfrecord', ...FEATURES, '--workers', '0', '--batch-size', '50', '--epochs', '3', '--deterministic');
  t.is(r.code, 0, r.stderr);
  const epochs = [...r.stdout.matchAll(/^epoch (\d): train loss [\d.]+, held-out loss [\d.]+, auc ([\d.]+), calibration [\d.]+/gm)];
  t.deepEqual(epochs.map((m) => Number(m[1])), [1, 2, 3]);
  const best = /best pass (\d) \(held-out auc ([\d.]+), global step (\d+)\)/.exec(r.stdout);
  t.truthy(best, r.stdout);
  const aucs = epochs.map((m) => Number(m[2]));
  t.is(Number(best![2]), Math.max(...aucs));
  t.is(Number(best![3]), Number(best![1]) * 6, 'the kept checkpoint is the best pass, 6 steps a pass');
  // eval on the held-out file reads the kept checkpoint and sees the same AUC
  const ev = await cli('eval', '--model-dir', model, '--data', heldOut, '--json');
  t.is(ev.code, 0, ev.stderr);
  const summary = JSON.parse(ev.stdout) as { globalStep?: number; heads: Record<string, { auc: number }> };
  t.is(Object.values(summary.heads)[0]!.auc.toFixed(4), best![2]);
  // --patience without --eval-data is a mistake, said before anything trains
  const bad = await cli('train', ...MODEL, '--model-dir', join(dir, 'm2'), '--data', data, '--layout', 'tfrecord', ...FEATURES, '--patience', '1');
  t.is(bad.code, 1);
  t.regex(bad.stderr, /--patience needs --eval-data/);
});
