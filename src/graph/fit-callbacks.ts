import { concat, concatMap, defer, from, ignoreElements, of, type MonoTypeOperatorFunction, type Observable } from 'rxjs';
import { ConfigError } from '../errors.js';
import { StreamingAuc } from '../model/metrics/streaming-auc.js';
import type { StepResult } from './step-result.js';

/** Named figures passed to callbacks, as in tfjs (`loss`, `auc`, `auc_<head>`, custom metrics, `examples`). */
export type Logs = Record<string, number>;

/**
 * tfjs-style training callbacks. A stream has no natural epochs: an epoch
 * here is `stepsPerEpoch` steps (the last one may be shorter). Steps run in
 * workers, so there is no `onBatchBegin`: a step is seen when it has ended.
 * A returned promise is awaited before the next call.
 */
export interface TrainCallbacks {
  onTrainBegin?(logs: Logs): void | Promise<void>;
  onTrainEnd?(logs: Logs): void | Promise<void>;
  onEpochBegin?(epoch: number, logs: Logs): void | Promise<void>;
  onEpochEnd?(epoch: number, logs: Logs): void | Promise<void>;
  /** `batch` counts steps from 0 within the epoch; logs: `loss`, `size` (rows), `step` (global step), custom metrics. */
  onBatchEnd?(batch: number, logs: Logs): void | Promise<void>;
}

/** What `train()` returns about each epoch, as tfjs' History: `history.loss[i]` is epoch `epoch[i]`'s mean loss. */
export interface History {
  epoch: number[];
  history: Record<string, number[]>;
}

/** Sums one epoch's figures. */
class EpochFigures {
  private lossSum = 0;
  private lossN = 0;
  private examples = 0;
  private readonly aucs = new Map<string, StreamingAuc>();
  private readonly metrics = new Map<string, { sum: number; n: number }>();

  add(r: StepResult): void {
    this.examples += r.examples;
    if (r.loss !== undefined && Number.isFinite(r.loss)) {
      this.lossSum += r.loss;
      this.lossN++;
    }
    if (r.predictions && r.labels) {
      const heads = Object.keys(r.predictions);
      const width = r.labelWidth ?? 1;
      heads.forEach((head, k) => {
        const col = width === heads.length ? k : 0;
        const labels = width === 1 ? r.labels! : r.labels!.filter((_, i) => i % width === col);
        let auc = this.aucs.get(head);
        if (!auc) this.aucs.set(head, (auc = new StreamingAuc()));
        auc.update(labels, r.predictions![head]!);
      });
    }
    for (const [name, v] of Object.entries(r.metrics ?? {})) {
      const m = this.metrics.get(name) ?? { sum: 0, n: 0 };
      m.sum += v;
      m.n++;
      this.metrics.set(name, m);
    }
  }

  logs(): Logs {
    const logs: Logs = { examples: this.examples };
    if (this.lossN) logs.loss = this.lossSum / this.lossN;
    let first = true;
    for (const [head, auc] of this.aucs) {
      const v = auc.result();
      if (first && Number.isFinite(v)) logs.auc = v;
      if (Number.isFinite(v)) logs[`auc_${head}`] = v;
      first = false;
    }
    for (const [name, m] of this.metrics) logs[name] = m.sum / m.n;
    return logs;
  }
}

export interface FitCallbacksOptions {
  callbacks?: TrainCallbacks | TrainCallbacks[];
  /** Steps per epoch (default 100). */
  stepsPerEpoch?: number;
}

/**
 * An operator that calls tfjs-style callbacks around a StepResult stream and
 * fills `history` with each epoch's figures (fresh per subscription). Values
 * pass through unchanged, each after its callbacks resolved.
 */
export function fitCallbacks(opts: FitCallbacksOptions = {}): MonoTypeOperatorFunction<StepResult> & { history: History } {
  const perEpoch = opts.stepsPerEpoch ?? 100;
  if (!Number.isInteger(perEpoch) || perEpoch < 1) throw new ConfigError(`train: stepsPerEpoch must be a positive integer, got ${perEpoch}`);
  const cbs = opts.callbacks === undefined ? [] : Array.isArray(opts.callbacks) ? opts.callbacks : [opts.callbacks];
  const history: History = { epoch: [], history: {} };
  // Callbacks run synchronously unless one returns a promise (then the stream waits for it):
  // marble tests with synchronous callbacks see no extra delay.
  type Maybe = void | Promise<void>;
  const then = (x: Maybe, f: () => Maybe): Maybe => (x instanceof Promise ? x.then(f) : f());
  const each = (f: (c: TrainCallbacks) => Maybe | undefined): Maybe => cbs.reduce<Maybe>((acc, c) => then(acc, () => f(c)), undefined);
  const settle = <T>(x: Maybe, value: T): Observable<T> => (x instanceof Promise ? from(x.then(() => value)) : of(value));
  const op: MonoTypeOperatorFunction<StepResult> = (source) =>
    defer(() => {
      history.epoch.length = 0;
      for (const k of Object.keys(history.history)) delete history.history[k];
      let epoch = 0;
      let inEpoch = 0;
      let figures = new EpochFigures();
      const total = new EpochFigures();
      const endEpoch = (): Maybe => {
        const logs = figures.logs();
        history.epoch.push(epoch);
        for (const [k, v] of Object.entries(logs)) (history.history[k] ??= []).push(v);
        const e = epoch++;
        inEpoch = 0;
        figures = new EpochFigures();
        return each((c) => c.onEpochEnd?.(e, logs));
      };
      return concat(
        defer(() => settle(each((c) => c.onTrainBegin?.({})), 0)).pipe(ignoreElements()),
        source.pipe(
          concatMap((r) => {
            const begin = inEpoch === 0 ? each((c) => c.onEpochBegin?.(epoch, {})) : undefined;
            const done = then(begin, () => {
              figures.add(r);
              total.add(r);
              const logs: Logs = { step: r.step, size: r.examples, ...(r.loss !== undefined ? { loss: r.loss } : {}), ...r.metrics };
              return then(
                each((c) => c.onBatchEnd?.(inEpoch, logs)),
                () => (++inEpoch >= perEpoch ? endEpoch() : undefined),
              );
            });
            return settle(done, r);
          }),
        ),
        defer(() => settle(then(inEpoch > 0 ? endEpoch() : undefined, () => each((c) => c.onTrainEnd?.(total.logs()))), 0)).pipe(ignoreElements()),
      );
    });
  return Object.assign(op, { history });
}
