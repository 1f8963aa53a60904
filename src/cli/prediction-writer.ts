import { extname } from 'node:path';
import { ConfigError } from '../errors.js';
import { AtomicFileWriter } from '../io/atomic-file.js';

export type PredictionFormat = 'tsv' | 'jsonl';

/** The format of `--output` by its extension (.tsv / .txt, .jsonl / .json), `--format` winning. */
export function predictionFormat(output: string | undefined, format: string | undefined): PredictionFormat {
  if (format) return format as PredictionFormat;
  if (!output || output === '-') return 'tsv';
  const ext = extname(output).toLowerCase();
  if (ext === '.tsv' || ext === '.txt') return 'tsv';
  if (ext === '.jsonl' || ext === '.json' || ext === '.ndjson') return 'jsonl';
  throw new ConfigError(`--output ${output}: cannot tell the format from "${ext || 'no extension'}"; name it .tsv or .jsonl, or give --format`);
}

/**
 * Writes one line per row: its index, its labels (when the records carry
 * them) and one prediction per head. A file is written atomically; '-' (or
 * no output) is stdout.
 */
export class PredictionWriter {
  rows = 0;
  private constructor(
    private readonly out: AtomicFileWriter | undefined,
    private readonly format: PredictionFormat,
    private readonly heads: string[],
    private readonly labelWidth: number,
  ) {}

  static async open(output: string | undefined, format: PredictionFormat, heads: string[], labelWidth: number): Promise<PredictionWriter> {
    const out = output && output !== '-' ? await AtomicFileWriter.open(output) : undefined;
    const w = new PredictionWriter(out, format, heads, labelWidth);
    if (format === 'tsv') await w.emit(`${['row', ...w.labelNames(), ...heads].join('\t')}\n`);
    return w;
  }

  private labelNames(): string[] {
    return this.labelWidth === 1 ? ['label'] : Array.from({ length: this.labelWidth }, (_, i) => `label_${i}`);
  }

  private async emit(text: string): Promise<void> {
    if (this.out) await this.out.write(Buffer.from(text));
    else if (!process.stdout.write(text)) await new Promise((r) => process.stdout.once('drain', r));
  }

  /** Rows of one batch: `labels` row-major (labelWidth per row), `predictions` per head. */
  async write(rows: number, labels: Float32Array | undefined, predictions: Record<string, Float32Array>): Promise<void> {
    const names = this.labelNames();
    let text = '';
    for (let r = 0; r < rows; r++) {
      const row = this.rows + r;
      const ls = Array.from({ length: this.labelWidth }, (_, k) => labels?.[r * this.labelWidth + k] ?? NaN);
      const ps = this.heads.map((h) => predictions[h]![r]!);
      if (this.format === 'tsv') text += `${[row, ...ls, ...ps].join('\t')}\n`;
      else text += `${JSON.stringify(Object.fromEntries([['row', row], ...names.map((n, k) => [n, ls[k]]), ...this.heads.map((h, k) => [h, ps[k]])]))}\n`;
    }
    this.rows += rows;
    await this.emit(text);
  }

  async close(): Promise<void> {
    await this.out?.close();
  }

  async abort(): Promise<void> {
    await this.out?.abort();
  }
}
