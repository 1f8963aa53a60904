import type { MonoTypeOperatorFunction } from 'rxjs';
import type { StepResult } from './step-result.js';
import { StreamingAuc } from '../model/metrics/streaming-auc.js';
import { passThrough } from './pass-through.js';

export interface ProgressLineOptions {
  /** Head whose predictions feed the running AUC (default: the first one). */
  head?: string;
  /** The running AUC covers this many most recent steps (default 50). */
  aucWindowSteps?: number;
  /** Where the line goes (default: stderr). */
  write?: (text: string) => void;
  /** Redraw at most this often; on a non-terminal one line per interval (default 500 ms; 5 s when not a TTY). */
  intervalMs?: number;
  /** Extra text after the figures (e.g. the planted model's AUC). */
  suffix?: string;
  now?: () => number;
  tty?: boolean;
}

export interface ProgressFigures {
  steps: number;
  examples: number;
  examplesPerSec: number;
  loss: number;
  auc: number;
}

/**
 * A live progress line for training: examples/s, an exponential moving
 * average of the loss and the AUC of the last `aucWindowSteps` steps'
 * predictions. Pass-through; `figures()` reads the latest numbers.
 */
export function progressLine(opts: ProgressLineOptions = {}): MonoTypeOperatorFunction<StepResult> & { figures(): ProgressFigures } {
  const now = opts.now ?? (() => performance.now());
  const tty = opts.tty ?? Boolean(process.stderr.isTTY);
  const write = opts.write ?? ((s: string) => void process.stderr.write(s));
  const interval = opts.intervalMs ?? (tty ? 500 : 5000);
  const window = opts.aucWindowSteps ?? 50;
  let start = -1;
  let lastDraw = -Infinity;
  let steps = 0;
  let examples = 0;
  let loss = NaN;
  // Two overlapping AUC windows: `current` fills while `previous` is reported.
  let current = new StreamingAuc();
  let previous: StreamingAuc | undefined;
  let inCurrent = 0;
  const figures = (): ProgressFigures => {
    const secs = start < 0 ? 0 : (now() - start) / 1000;
    const auc = (previous && previous.count > current.count ? previous : current).result();
    return { steps, examples, examplesPerSec: secs > 0 ? examples / secs : 0, loss, auc };
  };
  const draw = (final: boolean) => {
    const f = figures();
    const text = `step ${f.steps}  ${Math.round(f.examplesPerSec).toLocaleString('en-US')} examples/s  loss ${f.loss.toFixed(4)}  auc ${Number.isNaN(f.auc) ? '-' : f.auc.toFixed(4)}${opts.suffix ? `  ${opts.suffix}` : ''}`;
    write(tty ? `\r\x1b[K${text}${final ? '\n' : ''}` : `${text}\n`);
  };
  const op = passThrough<StepResult>(() => ({
    next: (r) => {
      if (start < 0) start = now();
      steps++;
      examples += r.examples;
      if (r.loss !== undefined) loss = Number.isNaN(loss) ? r.loss : 0.95 * loss + 0.05 * r.loss;
      const preds = r.predictions && (opts.head ? r.predictions[opts.head] : Object.values(r.predictions)[0]);
      if (preds && r.labels) {
        const width = r.labelWidth ?? 1;
        const labels = width === 1 ? r.labels : r.labels.filter((_, i) => i % width === 0);
        current.update(labels, preds);
        if (++inCurrent >= window) {
          previous = current;
          current = new StreamingAuc();
          inCurrent = 0;
        }
      }
      const t = now();
      if (steps > 1 && t - lastDraw >= interval) {
        lastDraw = t;
        draw(false);
      }
    },
    complete: () => {
      if (steps > 0) draw(true);
    },
  }));
  return Object.assign(op, { figures });
}
