import { from, type Observable } from 'rxjs';
import { ChunkedReader, openChunks, sourceName, type ByteSource, type ByteSourceOptions } from './chunked-reader.js';
import { AtomicFileWriter, type AtomicWriterOptions } from './atomic-file.js';
import { ConfigError, FormatError, TruncatedRecordError } from '../errors.js';

/**
 * Header layout of Monolith's size-prefixed record files (data_reader.h). Every
 * number is a little-endian u64. With `lagrangexHeader` the other flags are ignored.
 */
export interface RecordLayout {
  lagrangexHeader?: boolean;
  kafkaDumpPrefix?: boolean;
  sortId?: boolean;
  kafkaDump?: boolean;
}

/** Monolith's `FilePBDataset` default: a sort-id header and nothing else. */
export const DEFAULT_RECORD_LAYOUT: Readonly<RecordLayout> = Object.freeze({ sortId: true });

export interface PbRecord {
  /** The serialized protobuf (Instance, Example or ExampleBatch). */
  payload: Buffer;
  /** Byte offset of the record's header in the stream. */
  offset: number;
  /** Byte offset of the payload in the stream (after the headers and the size). */
  payloadOffset: number;
  /** From a lagrangex header: the low byte. */
  pbType?: number;
  /** From a lagrangex header: `((H & 0xFFFFFFFF) >> 8) << 8`. */
  dataSourceKey?: number;
}

export interface RecordReadOptions extends RecordLayout, ByteSourceOptions {
  /** Stop after this many records. */
  maxRecords?: number;
}

/** Monolith rejects this size as a marker of garbage. */
const SIZE_SENTINEL = 0xfefefefe;
/** Largest payload we accept; anything bigger is taken for a garbage size. */
export const MAX_RECORD_BYTES = 1 << 30;

/** Reads the records of a Monolith PB data file (or stdin with '-') in constant memory. */
export async function* readRecordFile(src: ByteSource, opts: RecordReadOptions = DEFAULT_RECORD_LAYOUT): AsyncGenerator<PbRecord> {
  const file = sourceName(src);
  const reader = new ChunkedReader(openChunks(src, opts));
  const max = opts.maxRecords ?? Infinity;
  let count = 0;
  let recordStart = 0;
  let field = '';

  // Reads one u64 that must fit a JS number; `eofOk` allows a clean end at a record boundary.
  async function u64(name: string, eofOk = false): Promise<number | undefined> {
    field = name;
    if (reader.available < 8 && !(await reader.fill(8))) {
      if (eofOk && reader.available === 0) return undefined;
      throw new TruncatedRecordError(`truncated record (${reader.available} bytes left while reading ${name})`, { file, offset: recordStart, field: name });
    }
    const b = reader.take(8);
    const hi = b.readUInt32LE(4);
    if (hi > 0x1fffff) throw new FormatError(`${name} ${b.readBigUInt64LE(0)} is not a plausible value`, { file, offset: reader.offset - 8, field: name });
    return hi * 2 ** 32 + b.readUInt32LE(0);
  }

  async function bytes(n: number, name: string): Promise<Buffer> {
    if (n > MAX_RECORD_BYTES) throw new FormatError(`${name} of ${n} bytes exceeds ${MAX_RECORD_BYTES}`, { file, offset: reader.offset, field: name });
    if (reader.available < n && !(await reader.fill(n))) {
      throw new TruncatedRecordError(`truncated record: ${name} needs ${n} bytes, ${reader.available} remain`, { file, offset: recordStart, field: name });
    }
    return reader.take(n);
  }

  try {
    while (count < max) {
      recordStart = reader.offset;
      const rec: Partial<PbRecord> = { offset: recordStart };
      let first = true;
      const next = async (name: string) => {
        const v = await u64(name, first);
        first = false;
        return v;
      };
      if (opts.lagrangexHeader) {
        const h = await next('lagrangex_header');
        if (h === undefined) return;
        const low = h % 2 ** 32;
        rec.pbType = low & 0xff;
        rec.dataSourceKey = (low >>> 8) * 256;
      } else {
        let sortIdLen = 0;
        if (opts.kafkaDumpPrefix) {
          const p = await next('kafka_dump_prefix');
          if (p === undefined) return;
          if (p === 0) await u64('kafka_dump_prefix.size');
          else sortIdLen = p;
        }
        if (opts.sortId) {
          if (sortIdLen === 0) {
            const l = await next('sort_id.size');
            if (l === undefined) return;
            sortIdLen = l;
          }
          await bytes(sortIdLen, 'sort_id');
        }
        if (opts.kafkaDump) {
          if ((await next('kafka_dump')) === undefined) return;
        }
      }
      const size = await next('size');
      if (size === undefined) return;
      if (size === SIZE_SENTINEL) throw new FormatError(`size 0xFEFEFEFE is Monolith's garbage marker`, { file, offset: reader.offset - 8, field: 'size' });
      rec.payloadOffset = reader.offset;
      rec.payload = await bytes(size, 'payload');
      count++;
      yield rec as PbRecord;
    }
  } catch (err) {
    if (err instanceof FormatError || !(err instanceof Error)) throw err;
    throw new FormatError(`cannot read record: ${err.message}`, { file, offset: recordStart, field }, { cause: err });
  } finally {
    await reader.close();
  }
}

export function recordFileSource(src: ByteSource, opts: RecordReadOptions = DEFAULT_RECORD_LAYOUT): Observable<PbRecord> {
  return from(readRecordFile(src, opts));
}

export type VariantType = 'instance' | 'example' | 'example_batch';

export interface RecordBatchOptions extends RecordReadOptions {
  variantType: VariantType;
  batchSize: number;
}

/**
 * Groups records the way Monolith's warmup PBReader does: an `example_batch`
 * record is a batch by itself, other variants take `batchSize` records per batch.
 * `maxRecords` caps the rows: at most `floor(maxRecords / batchSize)` batches.
 * A partial last batch is dropped, as in Monolith.
 */
export async function* readRecordBatches(src: ByteSource, opts: RecordBatchOptions): AsyncGenerator<Buffer[]> {
  if (!(opts.batchSize > 0)) throw new ConfigError(`batchSize must be > 0, got ${opts.batchSize}`);
  const maxBatches = opts.maxRecords === undefined ? Infinity : Math.floor(opts.maxRecords / opts.batchSize);
  const perBatch = opts.variantType === 'example_batch' ? 1 : opts.batchSize;
  let batch: Buffer[] = [];
  let batches = 0;
  if (batches >= maxBatches) return;
  for await (const rec of readRecordFile(src, { ...opts, maxRecords: undefined })) {
    batch.push(rec.payload);
    if (batch.length === perBatch) {
      yield batch;
      batch = [];
      if (++batches >= maxBatches) return;
    }
  }
}

/** Java's `String.hashCode()`: `h = 31*h + c` over UTF-16 code units, wrapping at 32 bits. */
export function javaStringHash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(31, h) + s.charCodeAt(i)) | 0;
  return h;
}

/** The 8-byte lagrangex header Monolith's `lg_header(source)` writes: `00 h0 h1 h2 00 00 00 00`. */
export function lgHeader(source?: string): Buffer {
  const out = Buffer.alloc(8);
  if (source) {
    const h = javaStringHash(source) >>> 0;
    out[1] = h & 0xff;
    out[2] = (h >>> 8) & 0xff;
    out[3] = (h >>> 16) & 0xff;
  }
  return out;
}

/** Monolith's `sort_header`: zero-filled sort-id (and kafka) headers. */
export function sortHeader(sortId: boolean, kafkaDump: boolean, kafkaDumpPrefix: boolean): Buffer {
  if (sortId && !kafkaDump && !kafkaDumpPrefix) return Buffer.alloc(8);
  if (sortId && kafkaDump && !kafkaDumpPrefix) return Buffer.alloc(16);
  if (sortId && kafkaDumpPrefix && !kafkaDump) return Buffer.alloc(24);
  if (!sortId && !kafkaDump && !kafkaDumpPrefix) return Buffer.alloc(0);
  throw new ConfigError(`unsupported header: sortId=${sortId}, kafkaDump=${kafkaDump}, kafkaDumpPrefix=${kafkaDumpPrefix}`);
}

/** The layout a reader needs for files written with `header`. */
export function layoutForHeader(opts: { sortId: boolean; kafkaDump?: boolean; kafkaDumpPrefix?: boolean }): RecordLayout {
  if (!opts.sortId) return { lagrangexHeader: true };
  return { sortId: true, kafkaDump: !!opts.kafkaDump, kafkaDumpPrefix: !!opts.kafkaDumpPrefix };
}

/** Writes size-prefixed records, each after a fixed header, atomically. */
export class RecordFileWriter {
  records = 0;
  private constructor(
    private readonly out: AtomicFileWriter,
    private readonly header: Buffer,
  ) {}

  static async open(path: string, header: Uint8Array, opts: AtomicWriterOptions = {}): Promise<RecordFileWriter> {
    return new RecordFileWriter(await AtomicFileWriter.open(path, opts), Buffer.from(header));
  }

  write(payload: Uint8Array): void | Promise<void> {
    this.records++;
    const rec = Buffer.allocUnsafe(this.header.length + 8 + payload.byteLength);
    this.header.copy(rec, 0);
    rec.writeBigUInt64LE(BigInt(payload.byteLength), this.header.length);
    rec.set(payload, this.header.length + 8);
    return this.out.write(rec);
  }

  close(): Promise<void> {
    return this.out.close();
  }

  abort(): Promise<void> {
    return this.out.abort();
  }
}
