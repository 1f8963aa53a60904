import type { Batch } from '../../batch/batch.js';
import { ConfigError } from '../../errors.js';
import { BatchBuilder } from './batch-builder.js';
import { FastDecoder, type RecordOrigin } from './fast-decoder.js';
import { resolveParseConfig, type ParseConfig, type RecordVariant, type ResolvedParseConfig } from './parse-config.js';
import { ReferenceDecoder } from './reference-decoder.js';

export type DecoderKind = 'fast' | 'reference';

export interface RecordParserOptions {
  variant: RecordVariant;
  /** 'fast' (default): the wire-walking decoder; 'reference': protobufjs decode + convert. */
  decoder?: DecoderKind;
}

type Decode = (b: BatchBuilder, bytes: Uint8Array, origin?: RecordOrigin) => void;

/**
 * Parses serialized Instance / Example / ExampleBatch records into columnar
 * Batches laid out by a ParseConfig. `newBuilder` + `add` + `builder.build()`
 * let a source grow a batch record by record; `parse` does it in one call.
 */
export class RecordParser {
  readonly config: ResolvedParseConfig;
  readonly variant: RecordVariant;
  private readonly decodeRecord: Decode;
  private readonly fidsPerRow: number[];
  private scratch: BatchBuilder | undefined;

  constructor(config: ParseConfig, opts: RecordParserOptions) {
    this.config = resolveParseConfig(config);
    this.variant = opts.variant;
    this.fidsPerRow = this.config.sparse.map(() => 0);
    const kind = opts.decoder ?? 'fast';
    if (kind !== 'fast' && kind !== 'reference') throw new ConfigError(`decoder must be 'fast' or 'reference', got ${String(kind)}`);
    const d = kind === 'fast' ? new FastDecoder(this.config) : new ReferenceDecoder(this.config);
    switch (opts.variant) {
      case 'instance':
        this.decodeRecord = d.decodeInstance.bind(d);
        break;
      case 'example':
        this.decodeRecord = d.decodeExample.bind(d);
        break;
      case 'example_batch':
        this.decodeRecord = d.decodeExampleBatch.bind(d);
        break;
      default:
        throw new ConfigError(`variant must be instance, example or example_batch, got ${String(opts.variant)}`);
    }
  }

  /** Appends one record's rows (1, or batch_size for an ExampleBatch) to `builder`. */
  add(builder: BatchBuilder, bytes: Uint8Array, origin?: RecordOrigin): void {
    this.decodeRecord(builder, bytes, origin);
  }

  /**
   * A builder pre-sized for `rows` rows, with room per sparse column for as
   * many fids per row as the last batch this parser built had.
   */
  newBuilder(rows = 0): BatchBuilder {
    const b = new BatchBuilder(this.config, this.variant);
    if (rows > 0) b.reserve(rows, this.fidsPerRow.map((f) => Math.ceil(f * rows * 1.1)));
    return b;
  }

  /** Builds the batch and remembers its fid density for the next `newBuilder`. */
  build(builder: BatchBuilder): Batch {
    if (builder.rows > 0) builder.sparse.forEach((c, i) => (this.fidsPerRow[i] = c.count / builder.rows));
    return builder.build();
  }

  /** All `records` as one Batch. */
  parse(records: readonly Uint8Array[], origin?: RecordOrigin): Batch {
    // One builder reused across calls: build() copies out, so its buffers stay warm.
    const b = (this.scratch ??= this.newBuilder(this.variant === 'example_batch' ? 0 : records.length));
    b.clear();
    try {
      for (const r of records) this.decodeRecord(b, r, origin);
      return this.build(b);
    } finally {
      b.clear();
    }
  }
}
