import test from 'ava';
import Kafka from 'node-rdkafka';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { RedisClusterConnection, RedisEmbeddingTable, SyntheticCtr } from 'monolith-ts';
import { readdir, readFile } from 'node:fs/promises';
import { ROOT, tempDir } from '../helpers.js';
import { cli } from './cli-run.js';
import { writePlantedRecords } from './planted-records.js';
import { startRedisCluster, type LocalRedisCluster } from '../hashtable/redis/local-redis-cluster.js';
import { startMockKafka, type MockKafka } from '../streams/sinks/kafka-mock.js';
import { createModel } from '../streams/sources/fixtures/counting-model.js';

const CLI = join(ROOT, 'dist', 'src', 'cli', 'main.js');
const COUNTING = join(ROOT, 'dist', 'test', 'streams', 'sources', 'fixtures', 'counting-model.js');
const TOPIC = 'clicks';
const GROUP = 'redis-trainers';
const PARTITIONS = 4;

const cb = <T>(fn: (done: (err: unknown, v: T) => void) => void) => new Promise<T>((res, rej) => fn((err, v) => (err ? rej(err) : res(v))));

/** Polls `check` every 50 ms until it is true, failing after `ms` (a process we started reaching a state). */
async function until(what: string, ms: number, check: () => Promise<boolean>): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`${what}: not reached within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** `monolith-ts train` on the counting model (every message adds 1 to its id's row), parameters in Redis. */
function trainer(dir: string, kafka: MockKafka, redis: LocalRedisCluster, who: { role: 'chief'; index: 0 } | { mlpWorkerIndex: number }): ChildProcess & { out: string[] } {
  const args = [
    CLI, 'train', '--model-module', COUNTING, '--model-dir', join(dir, 'model'),
    '--kafka-brokers', kafka.bootstrap, '--topic', TOPIC, '--group-id', GROUP, '--kafka-session-timeout-ms', '3000',
    '--layout', 'message', '--slots', '1', '--workers', '1', '--batch-size', '20', '--checkpoint-every', '25',
    '--redis-nodes', redis.nodes[0]!, '--staleness-ms', '0', '--dense-sync-steps', '5',
    // The chief by flags; a worker by the MLP job environment (worker i > 0 of the job).
    ...('role' in who ? ['--role', who.role, '--trainer-index', String(who.index)] : []),
  ];
  const mlp = 'mlpWorkerIndex' in who ? { MLP_ROLE: 'worker', MLP_ROLE_INDEX: String(who.mlpWorkerIndex), MLP_WORKER_NUM: '2' } : {};
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, MONOLITH_LOG: 'warn', ...mlp } }) as ChildProcess & { out: string[] };
  child.out = [];
  child.stdout!.on('data', (d) => child.out.push(String(d)));
  child.stderr!.on('data', (d) => child.out.push(String(d)));
  return child;
}

test('two trainers on one topic share Redis tables; one SIGKILLed mid-run: the other takes its partitions, no committed message is lost, Redis holds both trainers\' updates; the restarted one trains on', async (t) => {
  t.timeout(180_000);
  const redis = await startRedisCluster(3);
  const kafka = await startMockKafka();
  const children: ChildProcess[] = [];
  t.teardown(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await kafka.close();
    await redis.stop();
  });
  const producer = new Kafka.Producer({ 'bootstrap.servers': kafka.bootstrap, 'linger.ms': 5 } as Kafka.ProducerGlobalConfig);
  await cb((done) => producer.connect({}, done));
  t.teardown(() => new Promise<void>((r) => producer.disconnect(5000, () => r())));
  const gen = new SyntheticCtr({ seed: 1, sparseSlots: 1, denseFeatures: 0, interactions: 0 });
  let produced = 0;
  const produce = async (n: number) => {
    for (let k = 0; k < n; k++, produced++) producer.produce(TOPIC, produced % PARTITIONS, Buffer.from(gen.toInstance({ ids: Uint32Array.of(produced + 1), dense: new Float32Array(0), label: produced % 2 }, produced)), null);
    await cb<void>((done) => producer.flush(10_000, (err) => done(err, undefined)));
  };

  const table = await RedisEmbeddingTable.open({ ...createModel().tables.count!, name: 'count' }, { nodes: redis.nodes });
  t.teardown(() => table.close());
  const examplesBy = async (): Promise<Record<string, number>> => {
    const h = (await table.connection.batch(['mt:trainers:counting'], (p, k) => p.hgetall(k)))[0] as Record<string, string>;
    return Object.fromEntries(Object.entries(h).map(([k, v]) => [k, Number(v)]));
  };

  await produce(40); // creates the topic (the mock cluster gives it 4 partitions)
  const dir = await tempDir();
  const chief = trainer(dir, kafka, redis, { role: 'chief', index: 0 });
  const worker = trainer(dir, kafka, redis, { mlpWorkerIndex: 1 });
  children.push(chief, worker);
  const failIfExited = (c: ChildProcess & { out: string[] }, name: string) => {
    if (c.exitCode !== null) throw new Error(`${name} exited with ${c.exitCode}:\n${c.out.join('')}`);
  };
  // Messages keep coming until both trainers have applied some (both hold partitions of the group).
  await until('both trainers applied messages', 90_000, async () => {
    failIfExited(chief, 'chief');
    failIfExited(worker, 'worker');
    const by = await examplesBy();
    if ((by['trainer-0'] ?? 0) >= 40 && (by['trainer-1'] ?? 0) >= 40) return true;
    await produce(40);
    return false;
  });
  worker.kill('SIGKILL');
  await new Promise((r) => worker.once('exit', r));
  const byWorker = (await examplesBy())['trainer-1']!;
  await produce(400);

  const counts = new Map<number, number>();
  const readCounts = async () => {
    counts.clear();
    await table.forEachRow((r) => counts.set(r.lo, r.row[0]!));
  };
  const allApplied = (what: string, upTo: number) =>
    until(what, 90_000, async () => {
      failIfExited(chief, 'chief');
      await readCounts();
      for (let i = 1; i <= upTo; i++) if (!(counts.get(i)! >= 1)) return false;
      return true;
    });
  // The group gives the dead worker's partitions to the chief: every message so far gets applied.
  await allApplied('the chief took over the killed worker\'s partitions', produced);

  // The worker restarted: it rejoins the group and trains on from the cluster's state.
  const again = trainer(dir, kafka, redis, { mlpWorkerIndex: 1 });
  children.push(again);
  await until('the restarted worker applies messages', 90_000, async () => {
    failIfExited(again, 'restarted worker');
    if ((await examplesBy())['trainer-1']! > byWorker) return true;
    await produce(40);
    return false;
  });
  await produce(200);
  const total = produced;
  await allApplied('every message applied in Redis', total);
  const consumer = new Kafka.KafkaConsumer({ 'bootstrap.servers': kafka.bootstrap, 'group.id': GROUP, 'enable.auto.commit': false } as Kafka.ConsumerGlobalConfig, {});
  await cb((done) => consumer.connect({}, done));
  t.teardown(() => new Promise<void>((r) => consumer.disconnect(() => r())));
  const parts = Array.from({ length: PARTITIONS }, (_, p) => ({ topic: TOPIC, partition: p }));
  await until('the group committed every offset', 30_000, async () => {
    const c = await cb<Kafka.TopicPartitionOffset[]>((done) => consumer.committed(parts, 5000, done));
    return c.reduce((n, p) => n + Math.max(0, p.offset), 0) === total;
  });
  chief.kill('SIGTERM');
  again.kill('SIGTERM');

  await readCounts();
  const lost = [...Array(total).keys()].map((i) => i + 1).filter((i) => !(counts.get(i)! >= 1));
  const twice = [...counts.values()].filter((c) => c > 1).length;
  const by = await examplesBy();
  const applied = [...counts.values()].reduce((a, b) => a + b, 0);
  t.log(`${total} messages; examples applied by trainer: ${JSON.stringify(by)}; worker killed after ${byWorker}, then restarted; ${twice} applied more than once (read again after a partition moved)`);
  t.deepEqual(lost, [], 'no message lost');
  t.true(by['trainer-1']! > byWorker && byWorker >= 40 && by['trainer-0']! > 0, 'both trainers updated the shared rows, the worker before and after its restart');
  // The rows hold every update the trainers counted; the killed trainer may have pushed the batches it had in
  // flight (one worker thread: at most 2 of 20 rows) without counting them.
  const countedSum = by['trainer-0']! + by['trainer-1']!;
  t.true(applied >= countedSum && applied - countedSum <= 2 * 20, `rows hold ${applied} updates, the trainers counted ${countedSum}`);
  // At-least-once: batches applied but not yet committed when their partition moved (the worker joining, being
  // killed, rejoining) are applied again by the next owner; that is the only source of counts above 1.
  t.true([...counts.values()].every((c) => c <= 4), 'no message applied more than once per partition move');
  t.regex(chief.out.join(''), /parameters in the Redis Cluster at .* as chief 0/);
  t.regex(worker.out.join(''), /parameters in the Redis Cluster at .* as worker 1 \(no checkpoints or exports\)/);
});

test('train: Redis flags without --redis-nodes, a bad node address and a bad role are errors naming the flag', async (t) => {
  const dir = await tempDir();
  const base = ['train', '--model-module', COUNTING, '--model-dir', join(dir, 'm'), '--kafka-brokers', '127.0.0.1:1', '--topic', 't', '--layout', 'message', '--slots', '1'];
  const a = await cli(...base, '--role', 'worker', '--staleness-ms', '5');
  t.is(a.code, 1);
  t.regex(a.stderr, /--role, --staleness-ms need --redis-nodes/);
  const b = await cli(...base, '--redis-nodes', 'localhost');
  t.regex(b.stderr, /--redis-nodes: "localhost" is not host:port/);
  const c = await cli(...base, '--redis-nodes', '127.0.0.1:7000', '--role', 'boss');
  t.regex(c.stderr, /--role must be chief or worker, got boss/);
});

test('train --redis-nodes on files: the chief\'s checkpoints and exports come from the cluster, and eval reads them like any checkpoint', async (t) => {
  t.timeout(180_000);
  const redis = await startRedisCluster(3);
  t.teardown(() => redis.stop());
  const dir = await tempDir();
  const data = join(dir, 'day1.pb');
  await writePlantedRecords(data, 600, 'plain');
  const model = ['--model-module', 'monolith-ts/models/deepfm', '--model-options', '{"hidden":[8],"embeddingDim":4}'];
  const features = ['--layout', 'plain', '--slots', '1..26', '--dense-group', 'dense=dense_0..dense_12'];
  const r = await cli('train', ...model, '--model-dir', join(dir, 'ckpt'), '--export-base', join(dir, 'models'), '--data', data, ...features, '--workers', '1', '--batch-size', '100', '--checkpoint-every', '3', '--redis-nodes', redis.nodes.join(','));
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /as chief 0; rows at most 1000 ms stale, dense synced every 10 steps or 1000 ms/);
  t.regex(r.stdout, /trained 6 steps, 600 examples, global step 6/);
  t.true((await readdir(join(dir, 'models'))).length > 0, 'exported');
  // The checkpoint holds as many rows per table as the cluster does (ckpt.info records what was saved).
  const info = await readFile(join(dir, 'ckpt', 'ckpt.info-6'), 'utf8');
  const saved = [...info.matchAll(/key: "([^"]+)"\s+value: (\d+)/g)].map((m) => [m[1]!, Number(m[2])] as const);
  t.true(saved.length > 0, info);
  const conn = await RedisClusterConnection.connect({ nodes: redis.nodes });
  for (const [name, n] of saved) {
    const keys = await conn.eachMaster(async (node) => {
      let c = 0;
      let cursor = '0';
      do {
        const [next, ks] = await node.scan(cursor, 'MATCH', `mt:${name}:*`, 'COUNT', 1000);
        cursor = next;
        c += ks.length;
      } while (cursor !== '0');
      return c;
    });
    t.is(keys.reduce((a, b) => a + b, 0), n, `table ${name}`);
  }
  await conn.close();
  const ev = await cli('eval', '--model-dir', join(dir, 'ckpt'), '--data', data, '--json');
  t.is(ev.code, 0, ev.stderr);
  const res = JSON.parse(ev.stdout) as { globalStep?: number; examples?: number };
  t.is(res.globalStep, 6, ev.stdout);
});
