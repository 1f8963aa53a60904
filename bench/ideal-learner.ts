import { PlantedCtr, type PlantedCtrOptions, type PlantedRow } from '../src/streams/sources/planted-ctr.js';
import { aucOf, hashNormal } from '../src/streams/sources/synthetic-ctr.js';

/**
 * What learning can reach from the first `examples` rows of a planted stream:
 * each id's planted weight seen through the noise of its n occurrences (an
 * estimate with variance 1/(n·p(1−p)), p = 0.2), shrunk by the slot's true
 * prior variance (the posterior mean), ids never seen at 0; the dense weights
 * exact. Each planted pair factor of an id is estimated the same way, as if
 * the partner's factors were known (information n·p(1−p)·σ² per component,
 * σ² its prior variance). An approximation, and a reference only: it knows
 * the pairs and the priors.
 */
export class IdealLearner {
  readonly gen: PlantedCtr;
  private readonly counts: Uint32Array[];
  private readonly prior: number[];
  private readonly factorPrior: number;

  constructor(stream: PlantedCtrOptions, examples: number) {
    this.gen = new PlantedCtr(stream);
    const gen = this.gen;
    this.counts = gen.vocabs.map((v) => new Uint32Array(v + 1));
    for (let i = 0; i < examples; i++) gen.sampleRow().ids.forEach((ids, s) => ids.forEach((id) => this.counts[s]![id]!++));
    const meanSquare = (f: (id: number) => number, v: number) => {
      const m = Math.min(v, 2000);
      let a = 0;
      for (let id = 1; id <= m; id++) a += f(id) ** 2;
      return a / m;
    };
    this.prior = gen.vocabs.map((v, s) => meanSquare((id) => gen.idWeight(s, id), v));
    this.factorPrior = meanSquare((id) => gen.pairFactor(0, 0, 0, id), 2000);
  }

  /** How often `id` occurs in `slot` in the rows. */
  count(slot: number, id: number): number {
    return this.counts[slot]![id] ?? 0;
  }

  /** The estimated first-order weight of `id` in `slot`. */
  idWeight(slot: number, id: number): number {
    return posterior(this.gen.idWeight(slot, id), this.count(slot, id), 0.16, this.prior[slot]!, [0x1dea1, slot + 1, id]);
  }

  /** The estimated component d of `id`'s factor on side 0 or 1 of planted pair k. */
  pairFactor(k: number, side: number, d: number, id: number): number {
    const slot = this.gen.pairs[k]![side]!;
    return posterior(this.gen.pairFactor(k, side, d, id), this.count(slot, id), 0.16 * this.factorPrior, this.factorPrior, [0xfac0 + side, k * 64 + d, id]);
  }

  /** The estimated pair term of planted pair k for ids `idA`, `idB`. */
  pairTerm(k: number, idA: number, idB: number): number {
    let est = 0;
    for (let d = 0; d < this.gen.interactionDim; d++) est += this.pairFactor(k, 0, d, idA) * this.pairFactor(k, 1, d, idB);
    return est;
  }

  /**
   * Held-out AUCs: `firstOrder` keeps the additive part of the pair terms exact (about the best a
   * model without interactions can do; the no-interaction ceiling is its limit as the rows grow),
   * `withPairs` also uses the estimated pair terms (about the best a model that knows the pairs can do).
   */
  auc(heldOut: PlantedRow[]): { firstOrder: number; withPairs: number } {
    const gen = this.gen;
    const labels = heldOut.map((r) => r.label);
    // How far the estimated id weights of a row are from the planted ones, in logit.
    const idError = (r: PlantedRow) => {
      let e = 0;
      r.ids.forEach((ids, s) => ids.forEach((id) => (e += this.idWeight(s, id) - gen.idWeight(s, id))));
      return e;
    };
    const pairError = (r: PlantedRow) =>
      gen.pairs.reduce((acc, [a, b], k) => {
        const [ia, ib] = [r.ids[a]![0]!, r.ids[b]![0]!];
        return acc + this.pairTerm(k, ia, ib) - gen.pairTerm(k, ia, ib);
      }, 0);
    const errors = heldOut.map(idError);
    return {
      firstOrder: aucOf(heldOut.map((r, i) => gen.logit(r, 'additive') + errors[i]!), labels),
      withPairs: aucOf(heldOut.map((r, i) => gen.logit(r) + errors[i]! + pairError(r)), labels),
    };
  }
}

function posterior(truth: number, n: number, info: number, priorVar: number, noiseKey: [number, number, number]): number {
  if (n === 0) return 0;
  const noise = 1 / (info * n);
  return (truth + Math.sqrt(noise) * hashNormal(...noiseKey)) * (priorVar / (priorVar + noise));
}
