import test from 'ava';
import { join } from 'node:path';
import { lastValueFrom, tap, toArray } from 'rxjs';
import { ConfigError, fileSource, PlantedCtr, writePlantedCtrFile } from '../../../src/index.js';
import { tempDir } from '../../helpers.js';

test('PlantedCtr has the harder shape: Zipf vocabularies from 100 to 200,000, 6 multi-valued slots of 0-5 ids, named dense, 2 planted pairs', (t) => {
  const s = new PlantedCtr({ seed: 3 });
  t.is(s.slots, 26);
  t.is(Math.min(...s.vocabs), 100);
  t.is(Math.max(...s.vocabs), 200_000);
  t.is(s.multiValued.filter(Boolean).length, 6);
  t.deepEqual(s.denseNames, Array.from({ length: 13 }, (_, j) => `dense_${j}`));
  t.is(s.pairs.length, 2);
  for (const [a, b] of s.pairs) t.true(!s.multiValued[a] && !s.multiValued[b] && s.vocabs[a]! <= 5000 && s.vocabs[b]! <= 5000);
  const rows = Array.from({ length: 1500 }, () => s.sampleRow());
  const counts = new Set<number>();
  rows.forEach((r) => r.ids.forEach((ids, slot) => (s.multiValued[slot] ? counts.add(ids.length) : t.is(ids.length, 1))));
  t.deepEqual([...counts].sort(), [0, 1, 2, 3, 4, 5]);
  rows.forEach((r) => r.ids.forEach((ids, slot) => ids.forEach((id) => t.true(id >= 1 && id <= s.vocabs[slot]!))));
  const mean = rows.reduce((a, r) => a + r.dense[0]!, 0) / rows.length;
  t.true(Math.abs(mean) < 0.1, `dense_0 is standardized (mean ${mean})`);
  // The same seed replays the same stream.
  const again = new PlantedCtr({ seed: 3 });
  t.deepEqual(again.sampleRow(), new PlantedCtr({ seed: 3 }).sampleRow());
});

test('PlantedCtr reference: positive rate 0.2, Bayes AUC above the no-interaction ceiling; interactions: 0 closes the gap', (t) => {
  const ref = new PlantedCtr({ seed: 1 }).reference(10_000);
  t.true(Math.abs(ref.ctr - 0.2) < 0.015, `ctr ${ref.ctr}`);
  t.true(ref.bayesAuc > 0.78 && ref.bayesAuc < 0.83, `bayes ${ref.bayesAuc}`);
  t.true(ref.bayesAuc - ref.noInteractionAuc > 0.008, `gap ${ref.bayesAuc - ref.noInteractionAuc}`);
  const flat = new PlantedCtr({ seed: 1, interactions: 0 }).reference(5_000);
  t.is(flat.bayesAuc, flat.noInteractionAuc);
});

test('PlantedCtr rejects bad options with a ConfigError naming the option', (t) => {
  t.throws(() => new PlantedCtr({ vocabRange: [500, 100] }), { instanceOf: ConfigError, message: /vocabRange/ });
  t.throws(() => new PlantedCtr({ multiValuedSlots: 26 }), { instanceOf: ConfigError, message: /multiValuedSlots/ });
  t.throws(() => new PlantedCtr({ interactions: 1000 }), { instanceOf: ConfigError, message: /interactions/ });
});

for (const sortId of [true, false]) {
  test(`writePlantedCtrFile (${sortId ? 'sort-id' : 'lagrangex'} header) reads back through fileSource as the same batch`, async (t) => {
    const dir = await tempDir();
    const s = new PlantedCtr({ seed: 5 });
    const rows = Array.from({ length: 300 }, () => s.sampleRow());
    const path = join(dir, 'planted.pb');
    const layout = await writePlantedCtrFile(path, s, rows, { sortId, source: 'planted' });
    t.deepEqual(layout, sortId ? { sortId: true } : { lagrangexHeader: true });
    const got = await lastValueFrom(fileSource({ paths: path, layout, variant: 'instance', parse: s.parseConfig, batchSize: 300 }).pipe(tap((b) => b.ack?.()), toArray()));
    t.is(got.length, 1);
    const b = got[0]!.batch;
    const want = s.toBatch(rows);
    t.is(b.rows, 300);
    t.deepEqual(Array.from(b.labels), Array.from(want.labels));
    for (let k = 0; k < 26; k++) {
      t.deepEqual(Array.from(b.sparse[k]!.rowSplits), Array.from(want.sparse[k]!.rowSplits), `slot ${k + 1} splits`);
      t.deepEqual(Array.from(b.sparse[k]!.fids), Array.from(want.sparse[k]!.fids), `slot ${k + 1} fids`);
    }
    for (let j = 0; j < 13; j++) t.deepEqual(Array.from(b.dense.find((d) => d.name === `dense_${j}`)!.values), Array.from(want.dense[j]!.values));
  });
}

test("PlantedCtr.idProbability and pairTerm (through 'monolith-ts'): ids numbered by rank, probabilities summing to 1 and matching the sampled frequencies; the pair term is the planted factors' dot product", async (t) => {
  const { PlantedCtr: Planted } = await import('monolith-ts');
  const s = new Planted({ seed: 5 });
  const [ia, ib] = [3, 7];
  const dot = Array.from({ length: s.interactionDim }, (_, d) => s.pairFactor(0, 0, d, ia) * s.pairFactor(0, 1, d, ib)).reduce((a, b) => a + b, 0);
  t.true(Math.abs(s.pairTerm(0, ia, ib) - dot) < 1e-12 && dot !== 0);
  // The single-valued slot with the fewest ids: one draw per row.
  const slot = s.vocabs.reduce((best, v, i) => (!s.multiValued[i] && (best < 0 || v < s.vocabs[best]!) ? i : best), -1);
  const total = Array.from({ length: s.vocabs[slot]! }, (_, k) => s.idProbability(slot, k + 1)).reduce((a, b) => a + b, 0);
  t.true(Math.abs(total - 1) < 1e-9, `sum ${total}`);
  t.true(s.idProbability(slot, 1) > s.idProbability(slot, 2) && s.idProbability(slot, 2) > s.idProbability(slot, 50));
  t.is(s.idProbability(slot, 0), 0);
  t.is(s.idProbability(slot, s.vocabs[slot]! + 1), 0);
  const rows = 20_000;
  let ones = 0;
  for (let i = 0; i < rows; i++) if (s.sampleRow().ids[slot]!.includes(1)) ones++;
  const p = s.idProbability(slot, 1);
  t.true(Math.abs(ones / rows - p) < 4 * Math.sqrt((p * (1 - p)) / rows), `id 1 drawn ${ones / rows}, expected ${p}`);
});
