/**
 * Real-time parameter sync through the CLI, as a user runs it: `train
 * --sync-topic` publishes to a librdkafka mock cluster on loopback, `serve
 * --sync-topic` (spawned) applies the updates, predictions are asked over
 * gRPC. A second training run changes what is served without a new export
 * being loaded; a replica restarted from the first export replays the topic
 * from the offsets that export recorded and ends equal to one that never stopped.
 */
import test from 'ava';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringTensor } from '../../src/export/warmup.js';
import { writeTFRecords } from '../../src/io/tfrecord.js';
import { loadExport } from '../../src/serving/load-export.js';
import { PredictionClient } from '../../src/serving/prediction-client.js';
import { tensorToNumbers } from '../../src/serving/tensor-proto.js';
import { ROOT, tempDir } from '../helpers.js';
import { startServe, type ServeProcess } from '../helpers/serve-process.js';
import { startMockKafka } from '../streams/sinks/kafka-mock.js';
import { cli } from './cli-run.js';
import { plantedInstances } from './planted-records.js';

const CLI = join(ROOT, 'dist', 'src', 'cli', 'main.js');
const MODEL = ['--model-module', 'monolith-ts/models/deepfm', '--model-options', '{"hidden":[8],"embeddingDim":4}'];
const FEATURES = ['--slots', '1..26', '--dense-group', 'dense=dense_0..dense_12', '--layout', 'tfrecord'];

async function served(client: PredictionClient, records: Uint8Array[]): Promise<{ version: number; values: number[] }> {
  const res = await client.predict({ modelSpec: { name: 'default' }, inputs: { instances: stringTensor(records) } });
  const head = Object.keys(res.outputs).sort()[0]!;
  return { version: Number(res.modelSpec?.version?.value ?? -1), values: tensorToNumbers(res.outputs[head]!) };
}

const close = (a: number[], b: ArrayLike<number>, tol = 1e-5) => a.length === b.length && a.every((v, i) => Math.abs(v - b[i]!) <= tol);

/** Asks until the served predictions equal `want` (the trainer's state), or fails after `ms`. */
async function waitFor(client: PredictionClient, records: Uint8Array[], want: Float32Array, ms = 60_000): Promise<{ version: number; values: number[] }> {
  const deadline = Date.now() + ms;
  let last = await served(client, records);
  while (!close(last.values, want)) {
    if (Date.now() > deadline) throw new Error(`served ${last.values.slice(0, 4).join(', ')}… never became ${Array.from(want.slice(0, 4)).join(', ')}…`);
    await new Promise((r) => setTimeout(r, 100));
    last = await served(client, records);
  }
  return last;
}

test.serial('train --sync-topic → serve --sync-topic: predictions follow training without a new export; a restarted replica replays from its export and ends equal', async (t) => {
  const kafka = await startMockKafka();
  const dir = await tempDir();
  const all = plantedInstances(600).payloads;
  const [d1, d2] = [join(dir, 'd1.tfrecord'), join(dir, 'd2.tfrecord')];
  await writeTFRecords(d1, all.slice(0, 300));
  await writeTFRecords(d2, all.slice(300));
  const probe = all.slice(0, 8);
  const sync = ['--sync-topic', 'params', '--kafka-brokers', kafka.bootstrap, '--sync-interval-ms', '50', '--sync-dense-every', '2'];
  const replicas: ServeProcess[] = [];
  const clients: PredictionClient[] = [];
  try {
    const r1 = await cli('train', ...MODEL, '--model-dir', join(dir, 'm'), '--data', d1, ...FEATURES, '--workers', '0', '--batch-size', '50', '--export-base', join(dir, 'exp'), ...sync);
    t.is(r1.code, 0, r1.stderr);
    t.regex(r1.stdout, /updates published to Kafka topic params/);
    t.regex(r1.stdout, /published \d+ updated rows in \d+ messages/);
    const [v1] = await readdir(join(dir, 'exp'));
    const manifest = JSON.parse(await readFile(join(dir, 'exp', v1!, 'export.json'), 'utf8'));
    t.is(manifest.sync.topic, 'params');
    t.true(manifest.sync.offsets.reduce((n: number, o: { offset: number }) => n + o.offset, 0) > 0, 'the export records where the topic stood');

    const serveArgs = ['--model-base-path', join(dir, 'exp'), '--poll-interval-ms', '0', '--no-warmup', ...sync.slice(0, 4)];
    const a = await startServe(CLI, dir, serveArgs);
    replicas.push(a);
    const ca = new PredictionClient(a.grpc);
    clients.push(ca);
    const before = await served(ca, probe);
    t.is(before.version, Number(v1));

    // Keep training (the same model dir: it resumes), exporting elsewhere so the replica loads nothing new.
    const r2 = await cli('train', ...MODEL, '--model-dir', join(dir, 'm'), '--data', d2, ...FEATURES, '--workers', '0', '--batch-size', '50', '--export-base', join(dir, 'exp2'), ...sync);
    t.is(r2.code, 0, r2.stderr);
    // What the trainer holds now, as a fresh export of it serves it.
    const fresh = await loadExport(join(dir, 'exp2'));
    const want = fresh.predictRecords(probe)[fresh.manifest.heads[0]!.name]!;
    t.false(close(before.values, want), 'the second run changed the model');
    const after = await waitFor(ca, probe, want);
    t.is(after.version, Number(v1), 'still the first export: the change came through the topic');

    // A replica started now from the first export replays the topic from its recorded offsets.
    const b = await startServe(CLI, dir, serveArgs);
    replicas.push(b);
    const cb = new PredictionClient(b.grpc);
    clients.push(cb);
    const replayed = await waitFor(cb, probe, want);
    t.is(replayed.version, Number(v1));
    t.true(close(replayed.values, after.values, 0), 'equal to the replica that never stopped');
    fresh.dispose();
  } finally {
    for (const c of clients) c.close();
    for (const r of replicas) await r.stop();
    await kafka.close();
  }
});

test('sync flags: --sync-topic without brokers, and serve --kafka-brokers without a topic, are refused by name', async (t) => {
  const dir = await tempDir();
  const train = await cli('train', ...MODEL, '--model-dir', join(dir, 'm'), '--data', join(dir, 'none.tfrecord'), ...FEATURES, '--sync-topic', 'params');
  t.is(train.code, 1);
  t.regex(train.stderr, /--sync-topic needs --kafka-brokers/);
  const serve = await cli('serve', '--model-base-path', dir, '--kafka-brokers', '127.0.0.1:1');
  t.is(serve.code, 1);
  t.regex(serve.stderr, /--kafka-brokers goes with --sync-topic/);
});
