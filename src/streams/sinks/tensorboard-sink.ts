import type { MonoTypeOperatorFunction } from 'rxjs';
import { ConfigError } from '../../errors.js';
import type { StepResult } from '../../graph/step-result.js';
import type { EmbeddingHashTable } from '../../hashtable/embedding-hash-table.js';
import { StreamingAuc } from '../../model/metrics/streaming-auc.js';
import type { tensorflow } from '../../proto.js';
import { passThrough } from '../hooks/pass-through.js';
import { EventFileWriter } from './event-file-writer.js';
import { histogramOf } from './histogram.js';

export interface TensorBoardSinkOptions {
  /** Directory of the run (`tensorboard --logdir` this or its parent). */
  logdir: string;
  /** Scalars are written every this many steps, averaged over them (default 10). */
  everySteps?: number;
  /** The histogram of embedding norms per table is written every this many steps (default 100; 0: at the end only). */
  histogramEverySteps?: number;
  /** Tables whose sizes, learning rates and embedding norms are written. */
  tables?: Record<string, EmbeddingHashTable>;
  /** Wall clock in ms (default Date.now). */
  now?: () => number;
}

/** The scalar tags the sink writes, for a StepResult stream of `mode`. */
export const tensorBoardTags = {
  loss: 'loss',
  auc: (head: string) => `auc/${head}`,
  examplesPerSec: 'examples_per_sec',
  metric: (name: string) => `metrics/${name}`,
  tableSize: (table: string) => `table_size/${table}`,
  learningRate: (table: string) => `learning_rate/${table}`,
  embeddingNorm: (table: string) => `embedding_norm/${table}`,
};

/** L2 norm of every embedding of `table`. */
function embeddingNorms(table: EmbeddingHashTable): Float64Array {
  const norms: number[] = [];
  const scratch = new Float32Array(table.dim);
  for (let s = 0; s < table.shards.length; s++) {
    table.forEachEntry(s, (_lo, _hi, row, sh) => {
      const e = table.readEmbedding(sh, row, scratch);
      let sq = 0;
      for (let j = 0; j < e.length; j++) sq += e[j]! * e[j]!;
      norms.push(Math.sqrt(sq));
    });
  }
  return Float64Array.from(norms);
}

/**
 * Writes a run as TensorFlow event files for TensorBoard: every `everySteps`
 * steps the mean loss, the AUC of each head over those steps, examples/s, the
 * model's custom metrics, and per table its size and learning rate; every
 * `histogramEverySteps` steps (and at the end) a histogram of embedding norms
 * per table. Eval and predict runs get an `eval/` / `predict/` tag prefix.
 * Values pass through unchanged; the file is closed when the stream ends.
 */
export function tensorBoardSink(opts: TensorBoardSinkOptions): MonoTypeOperatorFunction<StepResult> {
  const every = opts.everySteps ?? 10;
  const histEvery = opts.histogramEverySteps ?? 100;
  if (!Number.isInteger(every) || every < 1) throw new ConfigError(`tensorBoardSink: everySteps must be a positive integer, got ${every}`);
  if (!Number.isInteger(histEvery) || histEvery < 0) throw new ConfigError(`tensorBoardSink: histogramEverySteps must be a non-negative integer, got ${histEvery}`);
  const now = opts.now ?? Date.now;
  const tables = Object.entries(opts.tables ?? {});

  return passThrough<StepResult>((fail) => {
    const writer = EventFileWriter.open(opts.logdir, { wallTimeSec: now() / 1000 });
    writer.catch(fail);
    let prefix = '';
    let steps = 0;
    let lastStep = 0;
    let windowStart = now();
    let examples = 0;
    let lossSum = 0;
    let lossCount = 0;
    const aucs = new Map<string, StreamingAuc>();
    const metrics = new Map<string, { sum: number; n: number }>();
    let sinceHistogram = 0;

    const emit = (step: number, value: tensorflow.Summary.IValue[]) => {
      if (value.length === 0) return;
      writer.then((w) => w.write({ wallTime: now() / 1000, step, summary: { value } })).catch(fail);
    };
    const scalars = (step: number) => {
      const t = now();
      const value: tensorflow.Summary.IValue[] = [];
      const add = (tag: string, v: number) => {
        if (Number.isFinite(v)) value.push({ tag: prefix + tag, simpleValue: v });
      };
      if (lossCount) add(tensorBoardTags.loss, lossSum / lossCount);
      for (const [head, auc] of aucs) add(tensorBoardTags.auc(head), auc.result());
      if (t > windowStart) add(tensorBoardTags.examplesPerSec, (examples * 1000) / (t - windowStart));
      for (const [name, m] of metrics) add(tensorBoardTags.metric(name), m.sum / m.n);
      for (const [name, table] of tables) {
        add(tensorBoardTags.tableSize(name), table.size);
        if (prefix === '') add(tensorBoardTags.learningRate(name), table.learningRates(step)[0] ?? NaN);
      }
      emit(step, value);
      windowStart = t;
      examples = lossSum = lossCount = steps = 0;
      aucs.forEach((a) => a.reset());
      metrics.clear();
    };
    const histograms = (step: number) => {
      sinceHistogram = 0;
      emit(step, tables.map(([name, table]) => ({ tag: prefix + tensorBoardTags.embeddingNorm(name), histo: histogramOf(embeddingNorms(table)) })));
    };

    return {
      next(r) {
        prefix = r.mode === 'train' ? '' : `${r.mode}/`;
        lastStep = r.step;
        steps++;
        sinceHistogram++;
        examples += r.examples;
        if (r.loss !== undefined && Number.isFinite(r.loss)) {
          lossSum += r.loss;
          lossCount++;
        }
        if (r.predictions && r.labels) {
          const heads = Object.keys(r.predictions);
          const width = r.labelWidth ?? 1;
          heads.forEach((head, k) => {
            const col = width === heads.length ? k : 0;
            const labels = width === 1 ? r.labels! : r.labels!.filter((_, i) => i % width === col);
            let auc = aucs.get(head);
            if (!auc) aucs.set(head, (auc = new StreamingAuc()));
            auc.update(labels, r.predictions![head]!);
          });
        }
        for (const [name, v] of Object.entries(r.metrics ?? {})) {
          const m = metrics.get(name) ?? { sum: 0, n: 0 };
          m.sum += v;
          m.n++;
          metrics.set(name, m);
        }
        if (steps >= every) scalars(r.step);
        if (histEvery > 0 && sinceHistogram >= histEvery) histograms(r.step);
      },
      async complete() {
        if (steps > 0) scalars(lastStep);
        if (tables.length && (sinceHistogram > 0 || histEvery === 0)) histograms(lastStep);
        await (await writer).close();
      },
      async error() {
        await (await writer).close();
      },
    };
  });
}

/**
 * The sink as a pipeline operator that gets the pipeline's tables:
 * `train({ …, sinks: [tensorBoard({ logdir: 'runs/ctr' })] })`.
 */
export function tensorBoard(opts: Omit<TensorBoardSinkOptions, 'tables'>): { name: string; make: (p: { tables: Record<string, EmbeddingHashTable> }) => MonoTypeOperatorFunction<StepResult> } {
  return { name: 'tensorboard', make: ({ tables }) => tensorBoardSink({ ...opts, tables }) };
}
