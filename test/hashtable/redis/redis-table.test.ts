import test from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
// Through the package entry, as a user imports it.
import { EmbeddingHashTable, RedisEmbeddingTable, RedisClusterConnection, RedisNodeError, saveRedisTable, restoreRedisTable, saveTable, restoreTable, HashTableError, ConfigError, type EmbeddingHashTableConfig } from 'monolith-ts';
import { close, fakeClock } from '../helpers.js';
import { startRedisCluster, type LocalRedisCluster } from './local-redis-cluster.js';

const require = createRequire(import.meta.url);
const ioredisLoaded = (): boolean => Object.keys(require.cache).some((p) => p.includes('/node_modules/ioredis/'));
const run = promisify(execFile);

let cluster: LocalRedisCluster;
let conn: RedisClusterConnection;
test.before(async () => {
  cluster = await startRedisCluster(3);
});
test.after.always(async () => {
  await conn?.close();
  await cluster?.stop();
});

/** Three segments: Adagrad (with weight decay), FTRL (l1, l2, beta) and FTRL with learning-rate power -1, random initializers. */
const config = (name: string): EmbeddingHashTableConfig => ({
  name,
  seed: 7,
  entry: {
    segments: [
      { dimSize: 4, initConfig: { randomUniform: { minval: -0.1, maxval: 0.1 } }, optConfig: { adagrad: { learningRate: 0.05, initialAccumulatorValue: 0.2, weightDecayFactor: 0.01 } } },
      { dimSize: 3, initConfig: { randomUniform: { minval: -0.2, maxval: 0.2 } }, optConfig: { ftrl: { learningRate: 0.1, l1RegularizationStrength: 0.001, l2RegularizationStrength: 0.01, beta: 0.5 } } },
      { dimSize: 2, initConfig: { zeros: {} }, optConfig: { ftrl: { learningRate: 0.01, learningRatePower: -1, initialAccumulatorValue: 0, l2RegularizationStrength: 0.5 } } },
    ],
  },
});
/** Width of a row of `config`. */
const DIM = 9;

/** Deterministic pseudo-random batches with repeated ids and ids above 2^53. */
function batches(steps: number, n: number, dim: number): Array<{ ids: bigint[]; grads: Float32Array }> {
  let s = 12345;
  const rnd = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
  return Array.from({ length: steps }, () => {
    const ids = Array.from({ length: n }, () => (rnd() < 0.2 ? (1n << 60n) + BigInt(Math.floor(rnd() * 5)) : BigInt(Math.floor(rnd() * 40))));
    const grads = Float32Array.from({ length: n * dim }, () => rnd() - 0.5);
    return { ids, grads };
  });
}

test.serial('importing monolith-ts does not load ioredis; opening a Redis table does', async (t) => {
  t.false(ioredisLoaded());
  conn = await RedisClusterConnection.connect({ nodes: [cluster.nodes[0]!] });
  t.true(ioredisLoaded());
  t.is(conn.masters().length, 3, 'the other masters are discovered from one seed node');
});

test.serial('Adagrad + FTRL (both learning-rate powers) rows updated by the server-side Function match the shared-memory table', async (t) => {
  const clock = fakeClock();
  const local = EmbeddingHashTable.create(config('match'), { clock: clock.now });
  const remote = await RedisEmbeddingTable.open(config('match'), conn, { clock: clock.now });
  t.is(remote.dim, DIM);
  const all = new Set<bigint>();
  for (const [step, b] of batches(6, 64, DIM).entries()) {
    b.ids.forEach((id) => all.add(id));
    t.true(close(await remote.lookup(b.ids), local.lookup(b.ids), 1e-6), `lookup of step ${step}`);
    local.applyGradients(b.ids, b.grads, { globalStep: step });
    await remote.applyGradients(b.ids, b.grads, { globalStep: step });
    clock.advance(1);
  }
  const ids = [...all];
  const want = local.lookupOnly(ids);
  const got = await remote.lookupOnly(ids);
  t.true(close(got, want, 1e-5), 'embeddings after 6 steps');
  t.is(await remote.size(), local.size);
  // One table's rows spread over every node.
  for (const p of cluster.ports) {
    const { stdout } = await run('redis-cli', ['-p', String(p), 'DBSIZE']);
    t.true(Number(stdout) > 0, `node ${p} holds rows`);
  }
});

test.serial('checkpoints: the Redis table saves EntryDump files the local table restores, and the other way round', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'mt-redis-ckpt-'));
  try {
    const clock = fakeClock();
    const remote = await RedisEmbeddingTable.open(config('ckpt'), conn, { clock: clock.now });
    const local = EmbeddingHashTable.create(config('ckpt'), { clock: clock.now });
    const b = batches(2, 50, DIM);
    for (const x of b) {
      await remote.applyGradients(x.ids, x.grads);
      local.applyGradients(x.ids, x.grads);
    }
    const ids = [...new Set(b.flatMap((x) => x.ids))];
    t.is(await saveRedisTable(remote, join(dir, 'r/ckpt'), { nshards: 2 }), ids.length);
    const fromRedis = EmbeddingHashTable.create(config('ckpt'));
    t.is(await restoreTable(fromRedis, join(dir, 'r/ckpt')), ids.length);
    t.true(close(fromRedis.lookupOnly(ids), local.lookupOnly(ids), 1e-6));
    // The optimizer state travels too: one more identical step keeps them equal.
    fromRedis.applyGradients(b[0]!.ids, b[0]!.grads);
    local.applyGradients(b[0]!.ids, b[0]!.grads);
    t.true(close(fromRedis.lookupOnly(ids), local.lookupOnly(ids), 1e-5));

    await saveTable(local, join(dir, 'l/ckpt'));
    await remote.applyGradients([999n], new Float32Array(DIM)); // a row the checkpoint does not have
    t.is(await restoreRedisTable(remote, join(dir, 'l/ckpt')), ids.length);
    t.is(await remote.size(), ids.length, 'restore replaces the rows');
    t.true(close(await remote.lookupOnly(ids), local.lookupOnly(ids), 1e-6));
    await remote.applyGradients(b[1]!.ids, b[1]!.grads);
    local.applyGradients(b[1]!.ids, b[1]!.grads);
    t.true(close(await remote.lookupOnly(ids), local.lookupOnly(ids), 1e-5));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test.serial('two trainers updating the same rows at once lose no update (each row update is atomic)', async (t) => {
  const a = await RedisEmbeddingTable.open(config('race'), { nodes: cluster.nodes });
  const b = await RedisEmbeddingTable.open(config('race'), { nodes: [cluster.nodes[2]!] });
  const local = EmbeddingHashTable.create(config('race'));
  const ids = Array.from({ length: 30 }, (_, i) => BigInt(i));
  const g = Float32Array.from({ length: 30 * DIM }, (_, i) => ((i % 11) - 5) / 10);
  await a.lookup(ids);
  const rounds = 10;
  await Promise.all(Array.from({ length: rounds }, (_, r) => (r % 2 ? a : b).applyGradients(ids, g)));
  for (let r = 0; r < rounds; r++) local.applyGradients(ids, g);
  t.true(close(await a.lookupOnly(ids), local.lookupOnly(ids), 1e-5));
  await a.close();
  await b.close();
});

test.serial('lookupOnly never creates rows; bad shapes and unsupported configs are typed errors', async (t) => {
  const table = await RedisEmbeddingTable.open(config('only'), conn);
  t.deepEqual(Array.from(await table.lookupOnly([5n, 6n])), new Array(2 * DIM).fill(0));
  t.is(await table.size(), 0);
  const v = await table.lookup([5n]);
  t.true(v.some((x) => x !== 0), 'lookup creates the row with the random initializer');
  t.is(await table.size(), 1);
  await t.throwsAsync(table.applyGradients([5n], new Float32Array(3)), { instanceOf: HashTableError, message: /needs 1 x 9 = 9 floats, got 3/ });
  await t.throwsAsync(RedisEmbeddingTable.open({ name: 'adam', entry: { segments: [{ dimSize: 2, optConfig: { adam: {} } }] } }, conn), { instanceOf: ConfigError, message: /segment 0 uses optimizer adam/ });
  // A row written under another entry config is reported, not misread.
  const other = await RedisEmbeddingTable.open({ name: 'only', entry: { segments: [{ dimSize: 2, optConfig: { sgd: {} } }] } }, conn);
  await t.throwsAsync(other.lookup([5n]), { instanceOf: HashTableError, message: /key mt:only:5 holds 96 bytes, rows of this table have 16/ });
});

test('a cluster that cannot be reached is a RedisNodeError naming the seed nodes, after timeoutMs', async (t) => {
  const started = Date.now();
  // Port 1 on loopback: nothing listens there (connections are refused).
  const err = await t.throwsAsync(RedisEmbeddingTable.open(config('none'), { nodes: ['127.0.0.1:1'], timeoutMs: 1000 }), { instanceOf: RedisNodeError });
  t.deepEqual(err!.nodes, ['127.0.0.1:1']);
  t.regex(err!.message, /127\.0\.0\.1:1/);
  t.true(Date.now() - started < 5000);
});
