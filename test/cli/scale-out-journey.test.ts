/**
 * The whole scale-out picture of docs/scale-out.md, through the CLI as a user
 * runs it: two `train` processes (a chief and a worker) in one Kafka consumer
 * group share a model in a 3-node Redis Cluster and publish what they update
 * to a sync topic; a `serve --sync-topic` replica follows training without
 * loading a new export; the worker is SIGKILLed mid-run and training goes on.
 * Kafka is librdkafka's mock cluster, Redis real servers, both on loopback.
 */
import test from 'ava';
import Kafka from 'node-rdkafka';
import { spawn, type ChildProcess } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { loadExport, RedisClusterConnection } from 'monolith-ts';
import { stringTensor } from '../../src/export/warmup.js';
import { writeTFRecords } from '../../src/io/tfrecord.js';
import { PredictionClient } from '../../src/serving/prediction-client.js';
import { tensorToNumbers } from '../../src/serving/tensor-proto.js';
import { startRedisCluster } from '../hashtable/redis/local-redis-cluster.js';
import { ROOT, tempDir } from '../helpers.js';
import { startServe, type ServeProcess } from '../helpers/serve-process.js';
import { startMockKafka } from '../streams/sinks/kafka-mock.js';
import { cli } from './cli-run.js';
import { plantedInstances } from './planted-records.js';

const CLI = join(ROOT, 'dist', 'src', 'cli', 'main.js');
const MODEL = ['--model-module', 'monolith-ts/models/deepfm', '--model-options', '{"hidden":[8],"embeddingDim":4}'];
const FEATURES = ['--slots', '1..26', '--dense-group', 'dense=dense_0..dense_12'];
const TOPIC = 'clicks';
const PARTITIONS = 4;

const cb = <T>(fn: (done: (err: unknown, v: T) => void) => void) => new Promise<T>((res, rej) => fn((err, v) => (err ? rej(err) : res(v))));
const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol: number) => a.length === b.length && Array.from(a).every((v, i) => Math.abs(v - b[i]!) <= tol);

/** Polls `check` every 50 ms until it is true, failing after `ms` (processes we started reaching a state). */
async function until(what: string, ms: number, check: () => Promise<boolean>): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`${what}: not reached within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('two Redis trainers on one topic publish to a sync topic; a serving replica follows them without a new export, and training survives the loss of a trainer', async (t) => {
  t.timeout(240_000);
  const redis = await startRedisCluster(3);
  const kafka = await startMockKafka();
  const dir = await tempDir();
  const children: ChildProcess[] = [];
  let replica: ServeProcess | undefined;
  let client: PredictionClient | undefined;
  t.teardown(async () => {
    client?.close();
    await replica?.stop();
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await kafka.close();
    await redis.stop();
  });
  const redisFlags = ['--redis-nodes', redis.nodes.join(','), '--staleness-ms', '0', '--dense-sync-steps', '2'];
  const sync = ['--sync-topic', 'params', '--kafka-brokers', kafka.bootstrap, '--sync-interval-ms', '50', '--sync-dense-every', '2'];
  const { payloads } = plantedInstances(2000);
  const probe = payloads.slice(0, 8);

  // 1. A chief initialises the cluster from a first day of files and exports the first version.
  const day0 = join(dir, 'day0.tfrecord');
  await writeTFRecords(day0, payloads.slice(0, 300));
  const first = await cli('train', ...MODEL, '--model-dir', join(dir, 'm0'), '--data', day0, ...FEATURES, '--layout', 'tfrecord', '--workers', '1', '--batch-size', '50', '--export-base', join(dir, 'exp'), ...redisFlags, ...sync);
  t.is(first.code, 0, first.stderr);
  const [v1] = await readdir(join(dir, 'exp'));

  // 2. A serving replica of that export, applying the sync topic (it never looks for a newer export).
  replica = await startServe(CLI, dir, ['--model-base-path', join(dir, 'exp'), '--poll-interval-ms', '0', '--no-warmup', ...sync.slice(0, 4)]);
  client = new PredictionClient(replica.grpc);
  const served = async () => {
    const res = await client!.predict({ modelSpec: { name: 'default' }, inputs: { instances: stringTensor(probe) } });
    return { version: Number(res.modelSpec?.version?.value ?? -1), values: tensorToNumbers(res.outputs[Object.keys(res.outputs).sort()[0]!]!) };
  };
  const before = await served();
  t.is(before.version, Number(v1));

  // 3. Two trainers on the click topic, one consumer group, both publishing what they update.
  const producer = new Kafka.Producer({ 'bootstrap.servers': kafka.bootstrap, 'linger.ms': 5 } as Kafka.ProducerGlobalConfig);
  await cb((done) => producer.connect({}, done));
  t.teardown(() => new Promise<void>((r) => producer.disconnect(5000, () => r())));
  let produced = 0;
  const produce = async (records: Uint8Array[]) => {
    for (const r of records) producer.produce(TOPIC, produced++ % PARTITIONS, Buffer.from(r), null);
    await cb<void>((done) => producer.flush(10_000, (err) => done(err, undefined)));
  };
  let next = 300;
  const more = (n: number) => {
    const out = Array.from({ length: n }, (_, k) => payloads[(next + k) % payloads.length]!);
    next += n;
    return produce(out);
  };
  await more(40);
  const trainer = (role: 'chief' | 'worker', index: number) => {
    const child = spawn(process.execPath, [
      CLI, 'train', ...MODEL, '--model-dir', join(dir, `m-${role}`), ...FEATURES, '--layout', 'message',
      '--topic', TOPIC, '--group-id', 'trainers', '--kafka-session-timeout-ms', '3000', '--workers', '1', '--batch-size', '20', '--checkpoint-every', '25',
      ...redisFlags, '--role', role, '--trainer-index', String(index), ...sync,
    ], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, MONOLITH_LOG: 'warn' } }) as ChildProcess & { out: string[] };
    child.out = [];
    child.stdout!.on('data', (d) => child.out.push(String(d)));
    child.stderr!.on('data', (d) => child.out.push(String(d)));
    children.push(child);
    return child;
  };
  const chief = trainer('chief', 0);
  const worker = trainer('worker', 1);
  const alive = (c: ChildProcess & { out: string[] }, name: string) => {
    if (c.exitCode !== null) throw new Error(`${name} exited with ${c.exitCode}:\n${c.out.join('')}`);
  };
  const conn = await RedisClusterConnection.connect({ nodes: redis.nodes });
  t.teardown(() => conn.close());
  const examplesBy = async () => (await conn.batch(['mt:trainers:deepfm'], (p, k) => p.hgetall(k)))[0] as Record<string, string>;

  // The replica follows the trainers: its predictions change while it still serves the first export.
  const trainingStarted = Date.now();
  let followedAfterMs = -1;
  await until('both trainers applied examples and the replica followed them', 120_000, async () => {
    alive(chief, 'chief');
    alive(worker, 'worker');
    if (followedAfterMs < 0) {
      const now = await served();
      if (now.version === Number(v1) && !close(now.values, before.values, 1e-6)) followedAfterMs = Date.now() - trainingStarted;
    }
    const by = await examplesBy();
    if (Number(by['trainer-0'] ?? 0) >= 40 && Number(by['trainer-1'] ?? 0) >= 40 && followedAfterMs >= 0) return true;
    await more(40);
    return false;
  });

  // 4. The worker dies; the chief takes its partitions and trains on everything produced.
  worker.kill('SIGKILL');
  await new Promise((r) => worker.once('exit', r));
  await more(200);
  const consumer = new Kafka.KafkaConsumer({ 'bootstrap.servers': kafka.bootstrap, 'group.id': 'trainers', 'enable.auto.commit': false } as Kafka.ConsumerGlobalConfig, {});
  await cb((done) => consumer.connect({}, done));
  t.teardown(() => new Promise<void>((r) => consumer.disconnect(() => r())));
  const parts = Array.from({ length: PARTITIONS }, (_, p) => ({ topic: TOPIC, partition: p }));
  await until('the chief committed every message after the worker died', 120_000, async () => {
    alive(chief, 'chief');
    const c = await cb<Kafka.TopicPartitionOffset[]>((done) => consumer.committed(parts, 5000, done));
    return c.reduce((n, p) => n + Math.max(0, p.offset), 0) === produced;
  });
  chief.kill('SIGTERM');
  await new Promise((r) => chief.once('exit', r));

  // 5. A last run on the probe rows, exported elsewhere: the replica ends serving exactly what that export serves.
  const last = join(dir, 'last.tfrecord');
  await writeTFRecords(last, probe);
  const final = await cli('train', ...MODEL, '--model-dir', join(dir, 'm-last'), '--data', last, ...FEATURES, '--layout', 'tfrecord', '--workers', '0', '--batch-size', '8', '--export-base', join(dir, 'exp-last'), ...redisFlags, ...sync);
  t.is(final.code, 0, final.stderr);
  const fresh = await loadExport(join(dir, 'exp-last'));
  t.teardown(() => fresh.dispose());
  const want = fresh.predictRecords(probe)[fresh.manifest.heads[0]!.name]!;
  t.false(close(before.values, want, 1e-4), 'training changed the model');
  const syncedAt = Date.now();
  await until('the replica serves what the newest export serves', 60_000, async () => close((await served()).values, want, 1e-4));
  const after = await served();
  t.is(after.version, Number(v1), 'still the first export: every change came through the sync topic');
  const by = await examplesBy();
  t.true(Number(by['trainer-0']) > 0 && Number(by['trainer-1']) >= 40, `both trainers trained: ${JSON.stringify(by)}`);
  t.log(`${produced} messages; examples by trainer ${JSON.stringify(by)}; the replica's predictions first changed ${followedAfterMs} ms after the trainers started; it matched the last export ${Date.now() - syncedAt} ms after that run ended`);
});
