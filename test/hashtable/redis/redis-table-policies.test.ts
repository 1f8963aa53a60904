import test from 'ava';
import { EmbeddingHashTable, RedisEmbeddingTable } from 'monolith-ts';
import { startRedisCluster, type LocalRedisCluster } from './local-redis-cluster.js';

let cluster: LocalRedisCluster;
test.before(async () => {
  cluster = await startRedisCluster(3);
});
test.after.always(async () => cluster?.stop());

const entry = { segments: [{ dimSize: 4, optConfig: { adagrad: {} }, initConfig: { randomUniform: {} } }] };
// fid-v2 ids: slot in the top 16 bits of the high word.
const fid = (slot: number, id: number): bigint => (BigInt(slot) << 48n) | BigInt(id);

test('occurrence thresholds: an id becomes a row on the sighting after `threshold` misses, per slot, as in the shared-memory table; gradients of ids not admitted are dropped', async (t) => {
  const config = { name: 'thr', seed: 3, entry, occurrenceThreshold: { default: 2, slots: { 5: 0 } } };
  const remote = await RedisEmbeddingTable.open(config, { nodes: cluster.nodes });
  const local = EmbeddingHashTable.create(config);
  const ids = BigUint64Array.of(fid(1, 10), fid(5, 11));
  for (let k = 0; k < 3; k++) {
    const want = local.lookup(ids);
    const got = await remote.lookup(ids);
    t.deepEqual(Array.from(got), Array.from(want), `lookup ${k + 1}`);
    if (k < 2) {
      t.true(got.subarray(0, 4).every((v) => v === 0), 'slot 1: not an entry yet (zeros)');
      t.true(got.subarray(4).some((v) => v !== 0), 'slot 5 (threshold 0): an entry at once');
    }
  }
  t.is(await remote.size(), 2);
  // A gradient for an id not seen enough is dropped, not turned into a row.
  await remote.applyGradients(BigUint64Array.of(fid(1, 99)), new Float32Array(4).fill(1));
  t.is(await remote.size(), 2);
  await remote.clear();
  await remote.close();
});

test('expiry: a row\'s key lives its slot\'s expire time after its last update (Redis TTL, refreshed by every update); restoring skips rows already expired', async (t) => {
  const now = Math.floor(Date.now() / 1000);
  const config = { name: 'exp', entry, expireTime: { default: 1, slots: { 2: 2 } } };
  const remote = await RedisEmbeddingTable.open(config, { nodes: cluster.nodes }, { clock: () => now });
  const ttl = (id: bigint) => remote.connection.cluster.ttl(remote.keyOf(Number(id & 0xffffffffn), Number(id >> 32n)));
  const a = fid(1, 1);
  const b = fid(2, 1);
  await remote.lookup(BigUint64Array.of(a, b));
  t.true(Math.abs((await ttl(a)) - 86400) <= 2, `slot 1: ${await ttl(a)} s`);
  t.true(Math.abs((await ttl(b)) - 2 * 86400) <= 2, `slot 2: ${await ttl(b)} s`);
  await remote.connection.cluster.expire(remote.keyOf(1, 1 << 16), 100);
  await remote.applyGradients(BigUint64Array.of(a), new Float32Array(4).fill(0.5));
  t.true((await ttl(a)) > 86000, 'an update refreshes the expiry');
  // Rows as a checkpoint holds them: one updated 2 days ago (expired in slot 1), one 1 hour ago.
  const row = new Float32Array(remote.layout.stride);
  await remote.clear();
  await remote.putRows([
    { lo: 7, hi: 1 << 16, row, ts: now - 2 * 86400 },
    { lo: 8, hi: 1 << 16, row, ts: now - 3600 },
  ]);
  t.is(await remote.size(), 1);
  t.true(Math.abs((await ttl(fid(1, 8))) - (86400 - 3600)) <= 2);
  await remote.clear();
  await remote.close();
});

test('vocabulary regularization: the server-side FTRL scales its L2 by the counted (or given) vocabulary as the shared-memory table does', async (t) => {
  const ftrlEntry = (vocabulary?: number) => ({
    segments: [{ dimSize: 1, initConfig: { zeros: {} }, optConfig: { ftrl: { learningRate: 0.15, initialAccumulatorValue: 1e-6, beta: 0.001, l2RegularizationStrength: 0.004 } }, vocabularyRegularization: { exponent: 1.2, ...(vocabulary ? { vocabulary } : {}) } }],
  });
  const held = BigUint64Array.from({ length: 2000 }, (_, i) => fid(3, i + 1));
  const rare = BigUint64Array.of(fid(3, 999_999));
  const weights: number[] = [];
  for (const [name, vocabulary] of [['vocab-counted', undefined], ['vocab-given', 50]] as const) {
    const config = { name, entry: ftrlEntry(vocabulary) };
    const remote = await RedisEmbeddingTable.open(config, { nodes: cluster.nodes });
    const local = EmbeddingHashTable.create(config);
    local.lookup(held);
    await remote.lookup(held);
    local.applyGradients(rare, Float32Array.of(-0.01));
    await remote.applyGradients(rare, Float32Array.of(-0.01));
    const want = local.lookup(rare)[0]!;
    const got = (await remote.lookup(rare))[0]!;
    t.true(Math.abs(got - want) <= 1e-6 * Math.abs(want), `${name}: redis ${got} vs shared memory ${want}`);
    weights.push(got);
    await remote.clear();
    await remote.close();
  }
  t.true(weights[0]! < weights[1]! / 2, `2,000 ids counted: ${weights[0]} vs vocabulary 50 given: ${weights[1]}`);
});

test('regularizationScale: the server-side FTRL L2 and Adagrad weight decay are multiplied by it as in the shared-memory table', async (t) => {
  const optimizers = {
    ftrl: { ftrl: { learningRate: 0.15, initialAccumulatorValue: 1e-3, beta: 0.01, l2RegularizationStrength: 0.05 } },
    adagrad: { adagrad: { learningRate: 0.1, initialAccumulatorValue: 1e-3, weightDecayFactor: 0.05 } },
  };
  const ids = BigUint64Array.of(fid(4, 1), fid(4, 2));
  const grads = Float32Array.of(-0.3, 0.1, 0.2, -0.05);
  for (const [name, optConfig] of Object.entries(optimizers)) {
    const config = { name: `scale-${name}`, seed: 5, entry: { segments: [{ dimSize: 2, initConfig: { randomUniform: { minval: -0.5, maxval: 0.5 } }, optConfig }] } };
    const remote = await RedisEmbeddingTable.open(config, { nodes: cluster.nodes });
    const local = EmbeddingHashTable.create(config);
    const plain = EmbeddingHashTable.create(config);
    local.lookup(ids);
    plain.lookup(ids);
    await remote.lookup(ids);
    for (let k = 0; k < 3; k++) {
      local.applyGradients(ids, grads, { regularizationScale: 3 });
      plain.applyGradients(ids, grads);
      await remote.applyGradients(ids, grads, { regularizationScale: 3 });
    }
    const want = Array.from(local.lookup(ids));
    const got = Array.from(await remote.lookup(ids));
    got.forEach((v, i) => t.true(Math.abs(v - want[i]!) <= 1e-5 * Math.max(1, Math.abs(want[i]!)), `${name} weight ${i}: redis ${v} vs shared memory ${want[i]}`));
    t.notDeepEqual(want, Array.from(plain.lookup(ids)), `${name}: scale 3 changes the weights`);
    await remote.clear();
    await remote.close();
  }
});
