import Long from 'long';
import type { Observable } from 'rxjs';
import type { Batch, SourceBatch } from '../../batch/batch.js';
import { ConfigError } from '../../errors.js';
import { parser } from '../../proto.js';
import { Rng } from '../../util/random.js';
import { StreamingAuc } from '../../model/metrics/streaming-auc.js';
import type { ParseConfig } from '../parse/parse-config.js';
import { pacedSource, type PacingOptions } from './paced-source.js';

/**
 * A synthetic click-through stream with a *planted* model, for demos and for
 * measuring learning quality: Criteo-shaped rows (26 sparse slots with
 * Zipf-distributed ids, 13 dense features) whose labels are drawn from a hidden
 * logistic model. The model's own probabilities give the best AUC any learner
 * can reach on the stream, so a trained model's AUC can be read against it.
 *
 * Planted logit = bias + Σ_slot w(slot, id) + Σ_j v_j·x_j + Σ_pairs u(pair, idA, idB),
 * where every weight is a seeded hash of its indices (no tables), so any id of
 * an unbounded vocabulary has a fixed weight.
 */
export interface SyntheticCtrOptions {
  seed?: number;
  /** Sparse slots (named C1.., slots 1..). Default 26. */
  sparseSlots?: number;
  /** Dense features, in one dense column `dense`. Default 13. */
  denseFeatures?: number;
  /** Ids per slot (ranks 1..vocab). Default 10_000. */
  vocabSize?: number;
  /** Zipf exponent s: P(rank k) ∝ k^-s. Default 1.1. */
  zipfExponent?: number;
  /** Mean CTR the bias aims at (logit of it). Default 0.2. */
  baseCtr?: number;
  /** Std of the planted per-id weights. Default 0.3. */
  idWeightScale?: number;
  /** Std of the planted dense weights. Default 0.3. */
  denseWeightScale?: number;
  /** Pairwise slot interactions. Default 2. */
  interactions?: number;
  /** Std of the planted interaction weights. Default 0.5. */
  interactionScale?: number;
}

/** One row: the rank-id per slot (1-based), dense values, label. */
export interface CtrRow {
  ids: Uint32Array;
  dense: Float32Array;
  label: number;
}

export function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A standard normal that is a pure function of (seed, a, b). */
export function hashNormal(seed: number, a: number, b: number): number {
  const h = mix(mix(mix(seed + 0x9e3779b9) ^ a) ^ (b + 0x632be5ab));
  const u1 = (mix(h) + 1) / 4294967297;
  const u2 = mix(h ^ 0x5bd1e995) / 4294967296;
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

const cdfCache = new Map<string, Float64Array>();
export function zipfCdf(vocab: number, s: number): Float64Array {
  const key = `${vocab}:${s}`;
  let cdf = cdfCache.get(key);
  if (!cdf) {
    cdf = new Float64Array(vocab);
    let acc = 0;
    for (let k = 1; k <= vocab; k++) cdf[k - 1] = acc += k ** -s;
    for (let k = 0; k < vocab; k++) cdf[k]! /= acc;
    cdfCache.set(key, cdf);
  }
  return cdf;
}

/** Area under the ROC curve of `scores` for binary `labels` (ties get half credit; NaN without both classes). */
export function aucOf(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const auc = new StreamingAuc();
  auc.update(Array.from(labels, (l) => (l > 0.5 ? 1 : 0)), scores);
  return auc.result();
}

export class SyntheticCtr {
  readonly slots: number;
  readonly denseWidth: number;
  readonly vocab: number;
  readonly exponent: number;
  readonly bias: number;
  private readonly seed: number;
  private readonly opts: Required<Pick<SyntheticCtrOptions, 'idWeightScale' | 'denseWeightScale' | 'interactionScale'>>;
  private readonly cdf: Float64Array;
  private readonly denseWeights: Float64Array;
  /** Interacting slot pairs (0-based slot indices). */
  readonly pairs: [number, number][];
  private readonly rng: Rng;
  private served = 0;
  /** Per slot, the planted weights of ids 0..vocab (filled on first use). */
  private readonly weightTables: Float64Array[] = [];

  constructor(opts: SyntheticCtrOptions = {}) {
    this.seed = opts.seed ?? 1;
    this.slots = opts.sparseSlots ?? 26;
    this.denseWidth = opts.denseFeatures ?? 13;
    this.vocab = opts.vocabSize ?? 10_000;
    this.exponent = opts.zipfExponent ?? 1.1;
    const ctr = opts.baseCtr ?? 0.2;
    if (!(Number.isInteger(this.slots) && this.slots >= 1 && this.slots <= 1023)) throw new ConfigError(`sparseSlots must be 1..1023, got ${this.slots}`);
    if (!(Number.isInteger(this.denseWidth) && this.denseWidth >= 0)) throw new ConfigError(`denseFeatures must be an integer >= 0, got ${this.denseWidth}`);
    if (!(Number.isInteger(this.vocab) && this.vocab >= 1 && this.vocab <= 1 << 24)) throw new ConfigError(`vocabSize must be 1..2^24, got ${this.vocab}`);
    if (!(this.exponent > 0)) throw new ConfigError(`zipfExponent must be > 0, got ${this.exponent}`);
    if (!(ctr > 0 && ctr < 1)) throw new ConfigError(`baseCtr must be in (0, 1), got ${ctr}`);
    this.bias = Math.log(ctr / (1 - ctr));
    this.opts = {
      idWeightScale: opts.idWeightScale ?? 0.3,
      denseWeightScale: opts.denseWeightScale ?? 0.3,
      interactionScale: opts.interactionScale ?? 0.5,
    };
    this.cdf = zipfCdf(this.vocab, this.exponent);
    this.denseWeights = Float64Array.from({ length: this.denseWidth }, (_, j) => this.opts.denseWeightScale * hashNormal(this.seed, 0xd0000 + j, 0));
    const n = opts.interactions ?? 2;
    if (!(Number.isInteger(n) && n >= 0 && (n === 0 || this.slots >= 2))) throw new ConfigError(`interactions must be an integer >= 0 (and needs 2 slots), got ${n}`);
    const pick = new Rng(mix(this.seed ^ 0x1a7e));
    this.pairs = Array.from({ length: n }, () => {
      const a = pick.int(0, this.slots - 1);
      let b = pick.int(0, this.slots - 2);
      if (b >= a) b++;
      return [a, b] as [number, number];
    });
    this.rng = new Rng(this.seed);
  }

  /** The ParseConfig describing this stream's columns (and the Instances `toInstance` writes). */
  get parseConfig(): ParseConfig {
    return {
      sparse: Array.from({ length: this.slots }, (_, i) => ({ name: `C${i + 1}`, slot: i + 1 })),
      dense: this.denseWidth > 0 ? [{ name: 'dense', width: this.denseWidth }] : [],
      labelWidth: 1,
      lineIdFields: ['uid'],
    };
  }

  /** The planted weight of id `id` (rank) in 0-based slot `slot`. */
  idWeight(slot: number, id: number): number {
    const table = (this.weightTables[slot] ??= Float64Array.from({ length: this.vocab + 1 }, (_, k) => this.opts.idWeightScale * hashNormal(this.seed, slot + 1, k)));
    return table[id] ?? this.opts.idWeightScale * hashNormal(this.seed, slot + 1, id);
  }

  /** The planted model's click probability for a row (its label is ignored). */
  plantedProbability(row: Pick<CtrRow, 'ids' | 'dense'>): number {
    let z = this.bias;
    for (let s = 0; s < this.slots; s++) z += this.idWeight(s, row.ids[s]!);
    for (let j = 0; j < this.denseWidth; j++) z += this.denseWeights[j]! * row.dense[j]!;
    this.pairs.forEach(([a, b], k) => {
      z += this.opts.interactionScale * hashNormal(this.seed, 0xa0000 + k, mix(row.ids[a]!) ^ row.ids[b]!);
    });
    return 1 / (1 + Math.exp(-z));
  }

  private zipf(rng: Rng): number {
    const u = rng.float();
    const cdf = this.cdf;
    let lo = 0;
    let hi = cdf.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid]! < u) lo = mid + 1;
      else hi = mid;
    }
    return lo + 1;
  }

  /** A fresh row from `rng` (default: this stream's generator). */
  sampleRow(rng: Rng = this.rng): CtrRow {
    const ids = new Uint32Array(this.slots);
    for (let s = 0; s < this.slots; s++) ids[s] = this.zipf(rng);
    const dense = new Float32Array(this.denseWidth);
    for (let j = 0; j < this.denseWidth; j++) dense[j] = rng.normal();
    const row = { ids, dense, label: 0 };
    row.label = rng.float() < this.plantedProbability(row) ? 1 : 0;
    return row;
  }

  /** The next `rows` rows of the stream as a Batch (fid v1 = slot << 54 | id; LineId uid = row number). */
  nextBatch(rows: number): Batch {
    const data = Array.from({ length: rows }, () => this.sampleRow());
    const first = this.served;
    this.served += rows;
    return this.toBatch(data, first);
  }

  toBatch(data: CtrRow[], firstUid = 0): Batch {
    const rows = data.length;
    const splits = Int32Array.from({ length: rows + 1 }, (_, i) => i);
    const dense = new Float32Array(rows * this.denseWidth);
    data.forEach((r, i) => dense.set(r.dense, i * this.denseWidth));
    return {
      rows,
      sparse: Array.from({ length: this.slots }, (_, s) => {
        const fids = new Uint32Array(rows * 2);
        for (let i = 0; i < rows; i++) {
          fids[2 * i] = data[i]!.ids[s]!;
          fids[2 * i + 1] = ((s + 1) << 22) >>> 0;
        }
        return { name: `C${s + 1}`, slot: s + 1, fids, rowSplits: splits.slice() };
      }),
      dense: this.denseWidth > 0 ? [{ name: 'dense', width: this.denseWidth, values: dense }] : [],
      labels: Float32Array.from(data, (r) => r.label),
      labelWidth: 1,
      weights: new Float32Array(rows).fill(1),
      lineId: [{ name: 'uid', values: BigUint64Array.from({ length: rows }, (_, i) => BigInt(firstUid + i)) }],
    };
  }

  /** Row `r` of a batch this stream produced (ids and dense values back out of the columns). */
  rowOf(batch: Batch, r: number): CtrRow {
    const ids = new Uint32Array(this.slots);
    for (let s = 0; s < this.slots; s++) {
      const c = batch.sparse[s]!;
      ids[s] = c.fids[2 * c.rowSplits[r]!]!;
    }
    const dense = this.denseWidth > 0 ? batch.dense[0]!.values.slice(r * this.denseWidth, (r + 1) * this.denseWidth) : new Float32Array(0);
    return { ids, dense, label: batch.labels[r]! };
  }

  /** A row as a serialized parser.proto.Instance (fid v1 ids, dense as feature `dense`, label, LineId uid). */
  toInstance(row: CtrRow, uid = 0): Uint8Array {
    return parser.proto.Instance.encode({
      fid: Array.from(row.ids, (id, s) => Long.fromBits(id, (s + 1) << 22, true)),
      feature: this.denseWidth > 0 ? [{ name: 'dense', floatValue: Array.from(row.dense) }] : [],
      label: [row.label],
      lineId: { uid: Long.fromNumber(uid, true) },
    }).finish();
  }

  /**
   * The planted model's AUC (and mean CTR) on a held-out sample drawn from its
   * own generator (seeded apart from the stream): the best AUC a learner can
   * expect on this stream.
   */
  plantedAuc(samples = 100_000, sampleSeed = mix(this.seed ^ 0xbeef)): { auc: number; ctr: number } {
    const rng = new Rng(sampleSeed);
    const scores = new Float64Array(samples);
    const labels = new Uint8Array(samples);
    for (let i = 0; i < samples; i++) {
      const row = this.sampleRow(rng);
      scores[i] = this.plantedProbability(row);
      labels[i] = row.label;
    }
    return { auc: aucOf(scores, labels), ctr: labels.reduce((s, l) => s + l, 0) / samples };
  }
}

export interface SyntheticCtrSourceOptions extends SyntheticCtrOptions, PacingOptions {
  batchSize: number;
  /** Stop after this many batches. Default: endless. */
  batches?: number;
}

/** The synthetic CTR stream as a cold Observable: each subscription replays it from the seed. */
export function syntheticCtrSource(opts: SyntheticCtrSourceOptions): Observable<SourceBatch> {
  if (!(Number.isInteger(opts.batchSize) && opts.batchSize >= 1)) throw new ConfigError(`batchSize must be an integer >= 1, got ${opts.batchSize}`);
  new SyntheticCtr(opts); // validates up front
  return pacedSource(async function* () {
    const gen = new SyntheticCtr(opts);
    const n = opts.batches ?? Infinity;
    for (let i = 0; i < n; i++) yield { batch: gen.nextBatch(opts.batchSize) };
  }, opts);
}
