/**
 * The linear baseline of the learning-quality bench: logistic regression
 * trained online with per-coordinate FTRL-Proximal (McMahan et al., 2013),
 * one example at a time, on the same rows the models see. Features: one
 * coordinate per (slot, id) — a multi-valued slot adds each of its ids — one
 * per dense feature (its value) and a bias.
 */
import type { PlantedRow } from '../src/streams/sources/planted-ctr.js';

export interface FtrlLogisticOptions {
  alpha?: number;
  beta?: number;
  l1?: number;
  l2?: number;
}

export class FtrlLogistic {
  private readonly z = new Map<number, number>();
  private readonly n = new Map<number, number>();
  private readonly o: Required<FtrlLogisticOptions>;
  private readonly idx: number[] = [];
  private readonly val: number[] = [];

  constructor(opts: FtrlLogisticOptions = {}) {
    this.o = { alpha: 0.05, beta: 1, l1: 1, l2: 1, ...opts };
  }

  private features(row: Pick<PlantedRow, 'ids' | 'dense'>): void {
    this.idx.length = 0;
    this.val.length = 0;
    this.idx.push(0);
    this.val.push(1);
    row.ids.forEach((ids, s) => ids.forEach((id) => (this.idx.push((s + 1) * 2 ** 25 + id), this.val.push(1))));
    row.dense.forEach((x, j) => (this.idx.push(-1 - j), this.val.push(x)));
  }

  private weight(i: number): number {
    const z = this.z.get(i) ?? 0;
    if (Math.abs(z) <= this.o.l1) return 0;
    const n = this.n.get(i) ?? 0;
    return -(z - Math.sign(z) * this.o.l1) / ((this.o.beta + Math.sqrt(n)) / this.o.alpha + this.o.l2);
  }

  private margin(): number {
    let m = 0;
    for (let k = 0; k < this.idx.length; k++) m += this.weight(this.idx[k]!) * this.val[k]!;
    return m;
  }

  predict(row: Pick<PlantedRow, 'ids' | 'dense'>): number {
    this.features(row);
    return 1 / (1 + Math.exp(-Math.max(-35, Math.min(35, this.margin()))));
  }

  /** One online step on a labelled row. */
  learn(row: PlantedRow): void {
    const p = this.predict(row);
    const g0 = p - row.label;
    for (let k = 0; k < this.idx.length; k++) {
      const i = this.idx[k]!;
      const g = g0 * this.val[k]!;
      const n = this.n.get(i) ?? 0;
      const sigma = (Math.sqrt(n + g * g) - Math.sqrt(n)) / this.o.alpha;
      this.z.set(i, (this.z.get(i) ?? 0) + g - sigma * this.weight(i));
      this.n.set(i, n + g * g);
    }
  }

  /** Non-zero weights (the model's size). */
  get nonZero(): number {
    let c = 0;
    for (const i of this.z.keys()) if (this.weight(i) !== 0) c++;
    return c;
  }
}
