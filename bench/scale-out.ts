/**
 * Embedding-table throughput against a Redis Cluster of 1 and 3 nodes next to
 * the shared-memory table, in the same run: every repetition runs the three
 * backends one after the other (interleaved), each on a fresh table.
 * Ops per batch of ids (Zipf-like skew over `--ids` distinct ids):
 * a = lookup-or-insert, b = Adagrad apply, c = lookupOnly (all hits).
 *
 * Then training examples/s with 1 and 2 trainer processes sharing a 3-node
 * cluster through one Kafka consumer group (bench/scale-out-trainers.ts).
 *
 *   node dist/bench/scale-out.js --ids=20000 --dim=16 --batch=1024 --batches=20 --repeat=3 --messages=20000
 *   node dist/bench/scale-out.js --quick     # a short run (1 repetition, small sizes)
 *
 * Needs `redis-server` and `redis-cli` on PATH; starts and stops its own clusters on loopback.
 * Then the parameter-sync latency (bench/sync-latency.ts); `--part=tables` or `--part=sync` runs one part only.
 */
import { cpus, loadavg } from 'node:os';
import { pathToFileURL } from 'node:url';
import { EmbeddingHashTable, RedisEmbeddingTable, type EmbeddingHashTableConfig } from 'monolith-ts';
import { runSyncLatency } from './sync-latency.js';
import { startRedisCluster, type LocalRedisCluster } from '../test/hashtable/redis/local-redis-cluster.js';
import { runTrainerScaleOut, trainerTable } from './scale-out-trainers.js';

interface Options {
  ids: number;
  dim: number;
  batch: number;
  batches: number;
  repeat: number;
  /** Timed messages per training run (trainer part). */
  messages: number;
}

type Ops = {
  lookup(ids: BigUint64Array): Promise<unknown>;
  apply(ids: BigUint64Array, g: Float32Array): Promise<unknown>;
  lookupOnly(ids: BigUint64Array): Promise<unknown>;
  close(): Promise<void>;
};

const config = (name: string, dim: number): EmbeddingHashTableConfig => ({
  name,
  shards: 16,
  entry: { segments: [{ dimSize: dim, initConfig: { randomUniform: {} }, optConfig: { adagrad: {} } }] },
});

function makeBatches(o: Options): BigUint64Array[] {
  let s = 99;
  const rnd = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
  return Array.from({ length: o.batches }, () => BigUint64Array.from({ length: o.batch }, () => BigInt(Math.floor(o.ids * rnd() ** 3))));
}

async function timeOp(batches: BigUint64Array[], op: (ids: BigUint64Array) => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  for (const b of batches) await op(b);
  const keys = batches.reduce((n, b) => n + b.length, 0);
  return keys / ((performance.now() - t0) / 1000);
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function runScaleOut(o: Options): Promise<string> {
  const clusters: Record<string, LocalRedisCluster> = { 'redis 1 node': await startRedisCluster(1), 'redis 3 nodes': await startRedisCluster(3) };
  const batches = makeBatches(o);
  const grads = new Float32Array(o.batch * o.dim).fill(0.01);
  const rates: Record<string, Record<string, number[]>> = {};
  const started = new Date().toISOString();
  const load0 = loadavg();
  try {
    for (let r = 0; r < o.repeat; r++) {
      for (const backend of ['shared memory', ...Object.keys(clusters)]) {
        const name = `bench${r}`;
        let ops: Ops;
        if (backend === 'shared memory') {
          const t = EmbeddingHashTable.create(config(name, o.dim));
          ops = { lookup: async (i) => t.lookup(i), apply: async (i, g) => t.applyGradients(i, g), lookupOnly: async (i) => t.lookupOnly(i), close: async () => {} };
        } else {
          const t = await RedisEmbeddingTable.open(config(name, o.dim), { nodes: clusters[backend]!.nodes, timeoutMs: 30_000 });
          ops = { lookup: (i) => t.lookup(i), apply: (i, g) => t.applyGradients(i, g), lookupOnly: (i) => t.lookupOnly(i), close: () => t.close() };
        }
        const res = (rates[backend] ??= { a: [], b: [], c: [] });
        res.a!.push(await timeOp(batches, (b) => ops.lookup(b)));
        res.b!.push(await timeOp(batches, (b) => ops.apply(b, grads)));
        res.c!.push(await timeOp(batches, (b) => ops.lookupOnly(b)));
        await ops.close();
      }
    }
  } finally {
    for (const c of Object.values(clusters)) await c.stop();
  }
  const load1 = loadavg();
  const lines = [
    `Command: \`node dist/bench/scale-out.js --ids=${o.ids} --dim=${o.dim} --batch=${o.batch} --batches=${o.batches} --repeat=${o.repeat} --messages=${o.messages}\` — ${started}; ${cpus()[0]?.model ?? '?'}, ${cpus().length} vCPUs, Node ${process.version}.`,
    `Load average (1/5/15 min) at start ${load0.map((x) => x.toFixed(1)).join('/')}, at end ${load1.map((x) => x.toFixed(1)).join('/')}.`,
    '',
    '| backend | a lookup-or-insert keys/s | b Adagrad apply keys/s | c lookupOnly keys/s |',
    '| --- | --- | --- | --- |',
    ...Object.entries(rates).map(([k, v]) => `| ${k} | ${median(v.a!).toFixed(0)} | ${median(v.b!).toFixed(0)} | ${median(v.c!).toFixed(0)} |`),
    '',
    `Training (DeepFM, batches of 256, one worker thread per trainer, ${o.messages} timed messages per run, interleaved 1, 2, 1, 2, …):`,
    '',
    ...trainerTable(await runTrainerScaleOut({ messages: o.messages, repeat: o.repeat, batchSize: 256 })),
  ];
  return lines.join('\n');
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain) {
  const arg = (k: string, d: number) => Number(process.argv.find((a) => a.startsWith(`--${k}=`))?.split('=')[1] ?? d);
  // --part=tables | sync (default both); --quick shortens every part.
  const part = process.argv.find((a) => a.startsWith('--part='))?.split('=')[1] ?? 'all';
  const quick = process.argv.includes('--quick');
  const o: Options = quick
    ? { ids: 5000, dim: 16, batch: 512, batches: 5, repeat: 1, messages: 3000 }
    : { ids: arg('ids', 20000), dim: arg('dim', 16), batch: arg('batch', 1024), batches: arg('batches', 20), repeat: arg('repeat', 3), messages: arg('messages', 20000) };
  if (part !== 'sync') console.log(await runScaleOut(o));
  if (part !== 'tables') console.log(await runSyncLatency({ steps: arg('steps', quick ? 60 : 400), stepMs: arg('step-ms', 25), intervalMs: arg('interval-ms', 100) }));
}
