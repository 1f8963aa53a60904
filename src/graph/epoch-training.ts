import { lastValueFrom, tap } from 'rxjs';
import type { Batch, SourceBatch } from '../batch/batch.js';
import { ConfigError } from '../errors.js';
import { StreamingAuc } from '../model/metrics/streaming-auc.js';
import { log } from '../util/log.js';
import { TrainStep } from '../workers/train-step.js';
import { CheckpointSaver } from './checkpoint-saver.js';
import { DEFAULT_RARE_ID_COUNT, FirstPassIdCounts } from '../hashtable/first-pass-ids.js';
import { TrainingPipeline, type PipelineOptions } from './training-pipeline.js';

/** Held-out figures after one pass. */
export interface EpochReport {
  /** 1-based pass number. */
  epoch: number;
  /** Examples trained in this pass. */
  examples: number;
  /** Mean training loss over the pass (example-weighted). */
  trainLoss: number;
  /** Held-out log loss, AUC, and calibration (mean prediction / mean label) of the first head. */
  heldOutLoss: number;
  heldOutAuc: number;
  calibration: number;
  /** Global step at the end of the pass. */
  globalStep: number;
  /** Held-out AUC fell while training loss fell (against the previous pass). */
  overfitting: boolean;
}

export interface EpochTrainingOptions extends Omit<PipelineOptions, 'source' | 'mode' | 'checkpoint'> {
  /** The training data of pass `epoch` (1-based): called once per pass, e.g. to reopen the files. */
  trainSource: (epoch: number) => AsyncIterable<Batch | SourceBatch> | Iterable<Batch | SourceBatch>;
  /** The held-out data, read after every pass (called once per evaluation; e.g. `() => fileBatches(…)`). */
  heldOut: () => AsyncIterable<Batch | SourceBatch> | Iterable<Batch | SourceBatch>;
  /** Passes at most. */
  epochs: number;
  /** Stop after this many passes without a better held-out AUC. Default: never stop early. */
  patience?: number;
  /** Keep the best pass (by held-out AUC) as a checkpoint in this directory (it holds only that one). */
  bestCheckpointDir?: string;
  /** Load the best pass back into the tables and dense weights before returning (needs bestCheckpointDir). Default true. */
  restoreBest?: boolean;
  /** Held-out AUC must beat the best by more than this to count as better. Default 0. */
  minDelta?: number;
  onEpoch?: (report: EpochReport) => void;
  /**
   * Multiply the tables' L2 regularization (FTRL L2, weight decay) by the pass number, so pass k
   * trains against a prior k times as strong. Default true. Each pass over the same rows adds their
   * likelihood once more while the prior stays one: from the second pass on, an unscaled prior
   * weighs less and less against rows already seen, and rare ids memorize them.
   */
  scaleRegularizationByPass?: boolean;
  /**
   * Passes after the first leave out of their batches every id seen at most this many times in the
   * first pass (its entry keeps what the first pass learnt). Default `DEFAULT_RARE_ID_COUNT` (8); 0 keeps every id. See
   * `FirstPassIdCounts` for why.
   */
  leaveOutRareIds?: number;
}

export interface EpochTrainingResult {
  epochs: EpochReport[];
  /** The pass with the best held-out AUC. */
  best: EpochReport;
  stoppedEarly: boolean;
  /** The global step of the best checkpoint, when one was kept. */
  bestCheckpointStep?: number;
  /** The trained state (the best pass when it was restored): pass them to another pipeline or an exporter. */
  tables: TrainingPipeline['tables'];
  dense: TrainingPipeline['dense'];
}

const EPS = 1e-7;

/**
 * Multi-pass training with a held-out evaluation after each pass: training
 * loss, held-out log loss, AUC and calibration per pass; the best pass kept as
 * a checkpoint; early stopping after `patience` passes without improvement;
 * and a warning when held-out AUC falls while training loss falls (the model
 * is memorizing the training data). One pipeline runs all passes, so the
 * tables and optimizer state carry over from pass to pass; each evaluation
 * runs while the workers are held at a step boundary.
 */
export async function trainEpochs(opts: EpochTrainingOptions): Promise<EpochTrainingResult> {
  if (!(Number.isInteger(opts.epochs) && opts.epochs >= 1)) throw new ConfigError(`epochs must be an integer >= 1, got ${opts.epochs}`);
  if (opts.patience !== undefined && !(Number.isInteger(opts.patience) && opts.patience >= 1)) throw new ConfigError(`patience must be an integer >= 1, got ${opts.patience}`);
  const { trainSource, heldOut, epochs, patience, bestCheckpointDir, restoreBest, minDelta, onEpoch, scaleRegularizationByPass, leaveOutRareIds, ...pipelineOpts } = opts;
  const rareIds = leaveOutRareIds ?? DEFAULT_RARE_ID_COUNT;
  if (!(Number.isInteger(rareIds) && rareIds >= 0)) throw new ConfigError(`leaveOutRareIds must be an integer >= 0, got ${leaveOutRareIds}`);
  const firstPass = rareIds > 0 && epochs > 1 ? new FirstPassIdCounts(rareIds) : undefined;
  const reports: EpochReport[] = [];
  let stoppedEarly = false;
  let lossSum = 0;
  let lossExamples = 0;
  let best: EpochReport | undefined;
  let bestCheckpointStep: number | undefined;
  let sinceBest = 0;
  // eslint-disable-next-line prefer-const
  let p: TrainingPipeline;
  let evaluator: TrainStep | undefined;
  let saver: CheckpointSaver | undefined;

  const evaluate = async (epoch: number, examples: number): Promise<boolean> => {
    evaluator ??= new TrainStep({ spec: p.spec, tables: p.tables, dense: p.dense, worker: -1 });
    const auc = new StreamingAuc();
    let ll = 0;
    let n = 0;
    let predSum = 0;
    let labelSum = 0;
    for await (const item of heldOut()) {
      const b = 'rows' in item ? item : item.batch;
      if (!('rows' in item)) item.ack?.();
      const preds = Object.values(evaluator.run(b, 'eval').predictions ?? {})[0];
      if (!preds) throw new ConfigError('trainEpochs: the model produced no predictions in eval mode');
      const labels = Array.from({ length: b.rows }, (_, i) => b.labels[i * b.labelWidth]!);
      auc.update(labels.map((l) => (l > 0.5 ? 1 : 0)), preds);
      labels.forEach((l, i) => {
        const q = Math.min(1 - EPS, Math.max(EPS, preds[i]!));
        ll -= l * Math.log(q) + (1 - l) * Math.log(1 - q);
        predSum += preds[i]!;
        labelSum += l;
      });
      n += b.rows;
    }
    if (n === 0) throw new ConfigError('trainEpochs: the held-out data is empty');
    const prev = reports.at(-1);
    const report: EpochReport = {
      epoch,
      examples,
      trainLoss: lossExamples > 0 ? lossSum / lossExamples : NaN,
      heldOutLoss: ll / n,
      heldOutAuc: auc.result(),
      calibration: labelSum > 0 ? predSum / labelSum : NaN,
      globalStep: p.dense.globalStep,
      overfitting: false,
    };
    lossSum = 0;
    lossExamples = 0;
    if (prev && report.heldOutAuc < prev.heldOutAuc && report.trainLoss < prev.trainLoss) {
      report.overfitting = true;
      log.warn(`epoch ${epoch}: held-out AUC fell (${prev.heldOutAuc.toFixed(4)} → ${report.heldOutAuc.toFixed(4)}) while training loss fell (${prev.trainLoss.toFixed(4)} → ${report.trainLoss.toFixed(4)}): the model is overfitting the training data`);
    }
    reports.push(report);
    if (!best || report.heldOutAuc > best.heldOutAuc + (minDelta ?? 0)) {
      best = report;
      sinceBest = 0;
      if (bestCheckpointDir) {
        saver ??= new CheckpointSaver({ dir: bestCheckpointDir, tables: p.tables, dense: p.dense, keep: 1 });
        bestCheckpointStep = report.globalStep;
        await saver.save(bestCheckpointStep);
      }
    } else sinceBest++;
    onEpoch?.(report);
    return patience !== undefined && sinceBest >= patience;
  };

  async function* source(): AsyncGenerator<Batch | SourceBatch> {
    for (let epoch = 1; epoch <= epochs; epoch++) {
      let examples = 0;
      for await (const item of trainSource(epoch)) {
        const batch = 'rows' in item ? item : item.batch;
        examples += batch.rows;
        const trained = firstPass ? firstPass.forPass(batch, epoch) : batch;
        const pass = (scaleRegularizationByPass ?? true) ? { pass: epoch } : {};
        if (trained === batch && !('pass' in pass)) yield item;
        else yield 'rows' in item ? { batch: trained, ...pass } : { ...item, batch: trained, ...pass };
      }
      if (await p.gate.exclusive(() => evaluate(epoch, examples))) {
        stoppedEarly = epoch < epochs;
        return;
      }
    }
  }

  p = await TrainingPipeline.create({ ...pipelineOpts, source, mode: 'train' });
  try {
    await lastValueFrom(
      p.run().pipe(
        tap((r) => {
          if (r.loss !== undefined && Number.isFinite(r.loss)) {
            lossSum += r.loss * r.examples;
            lossExamples += r.examples;
          }
        }),
      ),
      { defaultValue: undefined },
    );
  } finally {
    await p.close();
  }
  if (bestCheckpointDir && (restoreBest ?? true) && saver && best !== reports.at(-1)) await saver.restore();
  return { epochs: reports, best: best!, stoppedEarly, tables: p.tables, dense: p.dense, ...(bestCheckpointStep !== undefined ? { bestCheckpointStep } : {}) };
}
