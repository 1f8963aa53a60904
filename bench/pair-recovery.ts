import type { PlantedCtr } from '../src/streams/sources/planted-ctr.js';

/** The recovery of a planted pair term over one band of id ranks. */
export interface RecoveryBand {
  /** Ranks [from, to) of the rarer id of the two (id k of a slot is its k-th most frequent). */
  from: number;
  to: number;
  /** Least-squares slope of the learnt term on the planted one: 1 is full size, below 1 shrunk. */
  slope: number;
  correlation: number;
  plantedRms: number;
  learntRms: number;
}

/**
 * How well a learnt pair term recovers planted pair k of `gen` over the `top`
 * most frequent ids of each side. Both terms, as matrices over the id pairs,
 * are double-centred under the ids' frequencies — an additive part belongs to
 * the first-order weights, which learn it either way — and compared with
 * frequency weights, in bands by the rank of the rarer id.
 */
export function pairRecovery(gen: PlantedCtr, k: number, top: number, learnt: (idA: number, idB: number) => number, edges = [0, 10, 30, 100, 400]): RecoveryBand[] {
  const [a, b] = gen.pairs[k]!;
  const n = Math.min(top, gen.vocabs[a]!, gen.vocabs[b]!);
  const wa = Array.from({ length: n }, (_, i) => gen.idProbability(a, i + 1));
  const wb = Array.from({ length: n }, (_, j) => gen.idProbability(b, j + 1));
  const P = centred(n, (i, j) => gen.pairTerm(k, i + 1, j + 1), wa, wb);
  const L = centred(n, (i, j) => learnt(i + 1, j + 1), wa, wb);
  const bands: RecoveryBand[] = [];
  for (let e = 0; e + 1 < edges.length && edges[e]! < n; e++) {
    const [from, to] = [edges[e]!, Math.min(edges[e + 1]!, n)];
    let lp = 0, pp = 0, ll = 0, w = 0;
    for (let i = 0; i < to; i++)
      for (let j = 0; j < to; j++) {
        if (Math.max(i, j) < from) continue;
        const x = wa[i]! * wb[j]!;
        [lp, pp, ll, w] = [lp + x * L[i]![j]! * P[i]![j]!, pp + x * P[i]![j]! ** 2, ll + x * L[i]![j]! ** 2, w + x];
      }
    bands.push({ from, to, slope: lp / pp, correlation: lp / Math.sqrt(pp * ll), plantedRms: Math.sqrt(pp / w), learntRms: Math.sqrt(ll / w) });
  }
  return bands;
}

/** m(i, j) minus its weighted row and column means plus the grand mean. */
function centred(n: number, m: (i: number, j: number) => number, wa: number[], wb: number[]): number[][] {
  const M = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => m(i, j)));
  const [sa, sb] = [wa.reduce((x, y) => x + y, 0), wb.reduce((x, y) => x + y, 0)];
  const rowMean = M.map((row) => row.reduce((acc, x, j) => acc + x * wb[j]!, 0) / sb);
  const colMean = wb.map((_, j) => M.reduce((acc, row, i) => acc + row[j]! * wa[i]!, 0) / sa);
  const grand = rowMean.reduce((acc, x, i) => acc + x * wa[i]!, 0) / sa;
  return M.map((row, i) => row.map((x, j) => x - rowMean[i]! - colMean[j]! + grand));
}

export function formatRecovery(bands: RecoveryBand[]): string {
  return bands.map((r) => `  ranks ${r.from}–${r.to}: slope ${r.slope.toFixed(2)}, correlation ${r.correlation.toFixed(2)}, RMS planted ${r.plantedRms.toFixed(3)} learnt ${r.learntRms.toFixed(3)}`).join('\n');
}
