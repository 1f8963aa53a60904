import test from 'ava';
import { RedisEmbeddingTable, RedisNodeError } from 'monolith-ts';
import { startRedisCluster, type LocalRedisCluster } from './local-redis-cluster.js';

let cluster: LocalRedisCluster;
test.before(async () => {
  cluster = await startRedisCluster(3);
});
test.after.always(async () => cluster?.stop());

const config = { name: 'fail', entry: { segments: [{ dimSize: 4, optConfig: { adagrad: {} } }] } };
const ids = Array.from({ length: 200 }, (_, i) => BigInt(i));
const grads = new Float32Array(200 * 4).fill(0.1);

test.serial('a node that stops answering fails the batch after timeoutMs, naming it; once it answers again training continues', async (t) => {
  const table = await RedisEmbeddingTable.open(config, { nodes: cluster.nodes, timeoutMs: 1500 });
  await table.applyGradients(ids, grads);
  const before = await table.lookupOnly(ids);
  cluster.pause(0);
  const started = Date.now();
  try {
    const err = await t.throwsAsync(table.applyGradients(ids, grads), { instanceOf: RedisNodeError });
    const took = Date.now() - started;
    t.log(err!.message);
    t.deepEqual(err!.nodes, [cluster.nodes[0]!], err!.message);
    t.true(took >= 1400 && took < 6000, `failed after ${took} ms (timeoutMs 1500)`);
  } finally {
    cluster.resume(0);
  }
  // The rows on the other nodes were updated; the paused node's rows were not (or were, if its reply was only late).
  const after = await table.lookupOnly(ids);
  t.true(after.some((v, i) => v !== before[i]), 'the nodes that answered applied their part');
  await t.notThrowsAsync(table.applyGradients(ids, grads), 'the next batch succeeds');
  await table.close();
});

test.serial('a Redis node killed mid-run fails the next batch with a RedisNodeError naming it, without hanging', async (t) => {
  const table = await RedisEmbeddingTable.open(config, { nodes: cluster.nodes, timeoutMs: 3000 });
  await table.applyGradients(ids, grads);
  t.is(await table.size(), 200);
  cluster.kill(1);
  const started = Date.now();
  const err = await t.throwsAsync(table.applyGradients(ids, grads), { instanceOf: RedisNodeError });
  t.true(err!.nodes.includes(cluster.nodes[1]!), `names ${cluster.nodes[1]}: ${err!.message}`);
  t.true(err!.message.includes(String(cluster.ports[1])));
  t.log(err!.message);
  t.true(Date.now() - started < 10_000, 'fails within the timeout');
  await t.throwsAsync(table.lookupOnly(ids), { instanceOf: RedisNodeError });
  await table.close();
});
