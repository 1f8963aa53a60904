import { StreamingAuc } from '../model/metrics/streaming-auc.js';
import type { HeadSpec } from '../model/model-spec.js';
import type { StepResult } from './step-result.js';

export interface HeadEval {
  /** Exact ROC AUC (classification heads; NaN without both classes). */
  auc?: number;
  meanPrediction: number;
  meanLabel: number;
  /** mean prediction / mean label (1 is calibrated; NaN when the mean label is 0). */
  calibration: number;
}

export interface EvalSummary {
  rows: number;
  /** Row-weighted mean of the batches' losses. */
  loss: number;
  heads: Record<string, HeadEval>;
}

/** Accumulates eval step results into loss, AUC per head and calibration. */
export class EvalAccumulator {
  private rows = 0;
  private lossSum = 0;
  private readonly acc: Map<string, { head: HeadSpec; auc: StreamingAuc; pred: number; label: number }>;

  constructor(heads: readonly HeadSpec[]) {
    this.acc = new Map(heads.map((h) => [h.name, { head: h, auc: new StreamingAuc(), pred: 0, label: 0 }]));
  }

  add(r: StepResult): void {
    this.rows += r.examples;
    if (r.loss !== undefined) this.lossSum += r.loss * r.examples;
    const width = r.labelWidth ?? 1;
    for (const a of this.acc.values()) {
      const preds = r.predictions?.[a.head.name];
      if (!preds || !r.labels) continue;
      const labels = Float32Array.from({ length: r.examples }, (_, i) => r.labels![i * width + a.head.labelIndex]!);
      if (a.head.kind === 'classification') a.auc.update(labels, preds);
      for (let i = 0; i < r.examples; i++) {
        a.pred += preds[i]!;
        a.label += labels[i]!;
      }
    }
  }

  summary(): EvalSummary {
    const n = this.rows;
    const heads: Record<string, HeadEval> = {};
    for (const [name, a] of this.acc) {
      const meanPrediction = a.pred / n;
      const meanLabel = a.label / n;
      heads[name] = { ...(a.head.kind === 'classification' ? { auc: a.auc.result() } : {}), meanPrediction, meanLabel, calibration: meanPrediction / meanLabel };
    }
    return { rows: n, loss: this.lossSum / n, heads };
  }
}
