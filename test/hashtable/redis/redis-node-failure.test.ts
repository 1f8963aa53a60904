import test from 'ava';
import { RedisEmbeddingTable, RedisNodeError } from 'monolith-ts';
import { startRedisCluster, type LocalRedisCluster } from './local-redis-cluster.js';

let cluster: LocalRedisCluster;
test.before(async () => {
  cluster = await startRedisCluster(3);
});
test.after.always(async () => cluster?.stop());

test('a Redis node killed mid-run fails the next batch with a RedisNodeError naming it, without hanging', async (t) => {
  const table = await RedisEmbeddingTable.open({ name: 'kill', entry: { segments: [{ dimSize: 4, optConfig: { adagrad: {} } }] } }, { nodes: cluster.nodes, timeoutMs: 3000 });
  const ids = Array.from({ length: 200 }, (_, i) => BigInt(i));
  const grads = new Float32Array(200 * 4).fill(0.1);
  await table.applyGradients(ids, grads);
  t.is(await table.size(), 200);
  cluster.kill(1);
  const started = Date.now();
  const err = await t.throwsAsync(table.applyGradients(ids, grads), { instanceOf: RedisNodeError });
  t.true(err!.nodes.includes(cluster.nodes[1]!), `names ${cluster.nodes[1]}: ${err!.message}`);
  t.true(err!.message.includes(String(cluster.ports[1])));
  t.true(Date.now() - started < 10_000, 'fails within the timeout');
  await t.throwsAsync(table.lookupOnly(ids), { instanceOf: RedisNodeError });
  await table.close();
});
