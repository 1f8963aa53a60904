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

  constructor(config: ParseConfig, opts: RecordParserOptions) {
    this.config = resolveParseConfig(config);
    this.variant = opts.variant;
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

  newBuilder(): BatchBuilder {
    return new BatchBuilder(this.config, this.variant);
  }

  /** Appends one record's rows (1, or batch_size for an ExampleBatch) to `builder`. */
  add(builder: BatchBuilder, bytes: Uint8Array, origin?: RecordOrigin): void {
    this.decodeRecord(builder, bytes, origin);
  }

  /** All `records` as one Batch. */
  parse(records: Iterable<Uint8Array>, origin?: RecordOrigin): Batch {
    const b = this.newBuilder();
    for (const r of records) this.decodeRecord(b, r, origin);
    return b.build();
  }
}
