import { join } from 'node:path';
import type { Batch } from '../batch/batch.js';
import { ConfigError } from '../errors.js';
import { AtomicFileWriter } from '../io/atomic-file.js';

/** One output column per row: `width` values per row (width 1 prints as a scalar: the squeeze of a trailing 1-dim). */
export interface OutputColumn {
  values: ArrayLike<number | bigint>;
  width: number;
}

/** Per-head predictions: a list keeps its order, a record is written sorted by key (as Monolith does). */
export type Predictions = OutputColumn[] | Record<string, OutputColumn>;

/** C's %.{p}g. */
function formatG(v: number, p: number): string {
  if (Number.isNaN(v)) return 'nan';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  if (v === 0) return Object.is(v, -0) ? '-0' : '0';
  const [mant, expStr] = v.toExponential(p - 1).split('e') as [string, string];
  const e = Number(expStr);
  const strip = (s: string) => (s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s);
  if (e < -4 || e >= p) return `${strip(mant)}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  return strip(v.toFixed(p - 1 - e));
}

/** A float32 the way TensorFlow prints it: %.6g, or %.9g when six digits do not give the same float back. */
export function formatFloat32(x: number): string {
  const v = Math.fround(x);
  const short = formatG(v, 6);
  return Number.isFinite(v) && Math.fround(Number(short)) !== v ? formatG(v, 9) : short;
}

function formatValue(v: number | bigint, integer: boolean): string {
  if (typeof v === 'bigint') return v.toString();
  return integer ? String(v) : formatFloat32(v);
}

function cell(col: OutputColumn, row: number, integer: boolean): string {
  if (col.width === 1) return formatValue(col.values[row]!, integer);
  const parts: string[] = [];
  for (let k = 0; k < col.width; k++) parts.push(formatValue(col.values[row * col.width + k]!, integer));
  return `[${parts.join(' ')}]`;
}

/** The text of `batch` rows: output fields in order, then predictions; one line per row. */
export function formatPredictionRows(batch: Batch, fields: readonly string[], preds: Predictions, delimiter: string, labelKey = 'label'): string {
  const cols: ((row: number) => string)[] = fields.map((f) => fieldColumn(batch, f, labelKey));
  const predCols = Array.isArray(preds) ? preds : Object.keys(preds).sort().map((k) => preds[k]!);
  for (const p of predCols) {
    if (p.values.length !== batch.rows * p.width) throw new ConfigError(`prediction output: a prediction has ${p.values.length} values for ${batch.rows} rows x ${p.width}`);
    cols.push((r) => cell(p, r, false));
  }
  let out = '';
  for (let r = 0; r < batch.rows; r++) out += cols.map((c) => c(r)).join(delimiter) + '\n';
  return out;
}

function fieldColumn(batch: Batch, field: string, labelKey: string): (row: number) => string {
  const line = batch.lineId.find((c) => c.name === field);
  if (line) {
    const integer = !(line.values instanceof Float32Array || line.values instanceof Float64Array);
    return (r) => formatValue(line.values[r]!, integer);
  }
  const dense = batch.dense.find((c) => c.name === field);
  if (dense) return (r) => cell({ values: dense.values, width: dense.width }, r, false);
  const sparse = batch.sparse.find((c) => c.name === field);
  if (sparse) {
    return (r) => {
      const ids: string[] = [];
      for (let i = sparse.rowSplits[r]!; i < sparse.rowSplits[r + 1]!; i++) {
        ids.push(((BigInt(sparse.fids[2 * i + 1]!) << 32n) | BigInt(sparse.fids[2 * i]!)).toString());
      }
      return `[${ids.join(' ')}]`;
    };
  }
  if (field === labelKey) return (r) => cell({ values: batch.labels, width: batch.labelWidth }, r, false);
  throw new ConfigError(`prediction output: output field ${field} is neither a LineId, dense, sparse nor label column of the batch`);
}

export interface PredictionFileOptions {
  outputPath: string;
  workerIndex: number;
  /** Comma-separated, as Monolith's output_fields param. */
  outputFields: string;
  delimiter?: string;
  labelKey?: string;
}

/** `part-{worker:05d}` under the output path. */
export const predictionFilePath = (outputPath: string, workerIndex: number): string => join(outputPath, `part-${String(workerIndex).padStart(5, '0')}`);

/**
 * The per-worker prediction file of PREDICT and EVAL runs. Lines go to a temp
 * file that replaces `part-xxxxx` on `close()` (Monolith's FileCloseHook).
 */
export class PredictionFileWriter {
  private writer: Promise<AtomicFileWriter> | undefined;
  readonly path: string;
  readonly fields: string[];
  private readonly delimiter: string;
  private readonly labelKey: string;
  rows = 0;

  constructor(opts: PredictionFileOptions) {
    this.path = predictionFilePath(opts.outputPath, opts.workerIndex);
    this.fields = opts.outputFields.split(',').filter((f) => f.length > 0);
    this.delimiter = opts.delimiter ?? '\t';
    this.labelKey = opts.labelKey ?? 'label';
  }

  async append(batch: Batch, preds: Predictions): Promise<void> {
    const text = formatPredictionRows(batch, this.fields, preds, this.delimiter, this.labelKey);
    this.writer ??= AtomicFileWriter.open(this.path);
    await (await this.writer).write(Buffer.from(text, 'utf8'));
    this.rows += batch.rows;
  }

  /** Publishes the file (an empty one when nothing was written). */
  async close(): Promise<void> {
    this.writer ??= AtomicFileWriter.open(this.path);
    await (await this.writer).close();
  }

  async abort(): Promise<void> {
    if (this.writer) await (await this.writer).abort();
  }
}
