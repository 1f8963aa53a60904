import Long from 'long';
import type { Batch } from '../../batch/batch.js';
import { ConfigError } from '../../errors.js';
import { parser } from '../../proto.js';
import { Rng } from '../../util/random.js';
import type { ParseConfig } from '../parse/parse-config.js';
import { aucOf, hashNormal, mix, zipfCdf } from './synthetic-ctr.js';

/**
 * A harder planted click-through stream, shaped like real CTR logs: sparse
 * slots with vocabularies from hundreds to hundreds of thousands of Zipf ids
 * (the big ones carrying almost no signal, so memorizing rare ids is
 * punished), multi-valued slots with a variable number of ids per row, named
 * standardized log-normal dense features, and labels from a hidden logit
 *
 *   bias + Σ_slot Σ_ids w(slot, id) + Σ_j d_j·x_j + Σ_(a,b) ⟨u_a(id_a), u_b(id_b)⟩
 *
 * whose factorization-machine terms sit on a few slot pairs among the
 * hundreds of candidates. The bias is set so the positive rate is `baseCtr`.
 * `reference()` gives the Bayes AUC (the planted probabilities) and the
 * no-interaction ceiling (the planted logit with each pair term replaced by
 * its best additive approximation, ⟨u_a, E u_b⟩ + ⟨E u_a, u_b⟩).
 */
export interface PlantedCtrOptions {
  seed?: number;
  /** Sparse slots (fid-v1 slots 1..n, features C1..Cn). Default 26. */
  sparseSlots?: number;
  /** How many of them are multi-valued (0..maxIdsPerRow ids per row). Default 6. */
  multiValuedSlots?: number;
  /** Most ids a multi-valued slot has in a row. Default 5. */
  maxIdsPerRow?: number;
  /** Smallest and largest vocabulary; slot vocabularies are spread geometrically between them (in seeded order). Default [100, 200_000]. */
  vocabRange?: [number, number];
  /** Zipf exponent s: P(rank k) ∝ k^-s. Default 1.1. */
  zipfExponent?: number;
  /** Dense features `dense_0..`, each standardized log-normal. Default 13. */
  denseFeatures?: number;
  /** Positive rate the bias is calibrated to. Default 0.2. */
  baseCtr?: number;
  /** Std of the id weights of a 100-id slot; a slot of V ids gets this × (100 / V)^idWeightVocabExponent. Default 0.7. */
  idWeightScale?: number;
  /**
   * How fast id weights shrink with the vocabulary (see idWeightScale). Default 0.6: a 200,000-id slot's
   * weights have std 0.7 × 0.0005^0.6 ≈ 0.007, so the big slots carry almost no signal, and an ideal
   * per-id learner gets within ≈0.005 of the no-interaction ceiling from 500k rows (at 0.35 the signal
   * sat in rare ids of the big slots, out of reach of any learner at that size).
   */
  idWeightVocabExponent?: number;
  /** Std of the dense weights. Default 0.2. */
  denseWeightScale?: number;
  /** Slot pairs with a planted FM term (chosen among single-valued slots of at most 5,000 ids). Default 2. */
  interactions?: number;
  /** Latent width of the planted FM terms. Default 4. */
  interactionDim?: number;
  /** Std of each planted FM term. Default 0.3. */
  interactionScale?: number;
}

/** One row: per slot its ids (ranks from 1; empty for a multi-valued slot without ids), dense values, label. */
export interface PlantedRow {
  ids: Uint32Array[];
  dense: Float32Array;
  label: number;
}

/** The stream's reference figures on a held-out sample. */
export interface PlantedReference {
  /** AUC of the planted probabilities: the best any learner can reach. */
  bayesAuc: number;
  /** AUC of the planted logit with each pair term replaced by its additive part: what a model without interactions can approach. */
  noInteractionAuc: number;
  /** Log loss of the planted probabilities. */
  bayesLogLoss: number;
  ctr: number;
}

const LOGNORMAL_MEAN = Math.exp(0.5);
const LOGNORMAL_STD = Math.sqrt((Math.E - 1) * Math.E);

export class PlantedCtr {
  readonly slots: number;
  readonly vocabs: number[];
  readonly multiValued: boolean[];
  readonly denseNames: string[];
  /** Interacting slot pairs (0-based slot indices). */
  readonly pairs: [number, number][];
  readonly bias: number;
  private readonly seed: number;
  private readonly maxIds: number;
  private readonly cdfs: Float64Array[];
  private readonly idScales: number[];
  private readonly denseWeights: Float64Array;
  /** Latent width of the planted FM terms. */
  readonly interactionDim: number;
  private readonly fmStd: number;
  /** Per pair and side, the Zipf-mean of the planted latent vectors. */
  private readonly fmMeans: [Float64Array, Float64Array][];
  private readonly weightTables: (Float64Array | undefined)[] = [];
  private readonly rng: Rng;
  private served = 0;

  constructor(opts: PlantedCtrOptions = {}) {
    this.seed = opts.seed ?? 1;
    this.slots = opts.sparseSlots ?? 26;
    const multi = opts.multiValuedSlots ?? 6;
    this.maxIds = opts.maxIdsPerRow ?? 5;
    const [vMin, vMax] = opts.vocabRange ?? [100, 200_000];
    const s = opts.zipfExponent ?? 1.1;
    const dense = opts.denseFeatures ?? 13;
    const ctr = opts.baseCtr ?? 0.2;
    const nPairs = opts.interactions ?? 2;
    this.interactionDim = opts.interactionDim ?? 4;
    const check = (ok: boolean, what: string) => {
      if (!ok) throw new ConfigError(`PlantedCtr: ${what}`);
    };
    check(Number.isInteger(this.slots) && this.slots >= 2 && this.slots <= 1023, `sparseSlots must be 2..1023, got ${this.slots}`);
    check(Number.isInteger(multi) && multi >= 0 && multi < this.slots, `multiValuedSlots must be 0..sparseSlots-1, got ${multi}`);
    check(Number.isInteger(this.maxIds) && this.maxIds >= 1 && this.maxIds <= 64, `maxIdsPerRow must be 1..64, got ${this.maxIds}`);
    check(Number.isInteger(vMin) && Number.isInteger(vMax) && vMin >= 1 && vMax >= vMin && vMax <= 1 << 24, `vocabRange must be integers 1 <= min <= max <= 2^24, got [${vMin}, ${vMax}]`);
    check(s > 0, `zipfExponent must be > 0, got ${s}`);
    check(Number.isInteger(dense) && dense >= 0, `denseFeatures must be an integer >= 0, got ${dense}`);
    check(ctr > 0 && ctr < 1, `baseCtr must be in (0, 1), got ${ctr}`);
    check(Number.isInteger(this.interactionDim) && this.interactionDim >= 1, `interactionDim must be an integer >= 1, got ${this.interactionDim}`);
    const pick = new Rng(mix(this.seed ^ 0x7a11));
    const order = shuffled(this.slots, pick);
    this.vocabs = new Array<number>(this.slots);
    order.forEach((slot, i) => (this.vocabs[slot] = Math.round(vMin * (vMax / vMin) ** (this.slots > 1 ? i / (this.slots - 1) : 0))));
    this.multiValued = new Array<boolean>(this.slots).fill(false);
    for (const slot of shuffled(this.slots, pick).slice(0, multi)) this.multiValued[slot] = true;
    const idScale = opts.idWeightScale ?? 0.7;
    const idExp = opts.idWeightVocabExponent ?? 0.6;
    this.idScales = this.vocabs.map((v) => idScale * (100 / v) ** idExp);
    this.cdfs = this.vocabs.map((v) => zipfCdf(v, s));
    this.denseNames = Array.from({ length: dense }, (_, j) => `dense_${j}`);
    this.denseWeights = Float64Array.from({ length: dense }, (_, j) => (opts.denseWeightScale ?? 0.2) * hashNormal(this.seed, 0xd0000 + j, 0));
    const candidates = Array.from({ length: this.slots }, (_, i) => i).filter((i) => !this.multiValued[i] && this.vocabs[i]! <= 5000);
    check(Number.isInteger(nPairs) && nPairs >= 0 && nPairs <= (candidates.length * (candidates.length - 1)) / 2, `interactions must be 0..${(candidates.length * (candidates.length - 1)) / 2} (pairs of single-valued slots of <= 5000 ids), got ${nPairs}`);
    this.pairs = [];
    while (this.pairs.length < nPairs) {
      const a = candidates[pick.int(0, candidates.length - 1)]!;
      const b = candidates[pick.int(0, candidates.length - 1)]!;
      if (a !== b && !this.pairs.some(([x, y]) => (x === a && y === b) || (x === b && y === a))) this.pairs.push([Math.min(a, b), Math.max(a, b)]);
    }
    // ⟨u, v⟩ of two N(0, σ²) vectors of width d has std σ²·√d.
    this.fmStd = Math.sqrt((opts.interactionScale ?? 0.3) / Math.sqrt(this.interactionDim));
    this.fmMeans = this.pairs.map((pair, k) => [0, 1].map((side) => this.zipfMeanVector(k, side, pair[side]!)) as [Float64Array, Float64Array]);
    this.bias = 0;
    this.bias = this.calibrateBias(Math.log(ctr / (1 - ctr)), ctr);
    this.rng = new Rng(this.seed);
  }

  /** The ParseConfig of this stream's records: C1..Cn on slots 1..n, dense_0.. of width 1, one label, LineId uid. */
  get parseConfig(): ParseConfig {
    return {
      sparse: Array.from({ length: this.slots }, (_, i) => ({ name: `C${i + 1}`, slot: i + 1 })),
      dense: this.denseNames.map((name) => ({ name, width: 1 })),
      labelWidth: 1,
      lineIdFields: ['uid'],
    };
  }

  idWeight(slot: number, id: number): number {
    const table = (this.weightTables[slot] ??= Float64Array.from({ length: this.vocabs[slot]! + 1 }, (_, k) => this.idScales[slot]! * hashNormal(this.seed, slot + 1, k)));
    return table[id]!;
  }

  /** How often `id` is drawn in `slot` (ids are numbered by rank: id 1 is the most frequent). */
  idProbability(slot: number, id: number): number {
    const cdf = this.cdfs[slot]!;
    return id < 1 || id > cdf.length ? 0 : cdf[id - 1]! - (id > 1 ? cdf[id - 2]! : 0);
  }

  /** Component d of the planted latent vector of `id` on side 0 or 1 of pair k (`pairs[k]`). */
  pairFactor(pair: number, side: number, d: number, id: number): number {
    return this.fmStd * hashNormal(this.seed, 0xf0000 + pair * 256 + side * 64 + d, id);
  }

  /** The planted pair term ⟨u_a, u_b⟩ of pair k for the ids `idA` (side 0) and `idB` (side 1). */
  pairTerm(k: number, idA: number, idB: number): number {
    let dot = 0;
    for (let d = 0; d < this.interactionDim; d++) dot += this.pairFactor(k, 0, d, idA) * this.pairFactor(k, 1, d, idB);
    return dot;
  }

  private zipfMeanVector(pair: number, side: number, slot: number): Float64Array {
    const cdf = this.cdfs[slot]!;
    const mean = new Float64Array(this.interactionDim);
    for (let k = 0; k < cdf.length; k++) {
      const p = cdf[k]! - (k > 0 ? cdf[k - 1]! : 0);
      for (let d = 0; d < this.interactionDim; d++) mean[d]! += p * this.pairFactor(pair, side, d, k + 1);
    }
    return mean;
  }

  /** The planted logit; `interactions: 'additive'` replaces each pair term by its additive part. */
  logit(row: Pick<PlantedRow, 'ids' | 'dense'>, interactions: 'full' | 'additive' = 'full'): number {
    let z = this.bias;
    for (let s = 0; s < this.slots; s++) for (const id of row.ids[s]!) z += this.idWeight(s, id);
    for (let j = 0; j < this.denseWeights.length; j++) z += this.denseWeights[j]! * row.dense[j]!;
    this.pairs.forEach(([a, b], k) => {
      const ia = row.ids[a]![0]!;
      const ib = row.ids[b]![0]!;
      if (interactions === 'full') {
        z += this.pairTerm(k, ia, ib);
        return;
      }
      const [ma, mb] = this.fmMeans[k]!;
      for (let d = 0; d < this.interactionDim; d++) z += this.pairFactor(k, 0, d, ia) * mb[d]! + ma[d]! * this.pairFactor(k, 1, d, ib);
    });
    return z;
  }

  /** The planted click probability of a row (its label is ignored). */
  probability(row: Pick<PlantedRow, 'ids' | 'dense'>): number {
    return 1 / (1 + Math.exp(-this.logit(row)));
  }

  private zipf(rng: Rng, slot: number): number {
    const cdf = this.cdfs[slot]!;
    const u = rng.float();
    let lo = 0;
    let hi = cdf.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid]! < u) lo = mid + 1;
      else hi = mid;
    }
    return lo + 1;
  }

  private sampleFeatures(rng: Rng): PlantedRow {
    const ids = Array.from({ length: this.slots }, (_, s) => {
      const n = this.multiValued[s] ? rng.int(0, this.maxIds) : 1;
      const out = new Uint32Array(n);
      for (let i = 0; i < n; i++) out[i] = this.zipf(rng, s);
      return out;
    });
    const dense = Float32Array.from(this.denseNames, () => (Math.exp(rng.normal()) - LOGNORMAL_MEAN) / LOGNORMAL_STD);
    return { ids, dense, label: 0 };
  }

  /** A fresh row from `rng` (default: this stream's generator). */
  sampleRow(rng: Rng = this.rng): PlantedRow {
    const row = this.sampleFeatures(rng);
    row.label = rng.float() < this.probability(row) ? 1 : 0;
    return row;
  }

  private calibrateBias(start: number, ctr: number): number {
    const rng = new Rng(mix(this.seed ^ 0xb1a5));
    const z = Float64Array.from({ length: 20_000 }, () => this.logit(this.sampleFeatures(rng)));
    const rate = (b: number) => z.reduce((acc, x) => acc + 1 / (1 + Math.exp(-(x + b))), 0) / z.length;
    let lo = start - 10;
    let hi = start + 10;
    for (let i = 0; i < 60; i++) {
      const mid = (lo + hi) / 2;
      if (rate(mid) < ctr) lo = mid;
      else hi = mid;
    }
    return (lo + hi) / 2;
  }

  /** The next `rows` rows of the stream as a Batch. */
  nextBatch(rows: number): Batch {
    const data = Array.from({ length: rows }, () => this.sampleRow());
    const first = this.served;
    this.served += rows;
    return this.toBatch(data, first);
  }

  /** Rows as a Batch: fid v1 (slot << 54 | id) ragged per slot, dense_j columns, labels, LineId uid. */
  toBatch(data: PlantedRow[], firstUid = 0): Batch {
    const rows = data.length;
    return {
      rows,
      sparse: Array.from({ length: this.slots }, (_, s) => {
        const rowSplits = new Int32Array(rows + 1);
        for (let i = 0; i < rows; i++) rowSplits[i + 1] = rowSplits[i]! + data[i]!.ids[s]!.length;
        const fids = new Uint32Array(rowSplits[rows]! * 2);
        const hi = ((s + 1) << 22) >>> 0;
        for (let i = 0; i < rows; i++) {
          let at = rowSplits[i]!;
          for (const id of data[i]!.ids[s]!) {
            fids[2 * at] = id;
            fids[2 * at++ + 1] = hi;
          }
        }
        return { name: `C${s + 1}`, slot: s + 1, fids, rowSplits };
      }),
      dense: this.denseNames.map((name, j) => ({ name, width: 1, values: Float32Array.from(data, (r) => r.dense[j]!) })),
      labels: Float32Array.from(data, (r) => r.label),
      labelWidth: 1,
      weights: new Float32Array(rows).fill(1),
      lineId: [{ name: 'uid', values: BigUint64Array.from({ length: rows }, (_, i) => BigInt(firstUid + i)) }],
    };
  }

  /** A row as a serialized parser.proto.Instance: fid-v1 ids, `dense_j` float features, label, LineId uid. */
  toInstance(row: PlantedRow, uid = 0): Uint8Array {
    const fid: Long[] = [];
    row.ids.forEach((ids, s) => ids.forEach((id) => fid.push(Long.fromBits(id, (s + 1) << 22, true))));
    return parser.proto.Instance.encode({
      fid,
      feature: this.denseNames.map((name, j) => ({ name, floatValue: [row.dense[j]!] })),
      label: [row.label],
      lineId: { uid: Long.fromNumber(uid, true) },
    }).finish();
  }

  /** Bayes AUC, no-interaction ceiling, Bayes log loss and CTR on `samples` rows drawn with `sampleSeed`. */
  reference(samples = 100_000, sampleSeed = mix(this.seed ^ 0xbeef)): PlantedReference {
    const rng = new Rng(sampleSeed);
    return this.referenceOn(Array.from({ length: samples }, () => this.sampleRow(rng)));
  }

  /** The reference figures on given rows (e.g. a held-out set). */
  referenceOn(rows: PlantedRow[]): PlantedReference {
    const labels = Uint8Array.from(rows, (r) => r.label);
    const full = Float64Array.from(rows, (r) => this.logit(r));
    const additive = Float64Array.from(rows, (r) => this.logit(r, 'additive'));
    let ll = 0;
    rows.forEach((r, i) => {
      const p = 1 / (1 + Math.exp(-full[i]!));
      ll -= r.label ? Math.log(p) : Math.log(1 - p);
    });
    return { bayesAuc: aucOf(full, labels), noInteractionAuc: aucOf(additive, labels), bayesLogLoss: ll / rows.length, ctr: labels.reduce((a, l) => a + l, 0) / rows.length };
  }
}

function shuffled(n: number, rng: Rng): number[] {
  const a = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}
