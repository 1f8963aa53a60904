import test from 'ava';
import { lastValueFrom, tap, toArray } from 'rxjs';
import { RecordParser } from '../../../src/streams/parse/record-parser.js';
import { SyntheticCtr, aucOf, syntheticCtrSource } from '../../../src/streams/sources/synthetic-ctr.js';
import { Rng } from '../../../src/util/random.js';
import { plain } from '../parse/wire-helpers.js';

test('synthetic CTR stream: seeded and deterministic, cold, Criteo-shaped batches', async (t) => {
  const src = syntheticCtrSource({ seed: 42, batchSize: 64, batches: 3, vocabSize: 1000 });
  const a = await lastValueFrom(src.pipe(tap((sb) => sb.ack?.()), toArray()));
  const b = await lastValueFrom(src.pipe(tap((sb) => sb.ack?.()), toArray()));
  t.is(a.length, 3);
  t.deepEqual(a.map((x) => plain(x.batch)), b.map((x) => plain(x.batch)));
  const other = await lastValueFrom(syntheticCtrSource({ seed: 43, batchSize: 64, batches: 1, vocabSize: 1000 }).pipe(toArray()));
  t.notDeepEqual(plain(other[0]!.batch), plain(a[0]!.batch));
  const batch = a[0]!.batch;
  t.is(batch.sparse.length, 26);
  t.is(batch.dense[0]!.width, 13);
  t.is(batch.sparse[25]!.fids[1]! >>> 22, 26, 'slot in the fid v1 high bits');
  t.deepEqual(Array.from((batch.lineId[0]!.values as BigUint64Array).slice(0, 2)), [0n, 1n]);
  t.deepEqual(Array.from((a[1]!.batch.lineId[0]!.values as BigUint64Array).slice(0, 1)), [64n], 'uids continue across batches');
});

test('ids are Zipf distributed with the configured exponent', (t) => {
  const gen = new SyntheticCtr({ seed: 1, sparseSlots: 1, denseFeatures: 0, vocabSize: 5000, zipfExponent: 1.2, interactions: 0 });
  const counts = new Map<number, number>();
  const rng = new Rng(9);
  for (let i = 0; i < 40_000; i++) {
    const id = gen.sampleRow(rng).ids[0]!;
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  const c = (k: number) => counts.get(k) ?? 0;
  const ratio = c(1) / c(2);
  t.true(Math.abs(ratio - 2 ** 1.2) < 0.25, `count(1)/count(2) = ${ratio}, expected ${2 ** 1.2}`);
  t.true(c(1) > c(10) && c(10) > c(100) / 2);
  t.true(Math.max(...counts.keys()) <= 5000);
});

test('planted model: labels follow plantedProbability, its AUC is known and beats a degraded scorer', (t) => {
  const gen = new SyntheticCtr({ seed: 7, vocabSize: 2000 });
  const { auc, ctr } = gen.plantedAuc(30_000);
  t.true(auc > 0.7 && auc < 0.95, `planted AUC ${auc}`);
  const again = gen.plantedAuc(30_000);
  t.is(again.auc, auc, 'deterministic');
  const other = gen.plantedAuc(30_000, 12345);
  t.true(Math.abs(other.auc - auc) < 0.015, `a second held-out sample agrees: ${other.auc} vs ${auc}`);
  // label rate matches the mean planted probability
  const rng = new Rng(3);
  let pSum = 0;
  let labels = 0;
  const scores: number[] = [];
  const noisy: number[] = [];
  const ys: number[] = [];
  for (let i = 0; i < 20_000; i++) {
    const row = gen.sampleRow(rng);
    const p = gen.plantedProbability(row);
    pSum += p;
    labels += row.label;
    scores.push(p);
    noisy.push(p + rng.normal(0, 0.3));
    ys.push(row.label);
  }
  t.true(Math.abs(labels / 20_000 - pSum / 20_000) < 0.012, `label mean ${labels / 20_000} vs mean p ${pSum / 20_000}`);
  t.true(Math.abs(ctr - pSum / 20_000) < 0.02);
  t.true(aucOf(scores, ys) > aucOf(noisy, ys) + 0.02, 'the planted probabilities rank better than a noisy copy');
  // batches and rows round-trip, and Instances written by toInstance parse back to the same rows
  const batch = gen.nextBatch(16);
  const row3 = gen.rowOf(batch, 3);
  const parsed = new RecordParser(gen.parseConfig, { variant: 'instance' }).parse(Array.from({ length: 16 }, (_, i) => gen.toInstance(gen.rowOf(batch, i), i)));
  t.deepEqual(plain(parsed), plain(batch));
  t.is(gen.plantedProbability(gen.rowOf(parsed, 3)), gen.plantedProbability(row3));
});

test('aucOf: ties get half credit; config errors', (t) => {
  t.is(aucOf([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]), 0.75);
  t.is(aucOf([0.5, 0.5], [0, 1]), 0.5);
  t.throws(() => new SyntheticCtr({ zipfExponent: 0 }), { message: /zipfExponent/ });
  t.throws(() => syntheticCtrSource({ batchSize: 0 }), { message: /batchSize/ });
});
