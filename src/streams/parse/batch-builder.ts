import type { Batch, LineIdColumn } from '../../batch/batch.js';
import { LINE_ID_FIELDS, type LineIdField, type RecordVariant, type ResolvedParseConfig } from './parse-config.js';

const grow = <T extends Uint32Array | Int32Array | Float32Array>(a: T, need: number): T => {
  let n = Math.max(a.length * 2, 16);
  while (n < need) n *= 2;
  const out = new (a.constructor as new (n: number) => T)(n);
  out.set(a);
  return out;
};

/** Growing fids (as lo/hi words) and row splits of one sparse column. */
export class SparseBuilder {
  words = new Uint32Array(256);
  count = 0;
  splits = new Int32Array(64);
  rows = 0;

  push(lo: number, hi: number): void {
    const i = this.count << 1;
    if (i + 2 > this.words.length) this.words = grow(this.words, i + 2);
    this.words[i] = lo;
    this.words[i + 1] = hi;
    this.count++;
  }

  /** Ends the current row: its fids are those pushed since the previous split. */
  closeRow(): void {
    if (this.rows + 2 > this.splits.length) this.splits = grow(this.splits, this.rows + 2);
    this.splits[++this.rows] = this.count;
  }
}

/** Where a LineId value goes: 64-bit kinds as (lo, hi) words, 32-bit kinds as one word. */
export class LineIdBuilder {
  readonly wide: boolean;
  words = new Uint32Array(64);
  constructor(
    readonly name: LineIdField,
    readonly kind: 'uint64' | 'int64' | 'float' | 'int32',
  ) {
    this.wide = kind === 'uint64' || kind === 'int64';
  }
  ensure(rows: number): void {
    const need = this.wide ? rows * 2 : rows;
    if (need > this.words.length) this.words = grow(this.words, need);
  }
}

/**
 * Why an ExampleBatch's `batch_size` cannot be right for a record of
 * `recordBytes` bytes, or undefined when it can: every row of a per-row list
 * takes at least two bytes, so no honest record holds more rows than bytes.
 * Checked before any row is allocated.
 */
export function implausibleBatchSize(n: number, recordBytes: number): string | undefined {
  if (!Number.isSafeInteger(n) || n < 0) return `batch_size ${n} is not a row count`;
  if (n > recordBytes) return `batch_size ${n} exceeds what a ${recordBytes}-byte record can hold`;
  return undefined;
}

/**
 * Accumulates rows into the columns of one Batch. Decoders call `beginRows(n)`,
 * write the rows' values (sparse fids through `SparseBuilder.push`/`closeRow`,
 * dense / label / weight / LineId values at `row * width + j`), then
 * `endRows(n)`, which closes the sparse rows a record did not mention.
 */
export class BatchBuilder {
  rows = 0;
  readonly sparse: SparseBuilder[];
  dense: Float32Array[];
  labels: Float32Array;
  weights: Float32Array;
  readonly lineId: LineIdBuilder[];
  /** Column of LineId field number, -1 when not kept (sized to the largest kept field number). */
  readonly lineIdByNumber: Int32Array;
  private capacity = 0;
  readonly missingLabel: number;
  readonly sampleRateColumn: number;

  constructor(
    readonly config: ResolvedParseConfig,
    readonly variant: RecordVariant,
  ) {
    this.sparse = config.sparse.map(() => new SparseBuilder());
    this.dense = config.dense.map(() => new Float32Array(0));
    this.labels = new Float32Array(0);
    this.weights = new Float32Array(0);
    this.lineId = config.lineIdFields.map((f) => new LineIdBuilder(f, LINE_ID_FIELDS[f].kind));
    this.lineIdByNumber = new Int32Array(256).fill(-1);
    config.lineIdFields.forEach((f, i) => (this.lineIdByNumber[LINE_ID_FIELDS[f].number] = i));
    this.sampleRateColumn = config.lineIdFields.indexOf('sample_rate');
    this.missingLabel = config.missingLabelFor(variant);
  }

  /** Pre-sizes the columns for `rows` rows and, per sparse column, `fidsPerColumn[i]` fids. */
  reserve(rows: number, fidsPerColumn?: ArrayLike<number>): void {
    this.ensureCapacity(rows);
    this.sparse.forEach((c, i) => {
      if (c.splits.length < rows + 1) c.splits = grow(c.splits, rows + 1);
      const fids = fidsPerColumn?.[i] ?? 0;
      if (c.words.length < fids * 2) c.words = grow(c.words, fids * 2);
    });
  }

  private ensureCapacity(total: number): void {
    if (total <= this.capacity) return;
    let cap = Math.max(this.capacity * 2, 64);
    while (cap < total) cap *= 2;
    this.capacity = cap;
    const { dense } = this.config;
    this.dense = this.dense.map((a, i) => (a.length < cap * dense[i]!.width ? grow(a, cap * dense[i]!.width) : a));
    this.labels = grow(this.labels, cap * this.config.labelWidth);
    this.weights = grow(this.weights, cap);
    for (const c of this.lineId) c.ensure(cap);
  }

  /** Makes room for `n` more rows and writes their defaults (missing label, weight 1, sample_rate 1, zeros). */
  beginRows(n: number): void {
    const r0 = this.rows;
    const total = r0 + n;
    this.ensureCapacity(total);
    const L = this.config.labelWidth;
    const labels = this.labels;
    for (let i = r0 * L; i < total * L; i++) labels[i] = this.missingLabel;
    for (let i = r0; i < total; i++) this.weights[i] = 1;
    const dense = this.dense;
    for (let d = 0; d < dense.length; d++) {
      const a = dense[d]!;
      const w = this.config.dense[d]!.width;
      for (let i = r0 * w; i < total * w; i++) a[i] = 0;
    }
    const lineId = this.lineId;
    for (let k = 0; k < lineId.length; k++) {
      const c = lineId[k]!;
      const words = c.words;
      if (c.wide) for (let i = r0 * 2; i < total * 2; i++) words[i] = 0;
      else {
        const v = c.name === 'sample_rate' ? 0x3f800000 : 0; // 1.0f: sample_rate's proto default
        for (let i = r0; i < total; i++) words[i] = v;
      }
    }
  }

  /** Closes rows up to `rows + n` in every sparse column and commits them. Returns false if a column has too many rows. */
  endRows(n: number): boolean {
    const total = this.rows + n;
    const sparse = this.sparse;
    for (let i = 0; i < sparse.length; i++) {
      const c = sparse[i]!;
      if (c.rows > total) return false;
      while (c.rows < total) c.closeRow();
    }
    this.rows = total;
    return true;
  }

  /** Empties the builder, keeping its buffers (build() copies, so they are free again). */
  clear(): void {
    this.rows = 0;
    for (const c of this.sparse) {
      c.rows = 0;
      c.count = 0;
    }
  }

  /** Writes a LineId value for `row` (64-bit kinds from lo/hi, 32-bit from lo). */
  setLineId(col: number, row: number, lo: number, hi: number): void {
    const c = this.lineId[col]!;
    if (c.wide) {
      c.words[row * 2] = lo;
      c.words[row * 2 + 1] = hi;
    } else c.words[row] = lo;
  }

  /** The batch so far (exact-length copies; the builder can be dropped or reused via a new one). */
  build(): Batch {
    const rows = this.rows;
    const { config } = this;
    const lineId: LineIdColumn[] = this.lineId.map((c) => {
      const words = c.words.slice(0, c.wide ? rows * 2 : rows);
      const values =
        c.kind === 'uint64'
          ? new BigUint64Array(words.buffer)
          : c.kind === 'int64'
            ? new BigInt64Array(words.buffer)
            : c.kind === 'float'
              ? new Float32Array(words.buffer)
              : new Int32Array(words.buffer);
      return { name: c.name, values };
    });
    return {
      rows,
      sparse: this.sparse.map((c, i) => ({
        name: config.sparse[i]!.name,
        slot: config.sparse[i]!.slot,
        fids: c.words.slice(0, c.count * 2),
        rowSplits: c.splits.slice(0, rows + 1),
      })),
      dense: this.dense.map((a, i) => ({ name: config.dense[i]!.name, width: config.dense[i]!.width, values: a.slice(0, rows * config.dense[i]!.width) })),
      labels: this.labels.slice(0, rows * config.labelWidth),
      labelWidth: config.labelWidth,
      ...(config.weights ? { weights: this.weights.slice(0, rows) } : {}),
      lineId,
    };
  }
}
