import type { Observable } from 'rxjs';
import type { SourceBatch } from '../../batch/batch.js';
import { ConfigError } from '../../errors.js';
import { sourceName, type ByteSource, type Compression } from '../../io/chunked-reader.js';
import { DEFAULT_RECORD_LAYOUT, readRecordFile, type RecordLayout } from '../../io/record-file.js';
import { readTFRecords } from '../../io/tfrecord.js';
import type { PositionValue, SourcePositions } from '../../graph/source-positions.js';
import type { ParseConfig, RecordVariant } from '../parse/parse-config.js';
import { RecordParser, type DecoderKind } from '../parse/record-parser.js';
import { OffsetTracker } from './offset-tracker.js';
import { pacedSource, type PacingOptions } from './paced-source.js';
import { RecordBatcher } from './record-batcher.js';
import type { RecordSlice } from '../../workers/step-pool.js';

/** How records are framed in a file: Monolith's size-prefixed records, or TFRecord. */
export type FileFraming = 'record' | 'tfrecord';

export interface FileSourceOptions extends PacingOptions {
  /** One or more files (read in order), '-' for stdin, or readable streams. */
  paths: ByteSource | ByteSource[];
  variant: RecordVariant;
  parse: ParseConfig;
  batchSize: number;
  /** Default 'record'. */
  framing?: FileFraming;
  /** Header layout of 'record' files. Default Monolith's FilePBDataset default: `{ sortId: true }`. */
  layout?: RecordLayout;
  /** Default: 'gzip' for names ending in .gz, else 'none'. */
  compression?: Compression;
  /** Read size in bytes. Default 1 MiB. */
  chunkSize?: number;
  decoder?: DecoderKind;
  /** Drop a last batch smaller than batchSize (default false: it is emitted). */
  dropRemainder?: boolean;
  /**
   * Exactly-once into the model: the pipeline's `checkpoint.positions`. The
   * position (file index + records of that file applied) is kept with each
   * checkpoint; a run restored from one skips what it already holds.
   */
  positions?: SourcePositions;
  /** Name of this source in `positions` (default 'files'). */
  positionsName?: string;
}

/** Where a file run stands: `record` records of file `file` (0-based, in `paths` order) and all earlier files are applied. */
export interface FilePosition {
  file: number;
  record: number;
}

interface RawRecord {
  payload: Uint8Array;
  file: string;
  /** Absolute payload offset when known (TFRecord); else the record's offset. */
  offset: number;
  payloadOffsetKnown: boolean;
  /** Byte offset of the payload in the (decompressed) stream. */
  payloadOffset: number;
}

async function* records(src: ByteSource, opts: FileSourceOptions): AsyncGenerator<RawRecord> {
  const file = sourceName(src);
  const compression = opts.compression ?? (typeof src === 'string' && src.endsWith('.gz') ? 'gzip' : 'none');
  const io = { compression, chunkSize: opts.chunkSize };
  if ((opts.framing ?? 'record') === 'tfrecord') {
    let offset = 0;
    for await (const payload of readTFRecords(src, io)) {
      yield { payload, file, offset: offset + 12, payloadOffsetKnown: true, payloadOffset: offset + 12 };
      offset += 16 + payload.length;
    }
    return;
  }
  for await (const rec of readRecordFile(src, { ...(opts.layout ?? DEFAULT_RECORD_LAYOUT), ...io })) {
    yield { payload: rec.payload, file, offset: rec.offset, payloadOffsetKnown: false, payloadOffset: rec.payloadOffset };
  }
}

/**
 * Batches parsed from the records of `opts.paths`, read as they are consumed.
 * With `opts.positions`, each batch's ack records the position just past its
 * records (once every earlier batch is acked too), and a restored position is
 * skipped to. A record whose rows span two batches counts as applied with the
 * second one (its rows in the first are read again after a restore).
 */
export async function* fileBatches(opts: FileSourceOptions): AsyncGenerator<SourceBatch> {
  const parser = new RecordParser(opts.parse, { variant: opts.variant, decoder: opts.decoder });
  const batcher = new RecordBatcher(parser, opts.batchSize);
  const paths = Array.isArray(opts.paths) ? opts.paths : [opts.paths];
  const store = opts.positions;
  const storeName = opts.positionsName ?? 'files';
  const start = (store?.restored(storeName) ?? { file: 0, record: 0 }) as unknown as FilePosition;
  // Positions as one growing ordinal (file * 2^32 + record) for the in-order ack bookkeeping.
  const tracker = new OffsetTracker();
  const ordinal = (p: FilePosition) => p.file * 2 ** 32 + p.record;
  const withAck = (batch: SourceBatch['batch'], upTo: FilePosition): SourceBatch => {
    if (!store) return { batch };
    const id = tracker.add([{ topic: storeName, partition: 0, offset: ordinal(upTo) }]);
    return {
      batch,
      ack: () => {
        const ready = tracker.ack(id)[0];
        if (ready) store.applied(storeName, { file: Math.floor(ready.offset / 2 ** 32), record: ready.offset % 2 ** 32 } as unknown as PositionValue);
      },
    };
  };
  let at: FilePosition = { file: 0, record: 0 };
  for (let f = 0; f < paths.length; f++) {
    if (f < start.file) continue;
    const src = paths[f]!;
    let index = 0;
    for await (const rec of records(src, opts)) {
      if (f === start.file && index < start.record) {
        index++;
        continue;
      }
      // Errors name the record; for TFRecord the offset is absolute, for record
      // files (variable headers) it counts from the start of the payload.
      const origin = rec.payloadOffsetKnown ? { file: rec.file, offset: rec.offset } : { file: `${rec.file} (record ${index} at byte ${rec.offset})`, offset: 0 };
      index++;
      const full = batcher.add(rec.payload, origin);
      at = { file: f, record: batcher.bufferedRows > 0 ? index - 1 : index };
      for (const batch of full) yield withAck(batch, at);
    }
    at = batcher.bufferedRows > 0 ? at : { file: f + 1, record: 0 };
  }
  const last = batcher.flush();
  if (last && !(opts.dropRemainder && last.rows < opts.batchSize)) yield withAck(last, { file: paths.length, record: 0 });
}

/**
 * The records of `opts.paths` in slices of `batchSize` (a file's last slice
 * may be partial), unparsed: for record variants of one row per record, parsed
 * by whoever takes the slice (e.g. a pipeline's workers).
 */
export async function* fileRecordSlices(opts: Omit<FileSourceOptions, 'parse' | 'positions' | 'positionsName'>): AsyncGenerator<RecordSlice> {
  if (opts.variant === 'example_batch') throw new ConfigError('fileRecordSlices: an ExampleBatch record holds many rows; parse it where it is read (fileBatches)');
  for (const src of Array.isArray(opts.paths) ? opts.paths : [opts.paths]) {
    const file = sourceName(src);
    let payloads: Uint8Array[] = [];
    let offsets: number[] = [];
    for await (const rec of records(src, opts as FileSourceOptions)) {
      payloads.push(rec.payload);
      offsets.push(rec.payloadOffset);
      if (payloads.length === opts.batchSize) {
        yield { records: payloads, file, offsets };
        payloads = [];
        offsets = [];
      }
    }
    if (payloads.length && !(opts.dropRemainder && payloads.length < opts.batchSize)) yield { records: payloads, file, offsets };
  }
}

/**
 * A cold Observable of batches from record files (Instance / Example /
 * ExampleBatch; Monolith framing or TFRecord; optionally gzip). Reading is
 * pulled by the consumer: see PacingOptions.
 */
export function fileSource(opts: FileSourceOptions): Observable<SourceBatch> {
  if (!opts.paths || (Array.isArray(opts.paths) && opts.paths.length === 0)) throw new ConfigError('fileSource needs at least one path');
  if (opts.framing !== undefined && opts.framing !== 'record' && opts.framing !== 'tfrecord') throw new ConfigError(`framing must be 'record' or 'tfrecord', got ${String(opts.framing)}`);
  new RecordBatcher(new RecordParser(opts.parse, { variant: opts.variant, decoder: opts.decoder }), opts.batchSize); // validates up front
  return pacedSource(() => fileBatches(opts), opts);
}
