import test from 'ava';
import { ConfigError, EmbeddingHashTable, LEARNING_DEFAULTS, PlantedCtr, trainEpochs, type VocabularyRegularization } from 'monolith-ts';
import { initBackend } from '../../src/workers/tf-backend.js';
import { plantedBatches } from './planted-batches.js';

const DEEPFM = import.meta.resolve('monolith-ts/models/deepfm');

test.before(async () => {
  await initBackend('cpu');
});

/** A table of first-order weights as DeepFM's bias slice makes them (LEARNING_DEFAULTS FTRL). */
function biasTable(reg: VocabularyRegularization | null): EmbeddingHashTable {
  return EmbeddingHashTable.create({ entry: { segments: [{ dimSize: 1, initConfig: { zeros: {} }, optConfig: LEARNING_DEFAULTS.biasOptimizer, vocabularyRegularization: reg }] } });
}

/** Fills `t` with `n` ids, then gives a new (rare) id one gradient step; returns that id's weight. */
function rareIdWeight(t: EmbeddingHashTable, n: number): number {
  t.lookup(BigInt64Array.from({ length: n }, (_, i) => BigInt(i + 1)));
  const rare = [10_000_000n];
  t.applyGradients(rare, Float32Array.of(-0.01));
  return t.lookup(rare)[0]!;
}

test('a rare id of a big table gets a smaller first-order weight with vocabulary regularization; a small table or a given small vocabulary does not', (t) => {
  const shipped = LEARNING_DEFAULTS.biasVocabularyRegularization!;
  const plain = rareIdWeight(biasTable(null), 20_000);
  const big = rareIdWeight(biasTable(shipped), 20_000);
  const small = rareIdWeight(biasTable(shipped), 50);
  const told = rareIdWeight(biasTable({ ...shipped, vocabulary: 50 }), 20_000);
  t.log(`rare id weight: plain ${plain}, 20,000 ids held ${big}, 50 ids held ${small}, vocabulary 50 given ${told}`);
  t.true(plain > 0.1, `plain ${plain}`);
  t.true(big > 0 && big < plain / 20, `20,000 ids held: ${big} vs plain ${plain}`);
  t.is(small, plain);
  t.is(told, plain);
  // Counted ids, shared memory: a second instance attached to the same shards sees the same count.
  const a = biasTable(shipped);
  a.lookup(BigInt64Array.from({ length: 1000 }, (_, i) => BigInt(i + 1)));
  const b = EmbeddingHashTable.attach(a.handle());
  t.is(b.regularizationFactors()![0], Math.pow(1000 / 100, 1.2));
});

test('vocabulary regularization settings are checked', (t) => {
  for (const bad of [{ exponent: -1 }, { reference: 0 }, { vocabulary: Number.NaN }]) {
    const e = t.throws(() => biasTable(bad), { instanceOf: ConfigError });
    t.regex(e!.message, /EntryConfig segment 0: vocabularyRegularization\.(exponent|reference|vocabulary)/);
  }
});


test('DeepFM: per-slot vocabulary regularization of the first-order part raises held-out AUC on a planted stream with big vocabularies; vocabularies given per slot replace the counts', async (t) => {
  const stream = new PlantedCtr({ seed: 5, sparseSlots: 12, multiValuedSlots: 2, vocabRange: [100, 200_000] });
  const train = plantedBatches(stream, 16384, 256);
  const held = plantedBatches(stream, 4096, 1024);
  const options = { sparseSlots: 12, denseFeatureNames: stream.denseNames, hidden: [], interaction: 'none' };
  const auc = async (extra: Record<string, unknown>, workers = 0): Promise<number> =>
    (await trainEpochs({ model: { url: DEEPFM, options: { ...options, ...extra } }, workers, deterministic: true, trainSource: () => train, heldOut: () => held, epochs: 1 })).best.heldOutAuc;
  const shipped = await auc({}, 1);
  const off = await auc({ biasVocabularyRegularization: null });
  const allSmall = await auc({ biasVocabularyRegularization: { exponent: 1.2, vocabularies: Object.fromEntries(stream.vocabs.map((_, i) => [i + 1, 100])) } });
  const known = await auc({ biasVocabularyRegularization: { exponent: 1.2, vocabularies: Object.fromEntries(stream.vocabs.map((v, i) => [i + 1, v])) } });
  t.log(`held-out AUC: shipped (counted, 1 worker thread) ${shipped.toFixed(4)}, off ${off.toFixed(4)}, vocabularies all 100 ${allSmall.toFixed(4)}, true vocabularies ${known.toFixed(4)}`);
  t.true(shipped - off > 0.005, `shipped ${shipped} vs off ${off}`);
  t.is(allSmall, off, 'vocabularies of 100 leave every slot at factor 1');
  t.true(known - off > 0.005, `true vocabularies ${known} vs off ${off}`);
});

test("DeepFM: the embeddings' vocabulary-scaled weight decay keeps a second pass over the same rows from memorizing them", async (t) => {
  const stream = new PlantedCtr({ seed: 6 });
  const train = plantedBatches(stream, 24576, 512);
  const held = plantedBatches(stream, 4096, 1024);
  const options = { sparseSlots: stream.slots, denseFeatureNames: stream.denseNames };
  const passes = async (extra: Record<string, unknown>): Promise<number[]> =>
    (await trainEpochs({ model: { url: DEEPFM, options: { ...options, ...extra } }, workers: 0, deterministic: true, trainSource: () => train, heldOut: () => held, epochs: 2, leaveOutRareIds: 0 })).epochs.map((e) => e.heldOutAuc);
  const shipped = await passes({});
  const without = await passes({ vecVocabularyRegularization: null, vecOptimizer: { adagrad: { ...LEARNING_DEFAULTS.vecOptimizer.adagrad, weightDecayFactor: 0 } } });
  const f = (a: number[]) => a.map((x) => x.toFixed(4)).join(' → ');
  t.log(`held-out AUC, pass 1 → pass 2: shipped ${f(shipped)}, without the embeddings' decay ${f(without)}`);
  t.true(shipped[1]! - shipped[0]! > without[1]! - without[0]! + 0.002, `shipped ${f(shipped)} vs without ${f(without)}`);
});
