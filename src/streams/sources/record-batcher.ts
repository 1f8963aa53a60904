import type { Batch } from '../../batch/batch.js';
import { ConfigError } from '../../errors.js';
import type { BatchBuilder } from '../parse/batch-builder.js';
import { concatBatches, sliceBatch } from '../parse/batch-ops.js';
import type { RecordOrigin } from '../parse/fast-decoder.js';
import type { RecordParser } from '../parse/record-parser.js';

/**
 * Parses records into batches of exactly `batchSize` rows. One-row records
 * fill a builder directly; an ExampleBatch record may overshoot, and the rows
 * beyond the batch carry over to the next one.
 */
export class RecordBatcher {
  private readonly builder: BatchBuilder;
  private carry: Batch | undefined;

  constructor(
    private readonly parser: RecordParser,
    readonly batchSize: number,
  ) {
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new ConfigError(`batchSize must be an integer >= 1, got ${batchSize}`);
    this.builder = parser.newBuilder(parser.variant === 'example_batch' ? 0 : batchSize);
  }

  /** Rows held and not yet emitted. */
  get bufferedRows(): number {
    return (this.carry?.rows ?? 0) + this.builder.rows;
  }

  /** Adds one record; returns the batches it completed (usually none or one). */
  add(bytes: Uint8Array, origin?: RecordOrigin): Batch[] {
    this.parser.add(this.builder, bytes, origin);
    if (this.bufferedRows < this.batchSize) return [];
    return this.cut(false);
  }

  /** The last partial batch, if any rows are left. */
  flush(): Batch | undefined {
    return this.bufferedRows > 0 ? this.cut(true)[0] : undefined;
  }

  private cut(all: boolean): Batch[] {
    const built = this.parser.build(this.builder);
    this.builder.clear();
    const rows = this.carry ? concatBatches([this.carry, built]) : built;
    this.carry = undefined;
    if (all || rows.rows === this.batchSize) return [rows];
    const out: Batch[] = [];
    let at = 0;
    for (; at + this.batchSize <= rows.rows; at += this.batchSize) out.push(sliceBatch(rows, at, at + this.batchSize));
    if (at < rows.rows) this.carry = sliceBatch(rows, at, rows.rows);
    return out;
  }
}
