import test from 'ava';
import { pairRecovery } from '../../bench/pair-recovery.js';
import { PlantedCtr } from '../../src/index.js';

const gen = new PlantedCtr({ seed: 1 });
const planted = (k: number) => (ia: number, ib: number) => gen.pairTerm(k, ia, ib);

test('pairRecovery: the planted term itself recovers fully; half of it plus additive parts has slope 0.5 and correlation 1', (t) => {
  const exact = pairRecovery(gen, 0, 50, planted(0));
  t.deepEqual(exact.map((b) => [b.from, b.to]), [[0, 10], [10, 30], [30, 50]]);
  for (const band of exact) {
    t.true(Math.abs(band.slope - 1) < 1e-9 && Math.abs(band.correlation - 1) < 1e-9, JSON.stringify(band));
    t.true(Math.abs(band.learntRms - band.plantedRms) < 1e-9);
  }
  // Per-id offsets are the first order's to carry: double-centring removes them.
  const halved = pairRecovery(gen, 0, 50, (ia, ib) => 0.5 * planted(0)(ia, ib) + 0.3 * Math.sin(ia) - 0.2 * Math.cos(ib) + 1);
  for (const band of halved) t.true(Math.abs(band.slope - 0.5) < 1e-9 && Math.abs(band.correlation - 1) < 1e-9, JSON.stringify(band));
});

test('pairRecovery: another pair\'s term or nothing recovers nothing', (t) => {
  // Pair 1's factors are drawn independently of pair 0's: evaluated on pair 0's ids, no relation.
  for (const band of pairRecovery(gen, 0, 100, planted(1))) t.true(Math.abs(band.correlation) < 0.35, JSON.stringify(band));
  for (const band of pairRecovery(gen, 0, 100, () => 0)) t.is(band.learntRms, 0);
});
