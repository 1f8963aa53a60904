/**
 * Training examples/s with 1 and 2 `monolith-ts train` processes in one Kafka
 * consumer group, sharing a 3-node Redis Cluster (tables and dense params),
 * interleaved in one run (1, 2, 1, 2, …). Each run: a fresh topic (4
 * partitions, librdkafka's mock broker in this process) and an empty cluster;
 * the trainers start, a warm-up set reaches every one of them (each holds
 * partitions), then `messages` more are produced and timed until the
 * trainers' example counters in Redis have grown by that many.
 * The DeepFM model (26 sparse slots, 13 dense features), batches of 256, one worker thread per trainer.
 */
import Kafka from 'node-rdkafka';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { RedisClusterConnection } from 'monolith-ts';
import { startRedisCluster } from '../test/hashtable/redis/local-redis-cluster.js';
import { startMockKafka } from '../test/streams/sinks/kafka-mock.js';
import { plantedInstances } from '../test/cli/planted-records.js';
import { projectRoot } from './project-root.js';

export interface TrainerBenchOptions {
  /** Timed messages per run. */
  messages: number;
  repeat: number;
  batchSize: number;
}

const cb = <T>(fn: (done: (err: unknown, v: T) => void) => void) => new Promise<T>((res, rej) => fn((err, v) => (err ? rej(err) : res(v))));
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function until(what: string, ms: number, check: () => Promise<boolean>): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`${what}: not reached within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Examples/s of `trainers` processes; medians over `repeat` interleaved runs per count. */
export async function runTrainerScaleOut(o: TrainerBenchOptions, counts = [1, 2]): Promise<Record<number, number[]>> {
  const redis = await startRedisCluster(3);
  const kafka = await startMockKafka();
  const conn = await RedisClusterConnection.connect({ nodes: redis.nodes });
  const producer = new Kafka.Producer({ 'bootstrap.servers': kafka.bootstrap, 'linger.ms': 5 } as Kafka.ProducerGlobalConfig);
  await cb((done) => producer.connect({}, done));
  const dir = await mkdtemp(join(tmpdir(), 'mt-scale-trainers-'));
  const payloads = plantedInstances(Math.max(o.messages, 4 * o.batchSize)).payloads;
  const rates: Record<number, number[]> = {};
  const cli = join(projectRoot(), 'dist', 'src', 'cli', 'main.js');
  try {
    for (let r = 0; r < o.repeat; r++) {
      for (const n of counts) {
        const topic = `clicks-${r}-${n}`;
        await Promise.all(redis.ports.map((p) => promisify(execFile)('redis-cli', ['-p', String(p), 'FLUSHALL'])));
        let k = 0;
        const produce = async (m: number) => {
          for (let i = 0; i < m; i++, k++) producer.produce(topic, k % 4, Buffer.from(payloads[k % payloads.length]!), null);
          await cb<void>((done) => producer.flush(10_000, (err) => done(err, undefined)));
        };
        const counters = async () => {
          const h = (await conn.batch(['mt:trainers:deepfm'], (p, key) => p.hgetall(key)))[0] as Record<string, string>;
          return Array.from({ length: n }, (_, i) => Number(h[`trainer-${i}`] ?? 0));
        };
        await produce(4 * o.batchSize);
        const procs: ChildProcess[] = Array.from({ length: n }, (_, i) =>
          spawn(process.execPath, [cli, 'train', '--model-module', 'monolith-ts/models/deepfm', '--model-options', '{"hidden":[64,32],"embeddingDim":8}',
            '--model-dir', join(dir, `${topic}-model`), '--kafka-brokers', kafka.bootstrap, '--topic', topic, '--group-id', topic, '--kafka-session-timeout-ms', '6000',
            '--layout', 'message', '--slots', '1..26', '--dense-group', 'dense=dense_0..dense_12', '--workers', '1', '--batch-size', String(o.batchSize), '--checkpoint-every', '1000000',
            '--redis-nodes', redis.nodes[0]!, '--role', i === 0 ? 'chief' : 'worker', '--trainer-index', String(i)], { stdio: 'ignore', env: { ...process.env, MONOLITH_LOG: 'warn' } }));
        try {
          // Warm-up until every trainer has applied examples (each holds partitions of the group).
          await until(`${n} trainer(s) all applying`, 120_000, async () => {
            if ((await counters()).every((c) => c > 0)) return true;
            await produce(o.batchSize);
            return false;
          });
          const before = (await counters()).reduce((a, b) => a + b, 0);
          const t0 = performance.now();
          await produce(o.messages);
          await until('timed messages applied', 600_000, async () => (await counters()).reduce((a, b) => a + b, 0) >= before + o.messages);
          (rates[n] ??= []).push(o.messages / ((performance.now() - t0) / 1000));
        } finally {
          for (const p of procs) p.kill('SIGKILL');
        }
      }
    }
  } finally {
    await new Promise<void>((res) => producer.disconnect(5000, () => res()));
    await conn.close();
    await kafka.close();
    await redis.stop();
    await rm(dir, { recursive: true, force: true });
  }
  return rates;
}

export function trainerTable(rates: Record<number, number[]>): string[] {
  return [
    '| trainer processes | examples/s (median) | runs |',
    '| --- | --- | --- |',
    ...Object.entries(rates).map(([n, v]) => `| ${n} | ${median(v).toFixed(0)} | ${v.map((x) => x.toFixed(0)).join(', ')} |`),
  ];
}
