import test from 'ava';
import { createRequire } from 'node:module';
// Through the package entry, as a user imports it (the name resolves to this package via "exports").
import { train, syntheticCtrSource } from 'monolith-ts';

const require = createRequire(import.meta.url);
const rdkafkaLoaded = (): boolean => Object.keys(require.cache).some((p) => p.includes('node-rdkafka'));

test('a model module importing the package entry trains with 2 worker threads; no thread loads node-rdkafka', async (t) => {
  t.false(rdkafkaLoaded(), 'importing monolith-ts does not load node-rdkafka');
  // Before node-rdkafka was loaded lazily, every worker importing the model (hence the entry) failed with
  // "Module did not self-register" once the main thread had loaded the native addon: load it here first.
  require('node-rdkafka');
  t.true(rdkafkaLoaded());
  const summary = await train({
    model: { url: new URL('./fixtures/entry-model.js', import.meta.url).href, options: { seed: 1 } },
    source: syntheticCtrSource({ seed: 5, sparseSlots: 4, vocabSize: 30, batchSize: 32, batches: 6 }),
    workers: 2,
  });
  t.is(summary.steps, 6);
  t.true(Number.isFinite(summary.lastLoss));
});
