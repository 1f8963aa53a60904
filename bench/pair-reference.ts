/**
 * A reference learner for the pair terms of the planted stream, in plain
 * TypeScript outside the runtime, to tell what the rows allow from what the
 * shipped models do. It trains like the shipped models — batches of 512 whose
 * gradients are batch means, first-order weights by the same FTRL with the same
 * per-slot vocabulary L2 — and adds a field-weighted FM,
 *
 *   logit = bias + w·dense + Σ first-order + Σ_(a,b) r_ab ⟨v_a, v_b⟩,
 *
 * over a chosen set of slot pairs: 'none', 'planted' (only the stream's
 * interacting pairs, r = 1: the structure known), 'single' (every pair of
 * single-valued slots) or 'all' (every pair; multi-valued slots pooled by
 * `pool`). Embeddings by Adagrad (`acc` = initial accumulator) or by Newton
 * steps (`--factors newton`: FTRL with learning-rate power −1 and the prior
 * precision `factorL2`, as the shipped first order), r by Adam.
 *
 *   node dist/bench/pair-reference.js [--examples 131072] [--pairs planted] [--acc 1e-8] [--lr 0.05]
 *                                     [--pool sum|mean] [--pair-lr 0.01] [--initial-pair-weight 0]
 *                                     [--start random|planted|planted-frequent] [--known-count 300]
 *                                     [--factors adagrad|newton] [--factor-l2 0.013] [--diagnose 400]
 *
 * `--diagnose K` prints, per planted pair, how well the learnt pair term
 * recovers the planted one over the K most frequent ids of each side (see
 * pair-recovery.ts), next to the ideal learner's estimates (ideal-learner.ts).
 */
import { pathToFileURL } from 'node:url';
import { ftrlStepExponent } from '../src/hashtable/optimizers/ftrl.js';
import { LEARNING_DEFAULTS } from '../src/model/models/learning-defaults.js';
import { PlantedCtr, type PlantedRow } from '../src/streams/sources/planted-ctr.js';
import { IdealLearner } from './ideal-learner.js';
import { formatRecovery, pairRecovery } from './pair-recovery.js';
import { aucOf, mix } from '../src/streams/sources/synthetic-ctr.js';
import { Rng } from '../src/util/random.js';

export interface PairReferenceOptions {
  examples: number;
  pairs: 'none' | 'planted' | 'single' | 'all';
  pool: 'sum' | 'mean';
  /** Embedding Adagrad learning rate and initial accumulator; embeddings start uniform in ±init. */
  lr: number;
  acc: number;
  init: number;
  dim: number;
  /** Adam learning rate of the pair weights r, and their starting value. */
  pairLr: number;
  initialPairWeight: number;
  batch: number;
  /** Starting output bias (default the logit of the stream's 0.2 positive rate). */
  initialBias: number;
  /**
   * 'planted' (with `--pairs planted`): each id's factors start at its planted ones, pair k's in
   * components k·w..k·w+w−1 (w the planted width). 'planted-frequent': only the ids the pass will
   * show at least `knownCount` times start there, the others at random.
   */
  start: 'random' | 'planted' | 'planted-frequent';
  knownCount: number;
  /** 'adagrad' (lr, acc) or 'newton': FTRL with power −1, α = 1/batch and L2 `factorL2` (the prior precision ×1/batch). */
  factors: 'adagrad' | 'newton';
  factorL2: number;
  /** > 0: print the recovery of the planted pair terms over this many most frequent ids per side. */
  diagnose: number;
}

const DEFAULTS: PairReferenceOptions = { examples: 131_072, pairs: 'planted', pool: 'sum', lr: 0.05, acc: 1e-8, init: 0.01, dim: 8, pairLr: 0.01, initialPairWeight: 0, batch: 512, initialBias: Math.log(0.2 / 0.8), start: 'random', knownCount: 300, factors: 'adagrad', factorL2: 0.013, diagnose: 0 };
/** The shipped first-order settings (LEARNING_DEFAULTS.biasOptimizer and biasVocabularyRegularization). */
const shipped = LEARNING_DEFAULTS.biasOptimizer.ftrl!;
const FTRL = {
  alpha: shipped.learningRate!,
  power: ftrlStepExponent(shipped),
  beta: shipped.beta!,
  l2: shipped.l2RegularizationStrength!,
  exponent: LEARNING_DEFAULTS.biasVocabularyRegularization!.exponent!,
  reference: LEARNING_DEFAULTS.biasVocabularyRegularization!.reference!,
};
const DENSE_LR = 0.5;

export function run(opts: Partial<PairReferenceOptions> = {}): { auc: number; strongest: string[]; bayesAuc: number; ceiling: number } {
  const o = { ...DEFAULTS, ...opts };
  const gen = new PlantedCtr({ seed: 1 });
  // The held-out rows of bench/learning-quality.ts.
  const heldOutRng = new Rng(mix(4242));
  const heldOut = Array.from({ length: 20_000 }, () => gen.sampleRow(heldOutRng));
  const ref = gen.referenceOn(heldOut);
  const S = gen.slots;
  const key = (s: number, id: number) => s * 2 ** 25 + id;
  const fz = new Map<number, number>();
  const fn = new Map<number, number>();
  const seen = new Array<number>(S).fill(0);
  const l2Of = (s: number) => FTRL.l2 * Math.max(1, seen[s]! / FTRL.reference) ** FTRL.exponent;
  const first = (s: number, k: number) => {
    const z = fz.get(k);
    return z === undefined ? 0 : -z / ((FTRL.beta + fn.get(k)! ** FTRL.power) / FTRL.alpha + l2Of(s));
  };
  const dense = new Float64Array(gen.denseNames.length);
  let bias = o.initialBias;
  const initRng = new Rng(7);
  /** v: the factors; a: Adagrad's accumulator, or Newton's summed squared gradients with z its FTRL state. */
  const emb = new Map<number, { v: Float64Array; a: Float64Array; z: Float64Array | null }>();
  const planted = o.pairs === 'planted';
  // The ideal learner over the same rows: each id's count over the pass ('planted-frequent') and its estimates (--diagnose).
  const ideal = o.start === 'planted-frequent' || o.diagnose > 0 ? new IdealLearner({ seed: 1 }, o.examples) : null;
  if (o.start !== 'random' && (!planted || o.dim < gen.interactionDim * gen.pairs.length)) throw new Error(`pair-reference: --start ${o.start} needs --pairs planted and --dim >= ${gen.interactionDim * gen.pairs.length}`);
  const startingFactors = (k: number) => {
    const [s, id] = [Math.floor(k / 2 ** 25), k % 2 ** 25];
    const v = new Float64Array(o.dim);
    gen.pairs.forEach((pair, p) => pair.forEach((slot, side) => slot === s && v.set(Array.from({ length: gen.interactionDim }, (_, d) => gen.pairFactor(p, side, d, id)), p * gen.interactionDim)));
    return v;
  };
  const vec = (k: number) => {
    let e = emb.get(k);
    if (!e) {
      const known = o.start === 'planted' || (o.start === 'planted-frequent' && ideal!.count(Math.floor(k / 2 ** 25), k % 2 ** 25) >= o.knownCount);
      const v = known ? startingFactors(k) : Float64Array.from({ length: o.dim }, () => (initRng.float() * 2 - 1) * o.init);
      const newton = o.factors === 'newton';
      // Newton's z starts where its weight is v: w = −z / (n/α + L2) with n = 0.
      emb.set(k, (e = { v, a: new Float64Array(o.dim).fill(newton ? 0 : o.acc), z: newton ? v.map((x) => -x * o.factorL2) : null }));
    }
    return e.v;
  };
  const slots = Array.from({ length: S }, (_, s) => s).filter((s) => o.pairs === 'all' || (o.pairs === 'single' && !gen.multiValued[s]) || (o.pairs === 'planted' && gen.pairs.some((p) => p.includes(s))));
  const pairs: [number, number][] = [];
  for (const a of slots) for (const b of slots) if (a < b && (o.pairs !== 'planted' || gen.pairs.some(([x, y]) => x === a && y === b))) pairs.push([a, b]);
  const r = new Float64Array(pairs.length).fill(planted ? 1 : o.initialPairWeight);
  const m1 = new Float64Array(pairs.length);
  const m2 = new Float64Array(pairs.length);
  let adamStep = 0;
  const poolScale = (n: number) => (o.pool === 'mean' && n > 1 ? 1 / n : 1);
  const pooled = (row: PlantedRow, s: number) => {
    const out = new Float64Array(o.dim);
    const ids = row.ids[s]!;
    for (const id of ids) {
      const v = vec(key(s, id));
      for (let d = 0; d < o.dim; d++) out[d]! += poolScale(ids.length) * v[d]!;
    }
    return out;
  };
  const forward = (row: PlantedRow) => {
    let z = bias;
    row.ids.forEach((ids, s) => ids.forEach((id) => (z += first(s, key(s, id)))));
    dense.forEach((w, j) => (z += w * row.dense[j]!));
    const pv = new Map(slots.map((s) => [s, pooled(row, s)]));
    const dots = pairs.map(([a, b]) => pv.get(a)!.reduce((acc, x, d) => acc + x * pv.get(b)![d]!, 0));
    dots.forEach((x, p) => (z += r[p]! * x));
    return { z, pv, dots };
  };
  for (let done = 0; done < o.examples; done += o.batch) {
    const rows = Array.from({ length: Math.min(o.batch, o.examples - done) }, () => gen.sampleRow());
    const g1 = new Map<number, number>();
    const gv = new Map<number, Float64Array>();
    const gr = new Float64Array(pairs.length);
    const gd = new Float64Array(dense.length);
    let gb = 0;
    for (const row of rows) {
      const { z, pv, dots } = forward(row);
      const e = (1 / (1 + Math.exp(-z)) - row.label) / rows.length; // the batch-mean gradient
      gb += e;
      row.dense.forEach((x, j) => (gd[j]! += e * x));
      row.ids.forEach((ids, s) =>
        ids.forEach((id) => {
          const k = key(s, id);
          if (!fz.has(k) && !g1.has(k)) seen[s]!++;
          g1.set(k, (g1.get(k) ?? 0) + e);
        }),
      );
      pairs.forEach(([a, b], p) => {
        gr[p]! += e * dots[p]!;
        for (const [self, other] of [[a, b], [b, a]] as const) {
          const ids = row.ids[self]!;
          for (const id of ids) {
            const k = key(self, id);
            let g = gv.get(k);
            if (!g) gv.set(k, (g = new Float64Array(o.dim)));
            for (let d = 0; d < o.dim; d++) g[d]! += poolScale(ids.length) * e * r[p]! * pv.get(other)![d]!;
          }
        }
      });
    }
    for (const [k, g] of g1) {
      const s = Math.floor(k / 2 ** 25);
      const w = first(s, k);
      const n = fn.get(k) ?? 0;
      fz.set(k, (fz.get(k) ?? 0) + g - (((n + g * g) ** FTRL.power - n ** FTRL.power) / FTRL.alpha) * w);
      fn.set(k, n + g * g);
    }
    for (const [k, g] of gv) {
      const e = emb.get(k)!;
      if (e.z) {
        const perN = o.batch; // 1/α
        for (let d = 0; d < o.dim; d++) {
          const gg = g[d]! * g[d]!;
          e.z[d]! += g[d]! - perN * gg * e.v[d]!;
          e.v[d] = -e.z[d]! / (perN * (e.a[d]! += gg) + o.factorL2);
        }
      } else for (let d = 0; d < o.dim; d++) e.v[d]! -= (o.lr * g[d]!) / Math.sqrt((e.a[d]! += g[d]! * g[d]!));
    }
    if (!planted) {
      adamStep++;
      for (let p = 0; p < pairs.length; p++) {
        m1[p] = 0.9 * m1[p]! + 0.1 * gr[p]!;
        m2[p] = 0.999 * m2[p]! + 0.001 * gr[p]! ** 2;
        r[p]! -= (o.pairLr * (m1[p]! / (1 - 0.9 ** adamStep))) / (Math.sqrt(m2[p]! / (1 - 0.999 ** adamStep)) + 1e-7);
      }
    }
    bias -= DENSE_LR * gb;
    gd.forEach((g, j) => (dense[j]! -= DENSE_LR * g));
  }
  const auc = aucOf(heldOut.map((row) => forward(row).z), heldOut.map((row) => row.label));
  if (ideal && o.diagnose > 0) {
    gen.pairs.forEach(([a, b], k) => {
      const p = pairs.findIndex(([x, y]) => x === a && y === b);
      if (p < 0) return;
      const learnt = (ia: number, ib: number) => r[p]! * vec(key(a, ia)).reduce((acc, x, d) => acc + x * vec(key(b, ib))[d]!, 0);
      console.log(`C${a + 1}×C${b + 1}, this learner:\n${formatRecovery(pairRecovery(gen, k, o.diagnose, learnt))}`);
      console.log(`C${a + 1}×C${b + 1}, the ideal learner's estimates:\n${formatRecovery(pairRecovery(gen, k, o.diagnose, (ia, ib) => ideal.pairTerm(k, ia, ib)))}`);
    });
  }
  const strongest = pairs
    .map(([a, b], p) => ({ name: `C${a + 1}×C${b + 1}`, w: Math.abs(r[p]!) }))
    .sort((x, y) => y.w - x.w)
    .slice(0, 4)
    .map((x) => `${x.name} ${x.w.toFixed(2)}`);
  return { auc, strongest, bayesAuc: ref.bayesAuc, ceiling: ref.noInteractionAuc };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const opts: Record<string, string | number> = {};
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i += 2) {
    const name = argv[i]!.replace(/^--/, '').replace(/-(\w)/g, (_, c: string) => c.toUpperCase());
    if (!(name in DEFAULTS)) throw new Error(`pair-reference: unknown flag ${argv[i]}`);
    const value = argv[i + 1] ?? '';
    opts[name] = typeof DEFAULTS[name as keyof PairReferenceOptions] === 'number' ? Number(value) : value;
  }
  const t0 = performance.now();
  const res = run(opts as Partial<PairReferenceOptions>);
  console.log(`${JSON.stringify(opts)}: held-out AUC ${res.auc.toFixed(4)} (Bayes ${res.bayesAuc.toFixed(4)}, ceiling ${res.ceiling.toFixed(4)}); strongest pairs ${res.strongest.join(', ')}; ${((performance.now() - t0) / 1000).toFixed(0)} s`);
}
