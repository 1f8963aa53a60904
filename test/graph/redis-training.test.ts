import test from 'ava';
import { join } from 'node:path';
import { createModelTables, EmbeddingHashTable, RedisEmbeddingTable, RedisNodeError, RedisRowCache, restoreTable, train, type Batch } from 'monolith-ts';
import { readIndex } from '../../src/graph/checkpoint-saver.js';
import { Rng } from '../../src/util/random.js';
import { initBackend } from '../../src/workers/tf-backend.js';
import { tempDir } from '../helpers.js';
import { startRedisCluster, type LocalRedisCluster } from '../hashtable/redis/local-redis-cluster.js';
import { createModel } from '../workers/fixtures/tiny-model.js';
import { tinyBatch } from '../workers/fixtures/tiny-batches.js';

const MODEL_URL = new URL('../workers/fixtures/tiny-model.js', import.meta.url).href;
const model = { url: MODEL_URL, options: { seed: 1 } };

let cluster: LocalRedisCluster;
test.before(async () => {
  await initBackend('cpu');
  cluster = await startRedisCluster(3);
});
test.after.always(async () => cluster?.stop());

function batches(seed: number, n: number, rows = 16): Batch[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => tinyBatch(rng, rows));
}

/** Every row of a Redis table, by id. */
async function redisRows(name: string, config = createModel().tables[name]!): Promise<Map<bigint, Float32Array>> {
  const t = await RedisEmbeddingTable.open({ ...config, name }, { nodes: cluster.nodes });
  const out = new Map<bigint, Float32Array>();
  await t.forEachRow((r) => out.set((BigInt(r.hi) << 32n) | BigInt(r.lo), r.row.slice(0, t.dim)));
  await t.close();
  return out;
}

async function flushCluster(): Promise<void> {
  const { execFile } = await import('node:child_process');
  await Promise.all(cluster.ports.map((p) => new Promise((r) => execFile('redis-cli', ['-p', String(p), 'FLUSHALL'], r))));
}

test.serial('one trainer against Redis (staleness 0, dense synced every step) trains as the local tables do; the rows live in Redis', async (t) => {
  await flushCluster();
  const data = batches(3, 6);
  const local = await train({ model, source: data, workers: 0, deterministic: true });
  const remote = await train({ model, source: data, workers: 0, deterministic: true, redis: { nodes: cluster.nodes, stalenessMs: 0, denseSyncSteps: 1 } });
  t.is(remote.globalStep, local.globalStep);
  t.true(Math.abs(remote.lastLoss! - local.lastLoss!) < 1e-4, `loss ${remote.lastLoss} vs ${local.lastLoss}`);
  const even = await redisRows('even');
  t.true(even.size > 20, `${even.size} rows in Redis`);
  // The same ids and gradients, applied locally, give the same rows.
  const ref = createModelTables(createModel());
  await train({ model, source: data, workers: 0, deterministic: true, tables: ref });
  for (const [id, emb] of even) {
    const want = ref.even!.lookupOnly(BigUint64Array.of(id));
    emb.forEach((v, d) => t.true(Math.abs(v - want[d]!) < 1e-5, `id ${id}[${d}]: ${v} vs ${want[d]}`));
  }
});

test.serial('two trainers (chief and worker, with worker threads) share the tables and dense params; the chief checkpoints the Redis rows', async (t) => {
  await flushCluster();
  const dir = await tempDir();
  const chief = train({ model, source: batches(5, 12), workers: 1, redis: { nodes: cluster.nodes, role: 'chief', trainerIndex: 0, denseSyncSteps: 2 }, checkpoint: { dir, everySteps: 4 } });
  const worker = train({ model, source: batches(6, 12), workers: 1, redis: { nodes: cluster.nodes, role: 'worker', trainerIndex: 1, denseSyncSteps: 2 }, checkpoint: { dir: join(dir, 'unused'), everySteps: 4 } });
  const [a, b] = await Promise.all([chief, worker]);
  t.is(a.steps + b.steps, 24);
  // Both trainers' steps are counted in the shared global step.
  t.true(Math.max(a.globalStep, b.globalStep) >= 20, `global steps ${a.globalStep}, ${b.globalStep}`);
  const idx = await readIndex(dir);
  t.truthy(idx, 'the chief wrote checkpoints');
  await t.throwsAsync(readIndex(join(dir, 'unused')).then((i) => (i ? Promise.resolve() : Promise.reject(new Error('none')))), undefined, 'the worker wrote none');
  // The checkpoint holds rows of the Redis table; the shared-memory table restores them.
  const restored = EmbeddingHashTable.create({ ...createModel().tables.even!, name: 'even' });
  await restoreTable(restored, join(dir, `model.ckpt-${idx!.latest}.assets`, 'even'));
  t.true(restored.size > 20);
});

test.serial('the local table caches rows for stalenessMs: another trainer\'s update shows once the bound has passed', async (t) => {
  await flushCluster();
  const config = { ...createModel().tables.even!, name: 'even' };
  const remote = await RedisEmbeddingTable.open(config, { nodes: cluster.nodes });
  let now = 1000;
  const cache = new RedisRowCache(EmbeddingHashTable.create(config), remote, { stalenessMs: 500, now: () => now });
  const ids = BigUint64Array.of(7n);
  t.is(await cache.pull(ids), 1);
  const before = cache.local.lookupOnly(ids);
  await remote.applyGradients(ids, new Float32Array(4).fill(1)); // another trainer
  now += 499;
  t.is(await cache.pull(ids), 0, 'within the bound the cached row is used');
  t.deepEqual(cache.local.lookupOnly(ids), before);
  now += 1;
  t.is(await cache.pull(ids), 1);
  t.deepEqual(cache.local.lookupOnly(ids), await remote.lookupOnly(ids));
  await remote.close();
});

test.serial('a Redis node killed during training fails it with a RedisNodeError naming the node, without hanging', async (t) => {
  const mine = await startRedisCluster(3);
  try {
    const data = batches(9, 200);
    let n = 0;
    const source = (async function* () {
      for (const b of data) {
        if (++n === 5) mine.kill(1);
        yield b;
      }
    })();
    const started = Date.now();
    const err = await t.throwsAsync(train({ model, source, workers: 1, redis: { nodes: mine.nodes, timeoutMs: 2000, stalenessMs: 0 } }));
    const cause = (err as Error & { cause?: unknown }).cause ?? err;
    const redisErr = [err, cause].find((e) => e instanceof RedisNodeError) as RedisNodeError | undefined;
    t.truthy(redisErr, `${err!.name}: ${err!.message}`);
    t.true(redisErr!.nodes.includes(mine.nodes[1]!), redisErr!.message);
    t.true(Date.now() - started < 30_000);
  } finally {
    await mine.stop();
  }
});

test.serial('restart: a chief restores its newest checkpoint only into an empty cluster; otherwise the cluster is the state and the global step continues', async (t) => {
  await flushCluster();
  const dir = await tempDir();
  const redis = { nodes: cluster.nodes, stalenessMs: 0, denseSyncSteps: 1 };
  const first = await train({ model, source: batches(11, 6), workers: 0, redis, checkpoint: { dir, everySteps: 3 } });
  t.is(first.globalStep, 6);
  const rows = await redisRows('even');
  // A restarted chief facing the same cluster: nothing restored, the counts go on.
  const again = await train({ model, source: batches(12, 2), workers: 0, redis, checkpoint: { dir, everySteps: 100 } });
  t.is(again.restoredStep, undefined);
  t.is(again.globalStep, 8);
  // The cluster lost everything: the chief puts its newest checkpoint (step 8) back.
  await flushCluster();
  const afterLoss = await train({ model, source: [], workers: 0, redis, checkpoint: { dir, everySteps: 100 } });
  t.is(afterLoss.restoredStep, 8);
  t.is(afterLoss.globalStep, 8);
  const back = await redisRows('even');
  t.true(back.size >= rows.size);
});

test.serial('a worker with no chief to initialise the cluster fails with a ConfigError saying so; a Redis-backed eval is refused', async (t) => {
  await flushCluster();
  const err = await t.throwsAsync(train({ model, source: batches(1, 1), workers: 0, redis: { nodes: cluster.nodes, role: 'worker', chiefWaitMs: 300 } }));
  t.is(err!.name, 'ConfigError');
  t.regex(err!.message, /no chief initialised the parameters of model tiny/);
  const { TrainingPipeline } = await import('monolith-ts');
  await t.throwsAsync(TrainingPipeline.create({ model, source: [], mode: 'eval', workers: 0, redis: { nodes: cluster.nodes } }), { message: /Redis-backed parameters are for training/ });
});

test.serial('reportSparse: each train step reports the ids and gradients it applied to its tables (for hooks publishing updated rows)', async (t) => {
  const seen: Array<{ table: string; ids: number; grads: number }> = [];
  const { map } = await import('rxjs');
  const data = batches(4, 2);
  await train({ model, source: data, workers: 1, reportSparse: true, hooks: [{ name: 'updates', op: map((r) => (r.sparseUpdates!.forEach((u) => seen.push({ table: u.table, ids: u.fids.length / 2, grads: u.grads.length })), r)) }] });
  t.is(seen.length, 4, 'two features per step');
  t.deepEqual(seen.map((s) => s.table), ['even', 'odd', 'even', 'odd']);
  seen.forEach((s) => t.is(s.grads, s.ids * 4));
  t.is(seen[0]!.ids, data[0]!.sparse[0]!.fids.length / 2);
  const plain: unknown[] = [];
  await train({ model, source: batches(4, 1), workers: 0, hooks: [{ name: 'updates', op: map((r) => (plain.push(r.sparseUpdates), r)) }] });
  t.deepEqual(plain, [undefined], 'not reported unless asked');
});

test.serial("passes: a source marking its batches' pass trains against Redis as locally, the second pass with the tables' weight decay doubled", async (t) => {
  await flushCluster();
  const decaying = { url: MODEL_URL, options: { seed: 1, sparseWeightDecay: 0.5 } };
  const data = batches(5, 4);
  const twoPasses = () => [1, 2].flatMap((pass) => data.map((batch) => ({ batch, pass })));
  const rowsOf = (tables: ReturnType<typeof createModelTables>, ids: Iterable<bigint>) => new Map([...ids].map((id) => [id, tables.even!.lookupOnly(BigUint64Array.of(id))]));
  await train({ model: decaying, source: twoPasses(), workers: 0, deterministic: true, redis: { nodes: cluster.nodes, stalenessMs: 0, denseSyncSteps: 1 } });
  const remote = await redisRows('even', createModel({ seed: 1, sparseWeightDecay: 0.5 }).tables.even);
  const marked = createModelTables(createModel({ seed: 1, sparseWeightDecay: 0.5 }));
  await train({ model: decaying, source: twoPasses(), workers: 0, deterministic: true, tables: marked });
  const unmarked = createModelTables(createModel({ seed: 1, sparseWeightDecay: 0.5 }));
  await train({ model: decaying, source: [...data, ...data], workers: 0, deterministic: true, tables: unmarked });
  const want = rowsOf(marked, remote.keys());
  for (const [id, emb] of remote) emb.forEach((v, d) => t.true(Math.abs(v - want.get(id)![d]!) < 1e-5, `id ${id}[${d}]: ${v} vs ${want.get(id)![d]}`));
  const other = rowsOf(unmarked, remote.keys());
  t.true([...remote].some(([id, emb]) => emb.some((v, d) => Math.abs(v - other.get(id)![d]!) > 1e-4)), 'the unmarked passes train otherwise');
});

